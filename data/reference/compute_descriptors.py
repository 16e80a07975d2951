"""Compute ωB97X-D/def2-SVP K·D descriptors, energies and forces of the reference set, in the
order that teaches the model most per core-hour.

    nice -n 19 python data/reference/compute_descriptors.py [--wait] [--shards ...]

The next unit of work is, in this order:

1. a first-tier geometry shard (``shard00000``-``shard00099``: each molecule's lowest conformer
   and its 500 K snapshot) that is neither cached nor computed: every such shard adds 20 new
   compounds;
2. a molecule shard of ``molecules.csv`` without geometries: GFN2-xTB builds them
   (``build_geometries.build_shard``) and the further conformers move to a second-tier shard
   (:func:`virialff.data.reference.split_geometry_shard`);
3. a second-tier shard (``shard00100`` and up: third and second conformers).

Each shard runs the workflow's descriptor stage (:func:`virialff.qc.descriptors.
run_descriptor_shard`) with the ``descriptors:`` section of ``config/reference.yaml`` (forces
on), keeping Psi4's per-molecule results in ``work/descriptors/{shard}.psi4/``: a worker killed
mid-shard resumes it molecule by molecule. A finished shard is packed into the cache at once
(``pack_cache.pack``, under a lock). Several workers can run at once: each claims its unit
with a ``.claim`` file holding its process id; a claim whose process is gone is taken over.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import gzip
import os
import sys
import time
from pathlib import Path

import yaml

from virialff.config import apply_defaults
from virialff.data.reference import SECOND_TIER_SHARD_OFFSET, split_geometry_shard
from virialff.formats.reference_cache import read_manifest
from virialff.qc.descriptors import run_descriptor_shard
from virialff.qc.psi4_process import Psi4Interrupted

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parents[1] / "config" / "reference.yaml"
sys.path.insert(0, str(HERE))


def descriptor_section() -> dict:
    """The ``descriptors`` section of ``config/reference.yaml`` with the schema's defaults."""
    config = yaml.safe_load(CONFIG.read_text())
    apply_defaults(config)
    return config["descriptors"]


def claim(path: Path) -> bool:
    """Take ``path`` as a claim for this process; a claim of a process that no longer runs
    (a worker killed with its session) is taken over."""
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                pid = int(path.read_text().strip() or 0)
                os.kill(pid, 0)
                return False
            except (ValueError, ProcessLookupError, PermissionError, FileNotFoundError):
                path.unlink(missing_ok=True)
                continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True
    return False


def shard_number(shard: str) -> int:
    return int(shard.removeprefix("shard"))


def next_unit(geometries: Path, out: Path, molecule_shards: list[str],
              only: list[str] | None) -> tuple[str, str] | None:
    """``("dft", shard)``, ``("build", shard)`` or None, in the order of the module docstring."""
    cached = set(read_manifest(HERE)["shards"])
    built = sorted(p.name.removesuffix(".sdf.gz") for p in geometries.glob("*.sdf.gz"))

    def open_dft(shard: str) -> bool:
        return (shard not in cached and not (out / f"{shard}.status.csv").exists()
                and (not only or shard in only))

    first = [s for s in built if shard_number(s) < SECOND_TIER_SHARD_OFFSET and open_dft(s)]
    unbuilt = [s for s in molecule_shards if s not in built and not only]
    second = [s for s in built if shard_number(s) >= SECOND_TIER_SHARD_OFFSET and open_dft(s)]
    for kind, shards in (("dft", first), ("build", unbuilt), ("dft", second)):
        for shard in shards:
            if claim(out / f"{shard}.{kind}.claim"):
                return kind, shard
    return None


def compute(shard: str, geometries: Path, out: Path, section: dict) -> None:
    sdf = out / f"{shard}.sdf"
    sdf.write_bytes(gzip.decompress((geometries / f"{shard}.sdf.gz").read_bytes()))
    start = time.perf_counter()
    table = run_descriptor_shard(sdf, out / f"{shard}.npz", out / f"{shard}.status.csv.tmp",
                                 section, log_path=out / f"{shard}.log",
                                 workdir=out / f"{shard}.psi4")
    (out / f"{shard}.status.csv.tmp").replace(out / f"{shard}.status.csv")
    sdf.unlink()
    print(f"{shard}: {len(table.ok_ids)} ok, {len(table.failed_ids)} failed, "
          f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    from pack_cache import pack

    with open(HERE / "manifest.json.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        pack([shard])


def build(shard: str, rows: list[dict[str, str]], geometries: Path) -> None:
    from build_geometries import build_shard

    start = time.perf_counter()
    build_shard([r for r in rows if r["shard"] == shard], geometries, shard)
    first, second = split_geometry_shard(geometries, shard)
    print(f"{shard}: geometries built in {time.perf_counter() - start:.0f} s "
          f"({first} first tier, {second} second tier)", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geometries", default=str(HERE / "geometries"))
    parser.add_argument("--out", default=str(HERE / "work" / "descriptors"))
    parser.add_argument("--shards", nargs="*", help="only these geometry shards")
    args = parser.parse_args(argv)
    section = descriptor_section()
    geometries, out = Path(args.geometries), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(HERE / "molecules.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    molecule_shards = sorted({row["shard"] for row in rows})
    while (unit := next_unit(geometries, out, molecule_shards, args.shards)) is not None:
        kind, shard = unit
        try:
            if kind == "build":
                build(shard, rows, geometries)
            else:
                compute(shard, geometries, out, section)
        except Psi4Interrupted as error:
            raise SystemExit(f"{shard}: {error}; run again to resume") from None
        finally:
            (out / f"{shard}.{kind}.claim").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
