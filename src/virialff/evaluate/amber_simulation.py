"""The simulation check for the force fields of the Amber form: GAFF2/AM1-BCC and GB-FFs.

The same study as for the trained models (:func:`virialff.evaluate.simulation.study_molecule`:
BFGS from the GFN2-xTB minimum, RMSD to it, then Langevin MD at 300 K following every covalent
bond), with the energy and forces of fixed Amber-form parameters
(:class:`virialff.forcefield.amber_system.AmberFormSystem`, numpy, no cut-off) behind the ASE
calculator of the models (:func:`amber_calculator`). GAFF2's parameters are those of the
``gaff2`` stage (``results/gaff2/*.npz``, made at the same GFN2-xTB geometry); GB-FFs' are
predicted from the graph by the model file.

A molecule without parameters (antechamber failed on it, or the model could not predict them)
is listed with the reason under ``failed`` and has no row: the comparison is on the molecules
every method has, and the counts say how many that is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from virialff.formats.amber_parameters import AmberFormParameters


def amber_calculator(parameters: Sequence[AmberFormParameters]):  # noqa: ANN201 - ASE Calculator
    """ASE calculator (eV, eV/Å) of molecules with fixed Amber-form parameters, atoms in the
    order of ``parameters``: :class:`~virialff.forcefield.ase.VirialFFCalculator` driving an
    :class:`~virialff.forcefield.amber_system.AmberFormSystem`."""
    from virialff.forcefield.amber_system import AmberFormSystem
    from virialff.forcefield.ase import VirialFFCalculator

    return VirialFFCalculator(system=AmberFormSystem(list(parameters)))


def bond_index(mol) -> np.ndarray:  # noqa: ANN001 - rdkit Mol
    """[2, B] covalent bonds (i < j) of a Mol's graph."""
    pairs = sorted(tuple(sorted((b.GetBeginAtomIdx(), b.GetEndAtomIdx())))
                   for b in mol.GetBonds())
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2).T


def read_gaff2_parameters(npz_paths: Sequence[str | Path], status_paths: Sequence[str | Path]
                          ) -> dict[str, AmberFormParameters | str]:
    """molecule_id → its parameters from the ``gaff2`` stage's shards, or the one-line reason
    its status table gives for the molecules that failed there."""
    from virialff.formats.amber_parameters import read_amber_parameters
    from virialff.formats.status_table import read_status_tables

    out: dict[str, AmberFormParameters | str] = {
        r.molecule_id: f"gaff2 stage: {r.reason}: {r.message}"
        for r in read_status_tables(status_paths) if r.status != "ok"}
    for path in npz_paths:
        out.update({p.molecule_id: p for p in read_amber_parameters(path)[0]})
    return out


def study_force_field(
    parameters_of: Callable[[str, Any], AmberFormParameters | str],
    chosen: Sequence[str],
    geometries: Mapping[str, Any],
    settings: Mapping[str, Any],
    seed: int,
    log: Callable[[str], None] | None = None,
) -> tuple[list[dict], list[dict]]:
    """Rows of :func:`~virialff.evaluate.simulation.study_molecule` for a force field.

    Args:
        parameters_of: ``(molecule_id, mol) -> AmberFormParameters`` or a string saying why
            there are none (an exception counts as such a reason too).
        chosen: the molecule ids studied, in the order the models' check uses (the seed of the
            molecule at position k is ``seed + k``, as there).
        geometries: molecule_id → RDKit Mol at its GFN2-xTB minimum.
        settings: ``evaluation.simulation``.

    Returns:
        ``(rows, failed)``: one row per molecule with parameters; ``{"molecule", "reason"}``
        for each without.
    """
    from virialff.evaluate.simulation import study_molecule

    rows, failed = [], []
    for index, molecule_id in enumerate(chosen):
        mol = geometries[molecule_id]
        try:
            parameters = parameters_of(molecule_id, mol)
        except Exception as error:  # noqa: BLE001 - this molecule only
            parameters = " ".join(f"{type(error).__name__}: {error}".split())
        if isinstance(parameters, str):
            failed.append({"molecule": molecule_id, "reason": parameters})
            if log:
                log(f"{molecule_id}: no parameters ({parameters})")
            continue
        rows.append(study_molecule(None, molecule_id, mol, settings, seed=seed + index,
                                   calculator=amber_calculator([parameters]),
                                   bond_index=bond_index(mol)))
    return rows, failed
