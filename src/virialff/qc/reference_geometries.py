"""Geometries of the reference set: GFN2-xTB conformers and 500 K MD snapshots of one
molecule (the builder behind ``data/reference/build_geometries.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from virialff.formats.geometry_sdf import KIND_MD, KIND_MINIMUM


@dataclass(frozen=True)
class ReferenceGeometrySettings:
    """How the reference conformers and off-equilibrium geometries are made.

    Conformers: ``n_embed`` ETKDG starts → GFN2-xTB → ``energy_window_kcal_mol`` →
    heavy-atom RMSD de-duplication at ``rmsd_threshold_angstrom`` → the
    ``max_conformers`` lowest (QMugs keeps up to 3). Off-equilibrium: for the molecules
    that :func:`wants_md_snapshot` picks (``md_fraction`` of them), the last frame of a
    ``md_time_ps`` GFN2-xTB NVT run at ``md_temperature_k`` from the lowest conformer.
    """

    n_embed: int = 20
    energy_window_kcal_mol: float = 10.0
    rmsd_threshold_angstrom: float = 0.25
    max_conformers: int = 3
    md_fraction: float = 0.4
    md_temperature_k: float = 500.0
    md_time_ps: float = 0.5
    md_step_fs: float = 0.5


def _stable_hash(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode())


def wants_md_snapshot(molecule_id: str, fraction: float) -> bool:
    """Whether ``molecule_id`` gets an off-equilibrium geometry: a hash of the id, so the
    choice does not depend on shard layout or order."""
    return (_stable_hash(molecule_id) % 1000) < round(1000 * fraction)


def reference_geometries(row: dict[str, str], settings: ReferenceGeometrySettings,
                         xtb_settings, log_path=None) -> list:  # noqa: ANN001
    """RDKit Mols (explicit H, one conformer each, the input graph's bonds) for one molecule
    row of ``data/reference/molecules.csv``: its conformers, then an MD snapshot.

    Each Mol carries properties ``molecule_id`` (``{row id}_conf{k:02d}`` or
    ``{row id}_md500k``), ``group_id`` (the row id), ``geometry_kind``, ``xtb_energy_hartree``
    and ``smiles``. Raises :class:`MoleculeRejected` when no conformer survives; an MD run that
    fails or changes the covalent topology only drops the snapshot (recorded in the returned
    Mols' absence and in the log).
    """
    from virialff.chem.rdkit_mol import with_positions
    from virialff.chem.topology import topology_changes
    from virialff.errors import MoleculeRejected
    from virialff.qc import xtb
    from virialff.qc.conformers import fallback_search

    molecule_id = row["molecule_id"]
    mol = xtb.mol_from_smiles(row["smiles"], molecule_id)
    search = fallback_search(
        mol, molecule_id, n_embed=settings.n_embed,
        energy_window_kcal_mol=settings.energy_window_kcal_mol,
        rmsd_threshold_angstrom=settings.rmsd_threshold_angstrom, xtb_settings=xtb_settings,
        seed=_stable_hash(molecule_id) % (2**31 - 1), log_path=log_path)
    out = []

    def record(positions, energy: float, suffix: str, kind: str):  # noqa: ANN001, ANN202
        copy = with_positions(mol, positions)
        name = f"{molecule_id}_{suffix}"
        copy.SetProp("_Name", name)
        copy.SetProp("molecule_id", name)
        copy.SetProp("group_id", molecule_id)
        copy.SetProp("geometry_kind", kind)
        copy.SetProp("xtb_energy_hartree", f"{energy:.10f}")
        copy.SetProp("smiles", row["smiles"])
        return copy

    kept = list(zip(search.positions_angstrom, search.xtb_energies_hartree,
                    strict=True))[: settings.max_conformers]
    for k, (positions, energy) in enumerate(kept):
        out.append(record(positions, energy, f"conf{k:02d}", KIND_MINIMUM))
    if kept and wants_md_snapshot(molecule_id, settings.md_fraction):
        symbols = [a.GetSymbol() for a in mol.GetAtoms()]
        try:
            frames = xtb.molecular_dynamics(
                symbols, kept[0][0], temperature_k=settings.md_temperature_k,
                time_ps=settings.md_time_ps, step_fs=settings.md_step_fs,
                settings=xtb_settings, molecule_id=molecule_id, log_path=log_path)
            snapshot = frames[-1]
            changed = topology_changes(mol, snapshot)
            if changed:
                raise MoleculeRejected(molecule_id, "topology_changed",
                                       f"MD snapshot at {settings.md_temperature_k:g} K: "
                                       f"{changed}")
            energy = xtb.single_point(symbols, snapshot, settings=xtb_settings,
                                      molecule_id=molecule_id, log_path=log_path)
            out.append(record(snapshot, energy, "md500k", KIND_MD))
        except MoleculeRejected as error:
            if log_path is not None:
                with open(log_path, "a") as log:
                    log.write(f"# no MD snapshot: {error}\n")
    return out


