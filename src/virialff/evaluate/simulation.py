"""Does a trained model hold molecules together? Minima against GFN2-xTB, and MD at 300 K.

For each molecule, starting at its GFN2-xTB minimum (the geometry of the workflow):

1. a virialff minimum: ASE BFGS (fmax :data:`FMAX_EV_ANGSTROM`, at most
   :data:`MAX_BFGS_STEPS` steps) with :class:`virialff.ase.VirialFFCalculator`; reported: the
   largest force at the start (a model whose force there is already below fmax is flat, and its
   RMSD of 0 proves nothing), the steps, and the all-atom RMSD to the GFN2-xTB minimum after
   optimal superposition (Kabsch); goal ≤ :data:`RMSD_GOAL_ANGSTROM`;
2. Langevin dynamics (``md_time_ps`` at ``temperature_k``, ``timestep_fs``, friction
   :data:`FRICTION_PER_FS`) from the virialff minimum (or from the GFN2-xTB minimum when the
   optimisation failed): the largest change of any covalent bond length; a bond stretched by
   more than :data:`BROKEN_BOND_ANGSTROM` counts as broken.

A model that pulls two atoms closer than 0.5 Å is stopped there by the potential's own check;
the row records the message. Used by the ``simulation_stability`` rule
(``results/metrics/simulation.json``, paper section 3.9) and ``benchmarks/md_stability.py``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from virialff.evaluate.metrics import json_ready  # noqa: F401 - re-exported for callers

RMSD_GOAL_ANGSTROM = 0.1
FMAX_EV_ANGSTROM = 0.01
MAX_BFGS_STEPS = 2000
BROKEN_BOND_ANGSTROM = 0.5
FRICTION_PER_FS = 0.01
#: bond lengths are sampled every this many MD steps.
RECORD_EVERY_STEPS = 10


def kabsch_rmsd(first: np.ndarray, second: np.ndarray) -> float:
    """RMSD (Å) of two [A, 3] geometries (Å) of the same atoms after optimal rotation."""
    a = first - first.mean(axis=0)
    b = second - second.mean(axis=0)
    u, _, vt = np.linalg.svd(a.T @ b)
    sign = np.sign(np.linalg.det(u @ vt))
    rotation = u @ np.diag([1.0, 1.0, sign]) @ vt
    return float(np.sqrt(((a @ rotation - b) ** 2).sum(axis=1).mean()))


def study_molecule(
    predictor,  # noqa: ANN001 - virialff.model.predictor.Predictor (total energy)
    name: str,
    mol,  # noqa: ANN001 - RDKit Mol at its GFN2-xTB minimum, explicit hydrogens
    settings: Mapping[str, Any],
    seed: int,
) -> dict:
    """One row of the study (see the module docstring). ``settings``: ``md_time_ps``,
    ``temperature_k``, ``timestep_fs`` (the schema's ``evaluation.simulation``)."""
    from ase import units
    from ase.constraints import FixCom
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta
    from ase.optimize import BFGS

    from virialff.ase import EV_PER_KCAL_MOL, VirialFFCalculator, atoms_from_rdkit

    reference = mol.GetConformer().GetPositions()
    atoms = atoms_from_rdkit(mol)
    calculator = VirialFFCalculator(predictor, mol)
    atoms.calc = calculator
    start_force = float(np.linalg.norm(atoms.get_forces(), axis=1).max())
    optimiser = BFGS(atoms, logfile=None)
    t0 = time.perf_counter()
    optimise_error = None
    try:
        converged = bool(optimiser.run(fmax=FMAX_EV_ANGSTROM, steps=MAX_BFGS_STEPS))
    except ValueError as error:  # the model pulled two atoms onto each other
        converged, optimise_error = False, str(error)
    optimise_s = time.perf_counter() - t0
    rmsd = float("nan") if optimise_error else kabsch_rmsd(atoms.positions, reference)
    if optimise_error:  # the MD then starts from the GFN2-xTB minimum
        atoms.positions = reference
    minimum = atoms.positions.copy()

    temperature = float(settings["temperature_k"])
    timestep_fs = float(settings["timestep_fs"])
    n_steps = int(round(1000.0 * float(settings["md_time_ps"]) / timestep_fs))
    bonds = calculator.system.bond_index
    rest = np.linalg.norm(minimum[bonds[0]] - minimum[bonds[1]], axis=1)
    thermalize_momenta(atoms, temperature, rng=np.random.default_rng(seed))
    Stationary(atoms)
    ZeroRotation(atoms)
    atoms.set_constraint(FixCom())
    dynamics = Langevin(
        atoms,
        timestep_fs * units.fs,
        temperature_K=temperature,
        friction=FRICTION_PER_FS / units.fs,
        fixcm=False,
        rng=np.random.default_rng(seed + 1),
    )
    largest = np.zeros(bonds.shape[1])

    def record() -> None:
        lengths = np.linalg.norm(atoms.positions[bonds[0]] - atoms.positions[bonds[1]], axis=1)
        np.maximum(largest, np.abs(lengths - rest), out=largest)

    dynamics.attach(record, interval=RECORD_EVERY_STEPS)
    t0 = time.perf_counter()
    md_error = None
    try:
        dynamics.run(n_steps)
    except ValueError as error:  # e.g. atoms collapsing onto each other
        md_error = str(error)
    md_s = time.perf_counter() - t0
    worst = int(np.argmax(largest)) if largest.size else 0
    symbols = atoms.get_chemical_symbols()
    i, j = bonds[:, worst] if largest.size else (0, 0)
    return {
        "molecule": name,
        "n_atoms": len(atoms),
        "start_max_force_kcal_mol_angstrom": start_force / EV_PER_KCAL_MOL,
        "flat_at_xtb_minimum": start_force < FMAX_EV_ANGSTROM,
        "bfgs_converged": converged,
        "bfgs_steps": optimiser.nsteps,
        "optimise_s": optimise_s,
        "optimise_error": optimise_error,
        "rmsd_to_xtb_angstrom": rmsd,
        "rmsd_goal_met": bool(rmsd <= RMSD_GOAL_ANGSTROM and not start_force < FMAX_EV_ANGSTROM),
        "md_steps": n_steps,
        "md_max_bond_change_angstrom": float(largest[worst]) if largest.size else 0.0,
        "md_worst_bond": f"{symbols[i]}{i}-{symbols[j]}{j}" if largest.size else "",
        "md_broken_bonds": int((largest > BROKEN_BOND_ANGSTROM).sum()),
        "md_error": md_error,
        "md_s": md_s,
    }


def summarize(rows: Sequence[Mapping[str, Any]]) -> dict:
    """Counts and ranges over the rows of :func:`study_molecule`."""
    n = len(rows)
    finite_rmsd = [
        r["rmsd_to_xtb_angstrom"] for r in rows if np.isfinite(r["rmsd_to_xtb_angstrom"])
    ]
    bond_change = [r["md_max_bond_change_angstrom"] for r in rows]
    broken = [r["md_broken_bonds"] for r in rows]
    return {
        "n_molecules": n,
        "rmsd_goal_angstrom": RMSD_GOAL_ANGSTROM,
        "n_rmsd_goal_met": int(sum(r["rmsd_goal_met"] for r in rows)),
        "n_flat_at_xtb_minimum": int(sum(r["flat_at_xtb_minimum"] for r in rows)),
        "n_bfgs_converged": int(sum(r["bfgs_converged"] for r in rows)),
        "n_optimisation_collapsed": int(sum(bool(r["optimise_error"]) for r in rows)),
        "rmsd_to_xtb_angstrom_max": max(finite_rmsd) if finite_rmsd else None,
        "start_max_force_kcal_mol_angstrom_min": min(
            (r["start_max_force_kcal_mol_angstrom"] for r in rows), default=None
        ),
        "start_max_force_kcal_mol_angstrom_max": max(
            (r["start_max_force_kcal_mol_angstrom"] for r in rows), default=None
        ),
        "broken_bond_angstrom": BROKEN_BOND_ANGSTROM,
        "md_max_bond_change_angstrom_min": min(bond_change, default=None),
        "md_max_bond_change_angstrom_max": max(bond_change, default=None),
        "n_molecules_with_broken_bonds": int(sum(b > 0 for b in broken)),
        "md_broken_bonds_min": min(broken, default=None),
        "md_broken_bonds_max": max(broken, default=None),
        "n_md_stopped": int(sum(bool(r["md_error"]) for r in rows)),
    }
