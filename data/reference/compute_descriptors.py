"""Compute ωB97X-D/def2-SVP K·D descriptors of the reference geometries, shard by shard.

    python data/reference/compute_descriptors.py [--wait] [--shards ...]

For every ``data/reference/geometries/{shard}.sdf.gz`` without a finished result in
``data/reference/work/descriptors/``, runs the workflow's descriptor stage
(:func:`virialff.qc.descriptors.run_descriptor_shard`, one Psi4 process per shard) with the
``descriptors:`` section of ``config/reference.yaml``. ``--wait`` keeps polling for geometry
shards that are still being built. Several workers can run at once: each claims a shard with a
``{shard}.claim`` file before computing it (``--reverse`` starts from the last shard). Finished
shards are packed into the versioned cache by ``data/reference/pack_cache.py``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import sys
import time
from pathlib import Path

import yaml

from virialff.config import apply_defaults
from virialff.qc.descriptors import run_descriptor_shard

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parents[1] / "config" / "reference.yaml"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geometries", default=str(HERE / "geometries"))
    parser.add_argument("--out", default=str(HERE / "work" / "descriptors"))
    parser.add_argument("--shards", nargs="*")
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("--reverse", action="store_true", help="take the last shards first")
    args = parser.parse_args(argv)
    config = yaml.safe_load(CONFIG.read_text())
    apply_defaults(config)
    section = config["descriptors"]
    geometries, out = Path(args.geometries), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(HERE / "molecules.csv", newline="") as handle:
        n_expected = len({row["shard"] for row in csv.DictReader(handle)})
    while True:
        available = sorted(p.name.removesuffix(".sdf.gz") for p in geometries.glob("*.sdf.gz"))
        todo = [s for s in (args.shards or available) if s in available
                and not (out / f"{s}.status.csv").exists()
                and not (out / f"{s}.claim").exists()]
        if args.reverse:
            todo.reverse()
        if todo:
            shard = todo[0]
            try:
                os.close(os.open(out / f"{shard}.claim", os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                continue
            sdf = out / f"{shard}.sdf"
            sdf.write_bytes(gzip.decompress((geometries / f"{shard}.sdf.gz").read_bytes()))
            start = time.perf_counter()
            table = run_descriptor_shard(sdf, out / f"{shard}.npz",
                                         out / f"{shard}.status.csv.tmp", section,
                                         log_path=out / f"{shard}.log")
            (out / f"{shard}.status.csv.tmp").replace(out / f"{shard}.status.csv")
            sdf.unlink()
            print(f"{shard}: {len(table.ok_ids)} ok, {len(table.failed_ids)} failed, "
                  f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
            continue
        if not args.wait or args.shards or len(available) >= n_expected:
            break
        time.sleep(60)


if __name__ == "__main__":
    main()
