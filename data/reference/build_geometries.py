"""Build the GFN2-xTB geometries of the reference set, one shard at a time (resumable).

    python data/reference/build_geometries.py [--shards shard00000 shard00001 ...]

For every shard of ``data/reference/molecules.csv`` that has no
``data/reference/geometries/{shard}.sdf.gz`` yet: up to 3 conformers per molecule (RDKit ETKDG
→ GFN2-xTB → energy window → RMSD de-duplication) plus, for a fixed 40 % of the molecules, one
snapshot of a 500 K GFN2-xTB MD run (:func:`virialff.qc.reference_geometries.reference_geometries`).
Writes the SDF (gzip, no timestamp, so the bytes depend on the content only) and
``{shard}.status.csv`` with every molecule, failed ones with their reason.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
import time
from pathlib import Path

import yaml

from virialff.config import apply_defaults
from virialff.formats.status_table import StatusTable
from virialff.qc.reference_geometries import ReferenceGeometrySettings, reference_geometries
from virialff.qc.xtb import xtb_settings_from_config

HERE = Path(__file__).resolve().parent
SETTINGS = ReferenceGeometrySettings()


def xtb_settings():  # noqa: ANN201 - XtbSettings
    """GFN2-xTB settings of ``config/reference.yaml`` (the schema's defaults where it is
    silent)."""
    config = yaml.safe_load((HERE.parents[1] / "config" / "reference.yaml").read_text())
    apply_defaults(config)
    return xtb_settings_from_config(config["geometry"])


def build_shard(rows: list[dict[str, str]], out_dir: Path, shard: str) -> None:
    from rdkit import Chem

    table = StatusTable("reference_geometry")
    buffer = io.StringIO()
    writer = Chem.SDWriter(buffer)
    log_path = out_dir / f"{shard}.log"
    log_path.unlink(missing_ok=True)
    for row in rows:
        mols: list = []
        with table.track(row["molecule_id"]):
            mols = reference_geometries(row, SETTINGS, xtb_settings(), log_path=log_path)
            for mol in mols:
                writer.write(mol)
        if table.records[-1].status == "ok":
            kinds = [m.GetProp("geometry_kind") for m in mols]
            table.records[-1].message = ", ".join(f"{kinds.count(k)} {k}"
                                                  for k in sorted(set(kinds)))
    writer.close()
    tmp = out_dir / f"{shard}.sdf.gz.tmp"
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                filename="") as handle:
        handle.write(buffer.getvalue().encode())
    table.write(out_dir / f"{shard}.status.csv")
    tmp.replace(out_dir / f"{shard}.sdf.gz")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", default=str(HERE / "molecules.csv"))
    parser.add_argument("--out", default=str(HERE / "geometries"))
    parser.add_argument("--shards", nargs="*", help="default: every shard, in order")
    args = parser.parse_args(argv)
    with open(args.molecules, newline="") as handle:
        rows = list(csv.DictReader(handle))
    shards = args.shards or sorted({r["shard"] for r in rows})
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for shard in shards:
        if (out_dir / f"{shard}.sdf.gz").exists():
            continue
        start = time.perf_counter()
        build_shard([r for r in rows if r["shard"] == shard], out_dir, shard)
        print(f"{shard}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
