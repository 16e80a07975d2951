"""PME against Ewald for the Amber-form (GAFF2/AM1-BCC) OpenMM system in a periodic cell.

A cubic cell of 64 ethanol molecules (GAFF2 types and AM1-BCC charges from AmberTools, one
MMFF-optimised conformer; each copy randomly rotated on a 4×4×4 grid, redrawn until no two
atoms of different molecules, periodic images included, are closer than 2 Å), built by
:func:`virialff.forcefield.amber_openmm.to_openmm_system` twice: with PME and with OpenMM's
plain Ewald sum, both at Ewald error tolerance 1e-6 and the same real-space cutoff (every box
edge ≥ 2 · cutoff). Both are evaluated on OpenMM's Reference platform (double precision).
The Lennard-Jones part is the same in both (same cutoff and dispersion correction), so the
difference is in the Coulomb sum; the Coulomb energy is the non-bonded force group minus the
same system without charges. Reported: both energies, the relative difference of the Coulomb
energy (goal ≤ 1e-4, asserted) and of the total energy, the largest force difference relative
to the largest force, PME's parameters and the time of one call of each
(:func:`~virialff.forcefield.amber_openmm.energy_and_forces`, context creation included).

    python benchmarks/periodic_electrostatics.py [--output F] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import openmm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from virialff.forcefield import antechamber  # noqa: E402
from virialff.forcefield.amber_openmm import (  # noqa: E402
    FORCE_GROUPS,
    energy_and_forces,
    energy_terms,
    to_openmm_system,
)

GOAL_RELATIVE = 1e-4
EWALD_ERROR_TOLERANCE = 1e-6
MOLECULE = "CCO"  # ethanol
GRID = 4  # molecules per edge: 64 in all
SPACING_ANGSTROM = 5.5
CUTOFF_ANGSTROM = 10.0  # the box edge (22 Å) is ≥ 2·cutoff
MIN_DISTANCE_ANGSTROM = 2.0
RESULT = REPO / "benchmarks" / "results" / "periodic_electrostatics_amber.json"


def ethanol(gbffs_model: str | None = None):  # noqa: ANN201 - (RDKit Mol, AmberFormParameters)
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.MolFromSmiles(MOLECULE))
    params = AllChem.ETKDGv3()
    params.randomSeed = 11
    AllChem.EmbedMolecule(mol, params)
    AllChem.MMFFOptimizeMolecule(mol)
    if gbffs_model:
        from virialff.model.gbffs import GBFFsPredictor

        parameters = GBFFsPredictor.load(gbffs_model).amber_parameters(mol, "ethanol")
        parameters.extra["source"] = f"GB-FFs {gbffs_model}"
        return mol, parameters
    return mol, antechamber.gaff2_parameters(mol, "ethanol")


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _closest_approach(placed: list[np.ndarray], candidate: np.ndarray, box: np.ndarray) -> float:
    """Smallest minimum-image distance (Å) between ``candidate`` and the molecules placed."""
    if not placed:
        return np.inf
    others = np.concatenate(placed)
    delta = candidate[:, None, :] - others[None, :, :]
    delta -= box * np.round(delta / box)
    return float(np.sqrt((delta**2).sum(-1)).min())


def liquid_cell(x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions [64·A, 3] Å of rotated copies of ``x`` on the grid, and the box edges [3]."""
    box = np.full(3, GRID * SPACING_ANGSTROM)
    centred = x - x.mean(axis=0)
    rng = np.random.default_rng(seed)
    placed: list[np.ndarray] = []
    for index in np.ndindex(GRID, GRID, GRID):
        for _ in range(1000):
            candidate = (centred @ _random_rotation(rng).T
                         + SPACING_ANGSTROM * (np.asarray(index) + 0.5))
            if _closest_approach(placed, candidate, box) >= MIN_DISTANCE_ANGSTROM:
                break
        else:
            raise RuntimeError(f"no orientation at grid point {index} keeps "
                               f"{MIN_DISTANCE_ANGSTROM} Å from its neighbours")
        placed.append(candidate)
    return np.concatenate(placed), box


def _without_charges(system: openmm.System) -> openmm.System:
    copy = openmm.XmlSerializer.clone(system)
    (force,) = [f for f in copy.getForces() if isinstance(f, openmm.NonbondedForce)]
    for i in range(force.getNumParticles()):
        _, sigma, epsilon = force.getParticleParameters(i)
        force.setParticleParameters(i, 0.0, sigma, epsilon)
    for n in range(force.getNumExceptions()):
        i, j, _, sigma, epsilon = force.getExceptionParameters(n)
        force.setExceptionParameters(n, i, j, 0.0, sigma, epsilon)
    return copy


def _timed(system: openmm.System, x: np.ndarray, box: np.ndarray
           ) -> tuple[float, np.ndarray, float]:
    start = time.perf_counter()
    energy, forces = energy_and_forces(system, x, box)
    return energy, forces, time.perf_counter() - start


def _pme_parameters(system: openmm.System, x: np.ndarray) -> dict:
    (force,) = [f for f in system.getForces() if isinstance(f, openmm.NonbondedForce)]
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))
    context.setPositions(x / 10.0)
    alpha, nx, ny, nz = force.getPMEParametersInContext(context)
    return {"alpha_per_nm": float(alpha), "grid": [int(nx), int(ny), int(nz)]}


def compare(seed: int, gbffs_model: str | None = None) -> dict:
    mol, parameters = ethanol(gbffs_model)
    x, box = liquid_cell(mol.GetConformer().GetPositions(), seed)
    molecules = [parameters] * GRID**3
    systems = {method: to_openmm_system(molecules, box, cutoff_angstrom=CUTOFF_ANGSTROM,
                                        nonbonded_method=method,
                                        ewald_error_tolerance=EWALD_ERROR_TOLERANCE)
               for method in ("PME", "Ewald")}
    lennard_jones = energy_terms(_without_charges(systems["PME"]), x, box)["nonbonded"]
    rows = {}
    for method, system in systems.items():
        energy, forces, seconds = _timed(system, x, box)
        nonbonded = energy_terms(system, x, box)["nonbonded"]
        rows[method] = {"energy_kcal_mol": energy, "nonbonded_kcal_mol": nonbonded,
                        "coulomb_kcal_mol": nonbonded - lennard_jones, "call_s": seconds,
                        "forces": forces}
    pme, ewald = rows["PME"], rows["Ewald"]
    coulomb_relative = (abs(pme["coulomb_kcal_mol"] - ewald["coulomb_kcal_mol"])
                        / abs(ewald["coulomb_kcal_mol"]))
    energy_relative = (abs(pme["energy_kcal_mol"] - ewald["energy_kcal_mol"])
                       / abs(ewald["energy_kcal_mol"]))
    force_relative = float(np.abs(pme["forces"] - ewald["forces"]).max()
                           / np.abs(ewald["forces"]).max())
    for row in rows.values():
        del row["forces"]
    return {
        "molecule": MOLECULE,
        "parameters": parameters.extra["source"],
        "gaff2_dat": antechamber.gaff2_version(),
        "n_molecules": GRID**3,
        "n_atoms": int(len(x)),
        "box_angstrom": box.tolist(),
        "cutoff_angstrom": CUTOFF_ANGSTROM,
        "ewald_error_tolerance": EWALD_ERROR_TOLERANCE,
        "closest_intermolecular_distance_angstrom": min(
            _closest_approach([x[:k * parameters.n_atoms], x[(k + 1) * parameters.n_atoms:]],
                              x[k * parameters.n_atoms:(k + 1) * parameters.n_atoms], box)
            for k in range(GRID**3)),
        "net_charge_e": float(sum(m.charges_e.sum() for m in molecules)),
        "lennard_jones_kcal_mol": lennard_jones,
        "pme": pme,
        "ewald": ewald,
        "pme_parameters": _pme_parameters(systems["PME"], x),
        "relative_coulomb_difference": coulomb_relative,
        "relative_energy_difference": energy_relative,
        "relative_force_difference": force_relative,
        "goal_relative": GOAL_RELATIVE,
        "passes": bool(coulomb_relative <= GOAL_RELATIVE),
        "force_groups": FORCE_GROUPS,
        "seed": seed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(RESULT), help="JSON file to write")
    parser.add_argument("--seed", type=int, default=7, help="seed of the orientations")
    parser.add_argument("--gbffs-model", default=None,
                        help="GB-FFs model file: its parameters instead of GAFF2/AM1-BCC")
    args = parser.parse_args(argv)
    ok, why = antechamber.available()
    if not ok:
        print(why, file=sys.stderr)
        return 2
    result = compare(args.seed, args.gbffs_model)
    pme, ewald = result["pme"], result["ewald"]
    print(f"{result['n_molecules']} ethanol ({result['n_atoms']} atoms) in a "
          f"{result['box_angstrom'][0]:g} Å cube, cutoff {CUTOFF_ANGSTROM:g} Å, "
          f"{result['parameters']}; OpenMM {openmm.__version__} Reference platform\n")
    print("| method | total (kcal/mol) | Coulomb (kcal/mol) | call |")
    print("|---|---|---|---|")
    for label, row in (("PME", pme), ("Ewald", ewald)):
        print(f"| {label} (tolerance {EWALD_ERROR_TOLERANCE:g}) | {row['energy_kcal_mol']:.6f} | "
              f"{row['coulomb_kcal_mol']:.6f} | {row['call_s']:.2f} s |")
    print(f"\nrelative difference: Coulomb {result['relative_coulomb_difference']:.2e}, total "
          f"{result['relative_energy_difference']:.2e}, forces "
          f"{result['relative_force_difference']:.2e} (goal for Coulomb ≤ {GOAL_RELATIVE:g}): "
          f"{'pass' if result['passes'] else 'FAIL'}")
    report = {"openmm": openmm.__version__, "ambertools": antechamber.ambertools_version(),
              "machine": platform.processor() or platform.machine(), **result}
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1) + "\n")
    assert result["relative_coulomb_difference"] <= GOAL_RELATIVE, result
    return 0


if __name__ == "__main__":
    sys.exit(main())
