"""Geometry stage: one shard of ``results/dataset/molecules.csv`` → GFN2-xTB geometries (SDF).

Demo rows (``source == "demo"``): SMILES → ``Chem.AddHs`` → ETKDG (+ MMFF94) → xtb
optimisation. QMugs rows (``source == "qmugs"``): the conformer SDF at ``source_path`` is
GFN2-xTB already and passes through (its ``GFN2:TOTAL_ENERGY``), unless
``geometry.reoptimize_qmugs`` is true. Reference rows (``source == "reference"``): the cached
GFN2-xTB geometry of ``data/reference/geometries/`` passes through.

After every GFN2-xTB optimisation the bonds are perceived from the new geometry and compared
with the input graph: a changed topology (a proton moved from N to O, a ring opened) fails the
molecule with the reason ``topology_changed``, naming the atoms. Output
(:mod:`virialff.formats.geometry_sdf`): an SDF with explicit hydrogens, the input graph, title
and property ``molecule_id``, property ``xtb_energy_hartree``, plus a status table. A failing
molecule is recorded and the shard goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from virialff.errors import MoleculeRejected
from virialff.formats.geometry_sdf import write_geometry_sdf
from virialff.formats.molecules_csv import read_shard_rows
from virialff.formats.status_table import StatusTable
from virialff.qc import xtb

STAGE = "geometry"
QMUGS_XTB_ENERGY_KEY = "GFN2:TOTAL_ENERGY"
QMUGS_DFT_ENERGY_KEY = "DFT:TOTAL_ENERGY"


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
    reoptimize_qmugs: bool,
    seed: int,
    embed_max_attempts: int,
    log_path: Path | str | None = None,
):  # noqa: ANN201 - rdkit Mol
    """Geometry of one ``molecules.csv`` row: an RDKit Mol with explicit H and one conformer,
    properties ``molecule_id`` and ``xtb_energy_hartree``. Raises :class:`MoleculeRejected`."""
    from virialff.chem.graph import check_geometry
    from virialff.chem.topology import topology_changes

    molecule_id = row["molecule_id"]
    source = row["source"]
    if source == "reference":
        from virialff.data.reference import cached_reference_geometry

        mol = cached_reference_geometry(row)
        check_geometry(mol.GetConformer().GetPositions(), molecule_id)
        return mol
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
        changed = topology_changes(mol, positions)
        if changed:
            raise MoleculeRejected(molecule_id, "topology_changed",
                                   f"the GFN{settings.gfn}-xTB optimisation changed the covalent "
                                   f"graph: {changed}", STAGE)
        xtb.set_positions(mol, positions)
    elif energy is None:
        energy = xtb.single_point(symbols, positions, charge=charge, uhf=unpaired,
                                  settings=settings, molecule_id=molecule_id, log_path=log_path)
    check_geometry(positions, molecule_id)
    qmugs_energy = (mol.GetProp(QMUGS_DFT_ENERGY_KEY)
                    if source == "qmugs" and mol.HasProp(QMUGS_DFT_ENERGY_KEY) else "")
    for key in list(mol.GetPropNames()):
        mol.ClearProp(key)
    if source == "qmugs":  # what the wavefunction source of the descriptor stage needs
        mol.SetProp("chembl_id", row.get("chembl_id", ""))
        mol.SetProp("conf_id", row.get("conf_id", ""))
        if qmugs_energy:
            mol.SetProp("dft_total_energy_hartree", qmugs_energy)
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
    settings: xtb.XtbSettings,
    reoptimize_qmugs: bool,
    embed_max_attempts: int,
    seed: int,
    log_path: Path | str | None = None,
) -> StatusTable:
    """Build the geometries of one shard; write ``output_sdf`` and ``output_status``.

    An empty shard writes an empty SDF and a header-only status table. Returns the table.
    """
    rows = read_shard_rows(molecules_csv, shard)
    table = StatusTable(STAGE)
    mols = []
    for row in rows:
        with table.track(row["molecule_id"]):
            mols.append(build_geometry(row, settings, reoptimize_qmugs=reoptimize_qmugs,
                                       seed=seed, embed_max_attempts=embed_max_attempts,
                                       log_path=log_path))
    write_geometry_sdf(output_sdf, mols)
    table.write(output_status)
    table.append_to_log(log_path, shard)
    return table
