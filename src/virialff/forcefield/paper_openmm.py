"""Export a parametrised molecule or complex (the paper form) to an OpenMM ``System``.

Without a periodic cell the energy is the same function as
:meth:`~virialff.forcefield.paper_system.ParametrizedSystem.energy_and_forces`, written as
OpenMM custom forces (OpenMM works in nm and kJ/mol; the expressions convert, r_Å = 10·r_nm
and 1 kcal/mol = 4.184 kJ/mol):

- force group 0 (:data:`INTRAMOLECULAR_GROUP`), ``CustomBondForce``: every pair inside a
  covalent fragment with its own 15 parameters (332.0637·QiQj, |C0|, |C1| — zero for bonded
  pairs — and the six Gaussian amplitudes and inverse squared widths of E_SR), plus the guards'
  core and stretch wall when the model has guards;
- force group 1 (:data:`INTERMOLECULAR_GROUP`), ``CustomNonbondedForce``: pairs between
  fragments, per-particle charge and atom type, the type-pair parameters as
  ``Discrete2DFunction`` tables, the same cutoff and switch (OpenMM's switching polynomial is
  the one virialff uses), and an exclusion for every intramolecular pair (they are in group 0);
- force group 2 (:data:`CONSTANT_GROUP`), ``CustomExternalForce`` on atom 0 with a constant
  expression: E_lin.

Periodic cells (``ParametrizedSystem.box_angstrom``). The box becomes the default periodic box
vectors, and the Coulomb term between molecules is the Ewald sum, computed with PME:

- force group 3 (:data:`ELECTROSTATICS_GROUP`), ``NonbondedForce`` with ``PME``: the charges
  (e), Lennard-Jones ε = 0 and no dispersion correction, real-space cutoff r_c, error
  tolerance ``ewald_error_tolerance``, and an exception with zero charge product for every
  intramolecular pair, so that each molecule's own Coulomb stays as the model defines it, in
  group 0 (OpenMM removes an excepted pair from the reciprocal sum as well). Every pair between
  two molecules and between a molecule and its own periodic images is in the Ewald sum; a net
  charge is neutralised by a uniform background, as OpenMM does;
- group 1 keeps the rest of the pair terms between molecules (Gaussians, |C0|, |C1|, core),
  minimum images with ``CutoffPeriodic`` and the switch (every edge ≥ 2·r_c).

So in a cell the exported energy differs by design from
:meth:`ParametrizedSystem.energy_and_forces` of ``system.with_box(...)``, whose Coulomb between
molecules is the switched sum truncated at r_c (no Ewald sum, see
:mod:`virialff.forcefield.paper_system`): the two agree in everything but that Coulomb term,
and the Ewald sum is the model's energy of an infinite periodic system. Without a cell nothing
changes: no ``NonbondedForce``, and the export equals the NumPy system.

The intramolecular bonds do not use periodic boundary conditions, as OpenMM keeps molecules
whole during a simulation: give positions with every molecule whole (virialff itself also
accepts wrapped atoms).

Usage::

    system = predictor.parametrize(mol)
    omm_system = to_openmm_system(system)
    xml = openmm.XmlSerializer.serialize(omm_system)

Or from the command line: ``virialff export-openmm INPUT.sdf -o system.xml --model M``.
"""

from __future__ import annotations

import numpy as np
import openmm

from virialff.forcefield.pair_potential import GAUSSIAN_CENTRES_ANGSTROM, WIDTH_EPSILON_ANGSTROM2
from virialff.forcefield.paper_system import ParametrizedSystem
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

KJ_PER_KCAL = 4.184
NM_PER_ANGSTROM = 0.1
#: force groups of the exported system.
INTRAMOLECULAR_GROUP, INTERMOLECULAR_GROUP, CONSTANT_GROUP, ELECTROSTATICS_GROUP = 0, 1, 2, 3
#: OpenMM's Ewald error tolerance for the PME Coulomb of a periodic cell. The Coulomb energy
#: between neutral molecules is a small difference of large terms (each molecule's own Coulomb
#: is in the reciprocal sum and taken out again), so it needs a tighter tolerance than OpenMM's
#: default (5e-4) for PME to be within 1e-4 of OpenMM's Ewald sum at the same real-space cutoff
#: (``benchmarks/periodic_electrostatics_paper.py``, which also shows how far both are from a
#: tighter Ewald sum); pass a larger one to :func:`to_openmm_system` for cheaper dynamics.
EWALD_ERROR_TOLERANCE = 1.0e-6

#: per Gaussian k: amplitude a_k (kcal/mol) and inverse squared width iw_k = 1/(C² + ε) (1/Å²);
#: multiplying by iw_k is a little cheaper for OpenMM than dividing by the width.
_GAUSSIAN_NAMES = [(f"a{k}", f"iw{k}") for k in range(1, 7)]


def _pair_energy_expression(parameter: dict[str, str]) -> str:
    """kJ/mol expression of E_SR + E_LR (+ the guards' core when ``parameter`` has ``rc`` and
    ``kc``, and their bonded stretch wall with ``rs`` and ``ks``) in r (nm); ``parameter`` maps
    names to expressions. Without ``qq`` the Coulomb term is left out (it is then Ewald's)."""
    gaussians = " + ".join(
        f"{parameter[a]}*exp(-(rA-{centre!r})^2*{parameter[w]})"
        for (a, w), centre in zip(_GAUSSIAN_NAMES, GAUSSIAN_CENTRES_ANGSTROM, strict=True)
    )
    long_range = f"{parameter['qq']}/rA - " if "qq" in parameter else "-"
    long_range += f"{parameter['c6']}/rA^6 + {parameter['c12']}/rA^12"
    core = (f" + {parameter['kc']}*step({parameter['rc']}-rA)*({parameter['rc']}-rA)^3"
            if "rc" in parameter else "")
    if "rs" in parameter:
        core += f" + {parameter['ks']}*step(rA-{parameter['rs']})*(rA-{parameter['rs']})^3"
    return (f"{KJ_PER_KCAL!r}*({gaussians} + {long_range}{core}); "
            f"rA = r*{1 / NM_PER_ANGSTROM!r}")


def _gaussian_columns(parameters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Amplitudes (kcal/mol) and 1/(width² + ε) (1/Å²), each [..., 6], from C [..., 14]."""
    return parameters[..., 2::2], 1.0 / (parameters[..., 3::2] ** 2 + WIDTH_EPSILON_ANGSTROM2)


def to_openmm_system(
    system: ParametrizedSystem, ewald_error_tolerance: float = EWALD_ERROR_TOLERANCE
) -> openmm.System:
    """An OpenMM ``System`` with the energy of ``system`` (see the module docstring; in a
    periodic cell the Coulomb term between molecules is the PME Ewald sum with
    ``ewald_error_tolerance``).

    Masses are the standard atomic masses of OpenMM's element table. Only ``total`` models
    give a potential energy to simulate with.
    """
    if system.target != "total":
        raise ValueError(f"OpenMM export needs a 'total' energy model, not '{system.target}'")
    from openmm.app import element as elements

    omm = openmm.System()
    for symbol in system.elements:
        omm.addParticle(elements.Element.getBySymbol(symbol).mass)
    periodic = system.box_angstrom is not None
    if periodic:
        edges = [float(v) * NM_PER_ANGSTROM for v in system.box_angstrom]
        omm.setDefaultPeriodicBoxVectors(
            openmm.Vec3(edges[0], 0, 0), openmm.Vec3(0, edges[1], 0), openmm.Vec3(0, 0, edges[2])
        )
    omm.addForce(_intramolecular_force(system))
    if system.n_fragments > 1:
        omm.addForce(_intermolecular_force(system))
    constant = openmm.CustomExternalForce(repr(system.linear_energy_kcal_mol * KJ_PER_KCAL))
    constant.addParticle(0, [])
    constant.setForceGroup(CONSTANT_GROUP)
    omm.addForce(constant)
    if periodic:
        omm.addForce(_ewald_coulomb_force(system, ewald_error_tolerance))
    return omm


def _intramolecular_force(system: ParametrizedSystem) -> openmm.CustomBondForce:
    names = ["qq", "c6", "c12"] + [name for pair in _GAUSSIAN_NAMES for name in pair]
    if system.guards is not None:
        names += ["rc", "kc", "rs", "ks"]
    force = openmm.CustomBondForce(_pair_energy_expression({n: n for n in names}))
    for name in names:
        force.addPerBondParameter(name)
    first, second = system.intra_pair_index
    nonbonded = system.intra_pair_type == 0
    charges = system.charges_e
    coulomb = np.where(nonbonded, COULOMB_KCAL_MOL_ANGSTROM * charges[first] * charges[second], 0.0)
    c = system.intra_parameters
    c6 = np.where(nonbonded, np.abs(c[:, 0]), 0.0)
    c12 = np.where(nonbonded, np.abs(c[:, 1]), 0.0)
    amplitudes, inverse_widths2 = _gaussian_columns(c)
    core = ([*system.intra_core, *system.intra_stretch] if system.guards is not None else [])
    columns = np.column_stack(
        [coulomb, c6, c12]
        + [x for k in range(6) for x in (amplitudes[:, k], inverse_widths2[:, k])]
        + core
    )
    for i, j, row in zip(first.tolist(), second.tolist(), columns.tolist(), strict=True):
        force.addBond(i, j, row)
    force.setForceGroup(INTRAMOLECULAR_GROUP)
    return force


def _intermolecular_force(system: ParametrizedSystem) -> openmm.CustomNonbondedForce:
    periodic = system.box_angstrom is not None
    table = {} if periodic else {"qq": f"{COULOMB_KCAL_MOL_ANGSTROM!r}*q1*q2"}
    table.update({name: f"{name}(type1, type2)" for name in ("c6", "c12")})
    table.update({name: f"{name}(type1, type2)" for pair in _GAUSSIAN_NAMES for name in pair})
    if system.guards is not None:
        radius, strength = system.nonbonded_core
        table.update({"rc": repr(float(radius)), "kc": repr(float(strength))})
    force = openmm.CustomNonbondedForce(_pair_energy_expression(table))
    if not periodic:
        force.addPerParticleParameter("q")
    force.addPerParticleParameter("type")
    n_types = system.n_types
    t = system.type_parameters
    amplitudes, inverse_widths2 = _gaussian_columns(t)
    tables = {"c6": np.abs(t[:, :, 0]), "c12": np.abs(t[:, :, 1])}
    for k, (a, w) in enumerate(_GAUSSIAN_NAMES):
        tables[a], tables[w] = amplitudes[:, :, k], inverse_widths2[:, :, k]
    for name, values in tables.items():
        # Discrete2DFunction reads values[i + n_types·j] as f(i, j)
        flat = np.asarray(values).flatten(order="F").tolist()
        force.addTabulatedFunction(name, openmm.Discrete2DFunction(n_types, n_types, flat))
    for charge, kind in zip(system.charges_e.tolist(), system.atom_type.tolist(), strict=True):
        force.addParticle([float(kind)] if periodic else [charge, float(kind)])
    for i, j in zip(*system.intra_pair_index.tolist(), strict=True):
        force.addExclusion(i, j)
    if system.cutoff_angstrom is None:
        force.setNonbondedMethod(openmm.CustomNonbondedForce.NoCutoff)
    else:
        force.setNonbondedMethod(
            openmm.CustomNonbondedForce.CutoffPeriodic
            if periodic
            else openmm.CustomNonbondedForce.CutoffNonPeriodic
        )
        force.setCutoffDistance(system.cutoff_angstrom * NM_PER_ANGSTROM)
        force.setUseSwitchingFunction(True)
        force.setSwitchingDistance(system.switch_distance_angstrom * NM_PER_ANGSTROM)
    force.setForceGroup(INTERMOLECULAR_GROUP)
    return force


def _ewald_coulomb_force(
    system: ParametrizedSystem, error_tolerance: float
) -> openmm.NonbondedForce:
    """PME Coulomb of every pair not in one molecule, all periodic images included."""
    force = openmm.NonbondedForce()
    force.setNonbondedMethod(openmm.NonbondedForce.PME)
    force.setCutoffDistance(system.cutoff_angstrom * NM_PER_ANGSTROM)
    force.setEwaldErrorTolerance(error_tolerance)
    force.setUseDispersionCorrection(False)
    force.setUseSwitchingFunction(False)
    for charge in system.charges_e.tolist():
        force.addParticle(charge, 0.1, 0.0)  # σ (nm) is irrelevant with ε = 0
    for i, j in zip(*system.intra_pair_index.tolist(), strict=True):
        force.addException(i, j, 0.0, 0.1, 0.0)
    force.setForceGroup(ELECTROSTATICS_GROUP)
    return force


def energy_and_forces(
    context: openmm.Context, positions_angstrom: np.ndarray, groups: set[int] | None = None
) -> tuple[float, np.ndarray]:
    """Energy (kcal/mol) and forces [A, 3] (kcal/mol/Å) of an OpenMM context at the positions."""
    context.setPositions(np.asarray(positions_angstrom) * NM_PER_ANGSTROM)
    state = context.getState(
        getEnergy=True, getForces=True, groups=groups if groups is not None else -1
    )
    energy = state.getPotentialEnergy().value_in_unit(openmm.unit.kilojoule_per_mole)
    forces = state.getForces(asNumpy=True).value_in_unit(
        openmm.unit.kilojoule_per_mole / openmm.unit.nanometer
    )
    return energy / KJ_PER_KCAL, np.asarray(forces) * NM_PER_ANGSTROM / KJ_PER_KCAL


def write_openmm_xml(system: ParametrizedSystem, output_path: str) -> None:
    """Write the OpenMM ``System`` XML of ``system`` (:func:`to_openmm_system`) to
    ``output_path``, making its folder."""
    from pathlib import Path

    xml = openmm.XmlSerializer.serialize(to_openmm_system(system))
    output = Path(output_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(xml)
