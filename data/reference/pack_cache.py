"""Pack finished descriptor shards of the reference set into its versioned cache.

    python data/reference/pack_cache.py

For every shard computed by ``compute_descriptors.py`` (``work/descriptors/{shard}.npz`` and
``.status.csv``) that the manifest does not hold yet: read its geometries, compute the input
digest exactly as the workflow's descriptor stage does
(:func:`virialff.qc.descriptors.shard_input_digest`, with the ``descriptors`` section of
``config/reference.yaml``), and store the descriptors, positions and status table under
``descriptors/`` with a manifest entry (:mod:`virialff.formats.reference_cache`). Shards written
by the first version of the stage (every pair's KD) are converted to the bonded pairs plus the
non-bonded remainder on the way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml

from virialff.config import apply_defaults
from virialff.formats.descriptors_npz import (
    check_descriptors,
    from_pair_matrix,
    read_descriptors_npz,
)
from virialff.formats.geometry_sdf import read_geometry_sdf
from virialff.formats.reference_cache import read_manifest, store_shard
from virialff.qc.descriptors import engine_program, shard_input_digest

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parents[1] / "config" / "reference.yaml"


def _entries(npz_path: Path, records: dict, program: str) -> list:
    with np.load(npz_path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    if "format_version" in arrays:
        entries, _ = read_descriptors_npz(npz_path)
        return entries
    entries = []  # first format: every pair's KD in numpy.triu_indices order
    atom_ptr, pair_ptr = arrays["atom_ptr"], arrays["pair_ptr"]
    for m, molecule_id in enumerate(str(i) for i in arrays["molecule_id"]):
        record = records[molecule_id]
        entries.append(from_pair_matrix(
            molecule_id, program, arrays["energy_hartree"][m], arrays["kinetic_hartree"][m],
            [a.GetAtomicNum() for a in record.mol.GetAtoms()],
            arrays["kd_atom_hartree"][atom_ptr[m]:atom_ptr[m + 1]],
            arrays["kd_pair_hartree"][pair_ptr[m]:pair_ptr[m + 1]], record.bonds,
            int(arrays["scf_iterations"][m]), float(arrays["wall_s"][m])))
    return entries


def pack(shards: list[str] | None = None) -> None:
    """Store the computed shards (``shards``, default every one) that the manifest lacks."""
    config = yaml.safe_load(CONFIG.read_text())
    apply_defaults(config)
    section = config["descriptors"]
    scf = {k: section[k] for k in ("scf_type", "e_convergence", "d_convergence")}
    program = engine_program(section)
    work = HERE / "work" / "descriptors"
    cached = read_manifest(HERE)["shards"]
    for status_path in sorted(work.glob("shard*.status.csv")):
        shard = status_path.name.removesuffix(".status.csv")
        if shard in cached or (shards is not None and shard not in shards):
            continue
        records = {r.molecule_id: r for r in
                   read_geometry_sdf(HERE / "geometries" / f"{shard}.sdf.gz")}
        entries = _entries(work / f"{shard}.npz", records, program)
        for entry in entries:
            reason, message = check_descriptors(entry)
            if reason:
                raise SystemExit(f"{shard}: {entry.molecule_id}: {reason}: {message}")
        # the digest the workflow computes for the setting the shard was computed with
        gradient = bool(entries) and all(e.has_forces for e in entries)
        digest = shard_input_digest(list(records.values()), section["method"], section["basis"],
                                    scf, program, gradient)
        entry = store_shard(HERE, shard, digest, entries,
                            [records[e.molecule_id].positions_angstrom for e in entries],
                            section["method"], section["basis"], status_path,
                            {"n_geometries": len(records), "gradient": gradient})
        print(f"{shard}: {entry['n_ok']} of {len(records)} conformers cached"
              f"{' with forces' if gradient else ''}", file=sys.stderr)


def main() -> None:
    pack()


if __name__ == "__main__":
    main()
