#!/usr/bin/env python3
"""Regenerate ``data/benchmarks/{s66,base_pairs}/`` from the Psi4 database modules.

Sources (read as text by :mod:`virialff.train.dimer_databases`, the one parser of the Psi4
database modules; never imported, so no Psi4 Python module is needed):

- ``S66.py``: the 66 dimers of Řezáč, Riley & Hobza, J. Chem. Theory Comput. 7, 2427 (2011),
  their CCSD(T)/CBS interaction energies (``BIND``, kcal/mol, negative = bound) and names.
- ``JSCH.py``: Watson–Crick G···C (``JSCH-1``) and A···T (``JSCH-3``) base pairs of
  Jurečka, Šponer, Černý & Hobza, Phys. Chem. Chem. Phys. 8, 1985 (2006).

Every geometry is checked against the nuclear repulsion energy the module itself lists
(``DATA['NUCLEAR REPULSION ENERGY']``) before anything is written.

Sign convention of the written files: ``interaction_energy_kcal_mol = E_A + E_B − E_AB``
(positive = bound, the paper's Eq. 25); the module's own number is kept as
``psi4_bind_kcal_mol`` (= E_AB − E_A − E_B).

Usage::

    python scripts/extract_reference_sets.py [--databases /usr/share/psi4/databases]
                                             [--out data/benchmarks]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

try:
    import virialff  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from virialff.train.dimer_databases import (  # noqa: E402 - the one parser of the modules
    DEFAULT_DATABASES_DIR,
    Fragment,
    nuclear_repulsion_hartree,
    parse_assignments,
    parse_geometries,
    parse_nuclear_repulsion,
    strip_string,
)

DEFAULT_DATABASES = DEFAULT_DATABASES_DIR
BOHR_TO_ANGSTROM = 0.529177210903  # the value Psi4's qcdb uses (CODATA 2018 differs < 1e-9)
NRE_TOLERANCE_HARTREE = 2e-5

#: Base pairs taken from JSCH: key -> (JSCH system number, display name).
BASE_PAIRS = {"A-T": (3, "A–T Watson–Crick"), "G-C": (1, "G–C Watson–Crick")}


def _parse_geometries(text: str) -> dict[int, list[Fragment]]:
    """System number -> fragments (Å) of a module with numbered systems (S66, JSCH)."""
    return {int(key): fragments for key, fragments in parse_geometries(text).items()}


def _xyz_text(system_id: str, name: str, fragments: list[Fragment], source: str) -> str:
    symbols = [s for f in fragments for s in f.symbols]
    xyz = [p for f in fragments for p in f.xyz]
    sizes = ",".join(str(len(f.symbols)) for f in fragments)
    charges = ",".join(str(f.charge) for f in fragments)
    mults = ",".join(str(f.multiplicity) for f in fragments)
    comment = (f'system_id={system_id} name="{name}" fragment_sizes={sizes} '
               f"fragment_charges={charges} fragment_multiplicities={mults} source={source}")
    lines = [str(len(symbols)), comment]
    lines += [f"{s:<2s} {x:14.8f} {y:14.8f} {z:14.8f}"
              for s, (x, y, z) in zip(symbols, xyz, strict=True)]
    return "\n".join(lines) + "\n"


def _csv_text(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _check_nre(label: str, fragments: list[Fragment], expected: float | None) -> float:
    symbols = [s for f in fragments for s in f.symbols]
    xyz = [p for f in fragments for p in f.xyz]
    nre = nuclear_repulsion_hartree(symbols, xyz, BOHR_TO_ANGSTROM)
    if expected is None:
        raise ValueError(f"{label}: no nuclear repulsion energy in the module to check against")
    if abs(nre - expected) > NRE_TOLERANCE_HARTREE:
        raise ValueError(f"{label}: nuclear repulsion {nre:.8f} Eh != module {expected:.8f} Eh")
    return nre


def build_s66(databases: Path) -> dict[str, str]:
    """Relative path -> file text for the S66 set."""
    text = (databases / "S66.py").read_text()
    geoms = _parse_geometries(text)
    binds = parse_assignments(text, "BIND")
    tags = parse_assignments(text, "TAGL")
    nres = parse_nuclear_repulsion(text, "S66")
    if sorted(geoms) != list(range(1, 67)):
        raise ValueError(f"S66.py: expected systems 1..66, found {len(geoms)}")
    files: dict[str, str] = {}
    rows = []
    for number in range(1, 67):
        system_id = f"S66-{number:02d}"
        name = strip_string(tags[str(number)])
        fragments = geoms[number]
        if len(fragments) != 2:
            raise ValueError(f"{system_id}: {len(fragments)} fragments, expected 2")
        nre = _check_nre(system_id, fragments, nres.get(str(number)))
        bind = float(binds[str(number)])
        files[f"s66/geometries/{system_id}.xyz"] = _xyz_text(system_id, name, fragments,
                                                              f"psi4:S66-{number}")
        rows.append([
            system_id, number, name, len(fragments[0].symbols), len(fragments[1].symbols),
            fragments[0].charge, fragments[1].charge,
            f"{-bind:.3f}", f"{bind:.3f}", f"{nre:.8f}", f"geometries/{system_id}.xyz",
        ])
    files["s66/s66.csv"] = _csv_text(
        ["system_id", "index", "name", "n_atoms_a", "n_atoms_b", "charge_a", "charge_b",
         "interaction_energy_kcal_mol", "psi4_bind_kcal_mol", "nuclear_repulsion_hartree",
         "xyz"],
        rows,
    )
    return files


def build_base_pairs(databases: Path) -> dict[str, str]:
    """Relative path -> file text for the Watson–Crick A–T and G–C pairs (JSCH)."""
    text = (databases / "JSCH.py").read_text()
    geoms = _parse_geometries(text)
    binds = parse_assignments(text, "BIND")
    tags = parse_assignments(text, "TAGL")
    nres = parse_nuclear_repulsion(text, "JSCH")
    files: dict[str, str] = {}
    rows = []
    for key, (number, display) in BASE_PAIRS.items():
        fragments = geoms[number]
        source_name = strip_string(tags[str(number)])
        if "WC" not in source_name:
            raise ValueError(f"JSCH-{number} is {source_name!r}, not a Watson–Crick pair")
        mono_a = strip_string(tags[f"{number}-monoA-unCP"]).split(" from ")[0]
        mono_b = strip_string(tags[f"{number}-monoB-unCP"]).split(" from ")[0]
        nre = _check_nre(key, fragments, nres.get(str(number)))
        bind = float(binds[str(number)])
        files[f"base_pairs/{key}.xyz"] = _xyz_text(key, display, fragments, f"psi4:JSCH-{number}")
        rows.append([
            key, display, f"JSCH-{number}", source_name, mono_a, mono_b,
            len(fragments[0].symbols), len(fragments[1].symbols),
            f"{-bind:.2f}", f"{bind:.2f}", f"{nre:.8f}", f"{key}.xyz",
        ])
    files["base_pairs/base_pairs.csv"] = _csv_text(
        ["system_id", "name", "source_system", "source_name", "monomer_a", "monomer_b",
         "n_atoms_a", "n_atoms_b", "jsch_interaction_energy_kcal_mol", "psi4_bind_kcal_mol",
         "nuclear_repulsion_hartree", "xyz"],
        rows,
    )
    return files


def build_all(databases: Path) -> dict[str, str]:
    """Every bundled benchmark file, keyed by path relative to ``data/benchmarks``."""
    return {**build_s66(databases), **build_base_pairs(databases)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", type=Path, default=DEFAULT_DATABASES)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[1] / "data" / "benchmarks")
    args = parser.parse_args(argv)
    if not (args.databases / "S66.py").exists():
        print(f"no Psi4 databases at {args.databases}", file=sys.stderr)
        return 2
    files = build_all(args.databases)
    for rel, content in files.items():
        path = args.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    print(f"wrote {len(files)} files under {args.out} (nuclear repulsion checked for every system)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
