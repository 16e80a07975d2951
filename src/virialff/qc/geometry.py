"""Geometry stage: one shard of ``results/dataset/molecules.csv`` → GFN2-xTB geometries (SDF).

Demo rows (``source == "demo"``): SMILES → ``Chem.AddHs`` → ETKDG (+ MMFF94) → xtb
optimisation. QMugs rows (``source == "qmugs"``): the conformer SDF at ``source_path`` is
GFN2-xTB already and passes through (its ``GFN2:TOTAL_ENERGY``), unless
``geometry.reoptimize_qmugs`` is true. Output (``docs/data-formats.md``): an SDF with explicit
hydrogens, title and property ``molecule_id``, property ``xtb_energy_hartree``, atom order of the
input, plus a status table. A failing molecule is recorded and the shard goes on.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from virialff.errors import MoleculeRejected
from virialff.qc import xtb
from virialff.qc.status import StatusTable

STAGE = "geometry"
QMUGS_XTB_ENERGY_KEY = "GFN2:TOTAL_ENERGY"


def read_shard_rows(molecules_csv: Path | str, shard: str) -> list[dict[str, str]]:
    """Rows of ``molecules.csv`` whose ``shard`` column equals ``shard`` (file order).

    The column holds shard names (``shard00000``); a bare index (``0``) is accepted too.
    """

    def name(value: str | None) -> str:
        value = (value or "").strip()
        return f"shard{int(value):05d}" if value.isdigit() else value

    with open(molecules_csv, newline="") as handle:
        return [row for row in csv.DictReader(handle) if name(row.get("shard")) == shard]


def _seed_for(row: Mapping[str, str], base_seed: int) -> int:
    # A per-molecule seed that does not depend on shard layout or row order.
    import zlib

    return (int(base_seed) + zlib.crc32(row["molecule_id"].encode())) % (2**31 - 1)


def qmugs_molecule(row: Mapping[str, str]):  # noqa: ANN201 - rdkit Mol
    """Read the QMugs conformer SDF of ``row`` with explicit hydrogens and check it."""
    from rdkit import Chem

    from virialff.chem.graph import check_elements, check_neutral_closed_shell

    molecule_id = row["molecule_id"]
    path = row.get("source_path", "")
    if not path or not Path(path).exists():
        raise MoleculeRejected(molecule_id, "missing_input", f"QMugs SDF {path!r} not found")
    supplier = Chem.SDMolSupplier(str(path), removeHs=False, sanitize=True)
    mol = next(iter(supplier), None)
    if mol is None or mol.GetNumConformers() == 0:
        raise MoleculeRejected(molecule_id, "bad_sdf", f"RDKit cannot read {path}")
    check_elements(mol, molecule_id)
    check_neutral_closed_shell(mol, molecule_id)
    return mol


def build_geometry(
    row: Mapping[str, str],
    settings: xtb.XtbSettings,
    *,
    reoptimize_qmugs: bool = False,
    seed: int = 0,
    embed_max_attempts: int = 10,
    log_path: Path | str | None = None,
):  # noqa: ANN201 - rdkit Mol
    """Geometry of one ``molecules.csv`` row: an RDKit Mol with explicit H and one conformer,
    properties ``molecule_id`` and ``xtb_energy_hartree``. Raises :class:`MoleculeRejected`."""
    from virialff.chem.graph import check_geometry

    molecule_id = row["molecule_id"]
    source = row.get("source", "demo") or "demo"
    if source == "qmugs":
        mol = qmugs_molecule(row)
        optimise = reoptimize_qmugs
        energy = None
        if not optimise and mol.HasProp(QMUGS_XTB_ENERGY_KEY):
            energy = float(mol.GetProp(QMUGS_XTB_ENERGY_KEY))
        origin = "qmugs (GFN2-xTB, reoptimised)" if optimise else "qmugs (GFN2-xTB)"
    else:
        mol = xtb.molecule_from_smiles(row["smiles"], molecule_id, _seed_for(row, seed),
                                       embed_max_attempts)
        optimise, energy = True, None
        origin = f"ETKDG + GFN{settings.gfn}-xTB"
    symbols, positions = xtb.symbols_and_positions(mol)
    charge, unpaired = xtb.formal_charge_and_unpaired(mol)
    if optimise:
        positions, energy = xtb.optimize(symbols, positions, charge=charge, uhf=unpaired,
                                         settings=settings, molecule_id=molecule_id,
                                         log_path=log_path)
        xtb.set_positions(mol, positions)
    elif energy is None:
        energy = xtb.single_point(symbols, positions, charge=charge, uhf=unpaired,
                                  settings=settings, molecule_id=molecule_id, log_path=log_path)
    check_geometry(positions, molecule_id)
    for key in list(mol.GetPropNames()):
        mol.ClearProp(key)
    mol.SetProp("_Name", molecule_id)
    mol.SetProp("molecule_id", molecule_id)
    mol.SetProp("xtb_energy_hartree", f"{energy:.10f}")
    mol.SetProp("geometry_source", origin)
    if row.get("smiles"):
        mol.SetProp("smiles", row["smiles"])
    return mol


def run_geometry_shard(
    molecules_csv: Path | str,
    shard: str,
    output_sdf: Path | str,
    output_status: Path | str,
    geometry_config: Mapping[str, Any],
    seed: int = 0,
    log_path: Path | str | None = None,
) -> StatusTable:
    """Build the geometries of one shard; write ``output_sdf`` and ``output_status``.

    ``geometry_config`` is the ``geometry:`` config section. An empty shard writes an empty SDF
    and a header-only status table. Returns the status table.
    """
    from rdkit import Chem

    settings = xtb.xtb_settings_from_config(geometry_config)
    rows = read_shard_rows(molecules_csv, shard)
    table = StatusTable(STAGE)
    output_sdf = Path(output_sdf)
    output_sdf.parent.mkdir(parents=True, exist_ok=True)
    output_sdf.write_text("")
    writer = Chem.SDWriter(str(output_sdf))
    try:
        for row in rows:
            with table.track(row["molecule_id"]):
                mol = build_geometry(
                    row, settings,
                    reoptimize_qmugs=bool(geometry_config.get("reoptimize_qmugs", False)),
                    seed=seed,
                    embed_max_attempts=int(geometry_config.get("embed_max_attempts", 10)),
                    log_path=log_path,
                )
                writer.write(mol)
                writer.flush()
    finally:
        writer.close()
    table.write(output_status)
    table.append_to_log(log_path, shard)
    return table


def read_geometries(path: Path | str) -> list[Any]:
    """Read a geometry SDF (explicit H kept) → list of RDKit Mols with their properties."""
    from rdkit import Chem

    path = Path(path)
    if path.stat().st_size == 0:
        return []
    supplier = Chem.SDMolSupplier(str(path), removeHs=False, sanitize=True)
    mols = []
    for index, mol in enumerate(supplier):
        if mol is None:
            raise ValueError(f"{path}: record {index} is unreadable")
        mols.append(mol)
    return mols
