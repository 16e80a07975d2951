"""The versioned cache of expensive results: DFT descriptor shards in ``data/reference/``.

Layout of a cache folder::

    manifest.json                    {"format_version", "shards": {shard: entry}}
    descriptors/{shard}.npz          descriptors_npz arrays (+ positions_angstrom), compressed
    descriptors/{shard}.status.csv   every conformer of the shard: ok, or failed with reason

A manifest entry records the SHA-256 of the shard's *inputs* (:func:`input_digest`: molecule
ids, elements, charges, bonds, geometries, method, basis, SCF settings, program and version)
and of its *output* (:func:`output_digest` of the arrays). The descriptor stage computes the
input digest of the shard it is about to run; when the cache holds a shard with that digest it
restores it (after checking the output digest) instead of running Psi4. Any change of method,
basis, convergence, program version or a single coordinate is a different digest: a miss.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from virialff.formats.descriptors_npz import (
    MoleculeDescriptors,
    pack_descriptors,
    unpack_descriptors,
)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Coordinates enter the input digest rounded to this many decimals (Å); geometry SDFs
#: carry 4, so parsing noise never changes a digest while any real change does.
POSITION_DECIMALS = 6
#: SCF settings that can change a converged result (threads, memory, timeouts cannot).
RESULT_SCF_KEYS: tuple[str, ...] = ("scf_type", "e_convergence", "d_convergence")


@dataclass(frozen=True)
class CachedMolecule:
    """What the input digest covers for one molecule."""

    molecule_id: str
    atomic_numbers: tuple[int, ...]
    charge: int
    bonds: tuple[tuple[int, int], ...]
    positions_angstrom: np.ndarray  # [A, 3]


def input_digest(molecules: Sequence[CachedMolecule], method: str, basis: str,
                 scf_settings: Mapping[str, Any], program: str, gradient: bool = False) -> str:
    """SHA-256 of everything a descriptor shard's result depends on (see module docstring).

    ``scf_settings``: the descriptor settings; only :data:`RESULT_SCF_KEYS` enter.
    ``program``: e.g. ``"psi4 1.3.2"``. ``gradient``: the shard carries forces and dipoles
    (it enters only when true, so energy-only digests are those of format version 1).
    """
    payload = {
        "method": method.lower(), "basis": basis.lower(), "program": program,
        "scf": {k: scf_settings.get(k) for k in RESULT_SCF_KEYS},
        "molecules": [
            {"id": m.molecule_id, "z": list(m.atomic_numbers), "charge": int(m.charge),
             "bonds": [list(b) for b in m.bonds],
             "xyz": [f"{v:.{POSITION_DECIMALS}f}" for v in
                     np.round(np.asarray(m.positions_angstrom, float), POSITION_DECIMALS).ravel()]}
            for m in molecules
        ],
    }
    if gradient:
        payload["gradient"] = True
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def output_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``arrays`` (sorted by name)."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{value.dtype.str}:{value.shape};".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def read_manifest(root: str | Path) -> dict:
    """The manifest of a cache folder (an empty one when there is none)."""
    path = Path(root) / MANIFEST
    if not path.exists():
        return {"format_version": FORMAT_VERSION, "shards": {}}
    manifest = json.loads(path.read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: cache format version {manifest.get('format_version')}, "
                         f"expected {FORMAT_VERSION}")
    return manifest


def write_manifest(root: str | Path, manifest: dict) -> Path:
    path = Path(root) / MANIFEST
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def store_shard(root: str | Path, shard: str, digest: str,
                entries: Sequence[MoleculeDescriptors], positions_angstrom: Sequence[np.ndarray],
                method: str, basis: str, status_csv: str | Path,
                extra: Mapping[str, Any] | None = None) -> dict:
    """Add a computed shard to the cache: its arrays (with the positions [A, 3] of each
    molecule), its status table and a manifest entry; returns the entry."""
    root = Path(root)
    folder = root / "descriptors"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = pack_descriptors(entries, method, basis)
    arrays["positions_angstrom"] = (np.concatenate([np.asarray(p, float) for p in
                                                    positions_angstrom])
                                    if positions_angstrom else np.zeros((0, 3)))
    tmp = folder / f"{shard}.npz.tmp"
    with open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    tmp.replace(folder / f"{shard}.npz")
    shutil.copyfile(status_csv, folder / f"{shard}.status.csv")
    manifest = read_manifest(root)
    entry = {
        "input_digest": digest, "output_digest": output_digest(arrays),
        "n_ok": len(entries), "method": method, "basis": basis,
        "engines": sorted({e.engine for e in entries}),
        **dict(extra or {}),
    }
    manifest["shards"][shard] = entry
    write_manifest(root, manifest)
    return entry


def find_shard(root: str | Path, digest: str) -> str | None:
    """The cached shard whose input digest is ``digest``, or ``None``."""
    if root is None or not (Path(root) / MANIFEST).exists():
        return None
    for shard, entry in read_manifest(root)["shards"].items():
        if entry["input_digest"] == digest:
            return shard
    return None


def load_shard(root: str | Path, shard: str) -> tuple[list[MoleculeDescriptors], np.ndarray,
                                                      dict, Path]:
    """``(entries, positions [ΣA, 3], manifest entry, status table path)`` of a cached shard;
    ``ValueError`` when its arrays do not match the output digest of the manifest."""
    root = Path(root)
    entry = read_manifest(root)["shards"][shard]
    path = root / "descriptors" / f"{shard}.npz"
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    if output_digest(arrays) != entry["output_digest"]:
        raise ValueError(f"{path}: contents do not match the output digest recorded in "
                         f"{root / MANIFEST} (the cache file is corrupt or was edited)")
    positions = arrays.pop("positions_angstrom")
    return unpack_descriptors(arrays, str(path)), positions, entry, (
        root / "descriptors" / f"{shard}.status.csv")
