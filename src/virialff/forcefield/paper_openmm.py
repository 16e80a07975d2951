"""Export a parametrised molecule or complex to an OpenMM ``System``.

The energy is the same function as :meth:`ParametrizedSystem.energy_and_forces`, written as
OpenMM custom forces (OpenMM works in nm and kJ/mol; the expressions convert, r_Å = 10·r_nm
and 1 kcal/mol = 4.184 kJ/mol):

- force group 0, ``CustomBondForce``: every pair inside a covalent fragment with its own 15
  parameters (332.0637·QiQj, |C0|, |C1| — zero for bonded pairs — and the six Gaussian
  amplitudes and inverse squared widths of E_SR);
- force group 1, ``CustomNonbondedForce``: pairs between fragments, per-particle charge and
  atom type, the type-pair parameters as ``Discrete2DFunction`` tables, the same cutoff and
  switch (OpenMM's switching polynomial is the one virialff uses), and an exclusion for every
  intramolecular pair (they are in group 0);
- force group 2, ``CustomExternalForce`` on atom 0 with a constant expression: E_lin.

A periodic system (``ParametrizedSystem.box_angstrom``) gets the box as the default periodic
box vectors and ``CutoffPeriodic`` pairs between fragments (minimum images, every edge ≥ 2·r_c).
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

from virialff.model.parametrized import ParametrizedSystem
from virialff.model.potential import GAUSSIAN_CENTRES_ANGSTROM, WIDTH_EPSILON_ANGSTROM2
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

KJ_PER_KCAL = 4.184
NM_PER_ANGSTROM = 0.1
#: force groups of the exported system.
INTRAMOLECULAR_GROUP, INTERMOLECULAR_GROUP, CONSTANT_GROUP = 0, 1, 2

#: per Gaussian k: amplitude a_k (kcal/mol) and inverse squared width iw_k = 1/(C² + ε) (1/Å²);
#: multiplying by iw_k is a little cheaper for OpenMM than dividing by the width.
_GAUSSIAN_NAMES = [(f"a{k}", f"iw{k}") for k in range(1, 7)]


def _pair_energy_expression(parameter: dict[str, str]) -> str:
    """kJ/mol expression of E_SR + E_LR (+ the guards' core when ``parameter`` has ``rc`` and
    ``kc``, and their bonded stretch wall with ``rs`` and ``ks``) in r (nm); ``parameter`` maps
    names to expressions."""
    gaussians = " + ".join(
        f"{parameter[a]}*exp(-(rA-{centre!r})^2*{parameter[w]})"
        for (a, w), centre in zip(_GAUSSIAN_NAMES, GAUSSIAN_CENTRES_ANGSTROM, strict=True)
    )
    long_range = f"{parameter['qq']}/rA - {parameter['c6']}/rA^6 + {parameter['c12']}/rA^12"
    core = (f" + {parameter['kc']}*step({parameter['rc']}-rA)*({parameter['rc']}-rA)^3"
            if "rc" in parameter else "")
    if "rs" in parameter:
        core += f" + {parameter['ks']}*step(rA-{parameter['rs']})*(rA-{parameter['rs']})^3"
    return (f"{KJ_PER_KCAL!r}*({gaussians} + {long_range}{core}); "
            f"rA = r*{1 / NM_PER_ANGSTROM!r}")


def _gaussian_columns(parameters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Amplitudes (kcal/mol) and 1/(width² + ε) (1/Å²), each [..., 6], from C [..., 14]."""
    return parameters[..., 2::2], 1.0 / (parameters[..., 3::2] ** 2 + WIDTH_EPSILON_ANGSTROM2)


def to_openmm_system(system: ParametrizedSystem) -> openmm.System:
    """An OpenMM ``System`` with the energy of ``system`` (see module docstring).

    Masses are the standard atomic masses of OpenMM's element table. Only ``total`` models
    give a potential energy to simulate with.
    """
    if system.target != "total":
        raise ValueError(f"OpenMM export needs a 'total' energy model, not '{system.target}'")
    from openmm.app import element as elements

    omm = openmm.System()
    for symbol in system.elements:
        omm.addParticle(elements.Element.getBySymbol(symbol).mass)
    if system.box_angstrom is not None:
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
    table = {"qq": f"{COULOMB_KCAL_MOL_ANGSTROM!r}*q1*q2"}
    table.update({name: f"{name}(type1, type2)" for name in ("c6", "c12")})
    table.update({name: f"{name}(type1, type2)" for pair in _GAUSSIAN_NAMES for name in pair})
    if system.guards is not None:
        radius, strength = system.nonbonded_core
        table.update({"rc": repr(float(radius)), "kc": repr(float(strength))})
    force = openmm.CustomNonbondedForce(_pair_energy_expression(table))
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
        force.addParticle([charge, float(kind)])
    for i, j in zip(*system.intra_pair_index.tolist(), strict=True):
        force.addExclusion(i, j)
    if system.cutoff_angstrom is None:
        force.setNonbondedMethod(openmm.CustomNonbondedForce.NoCutoff)
    else:
        force.setNonbondedMethod(
            openmm.CustomNonbondedForce.CutoffNonPeriodic
            if system.box_angstrom is None
            else openmm.CustomNonbondedForce.CutoffPeriodic
        )
        force.setCutoffDistance(system.cutoff_angstrom * NM_PER_ANGSTROM)
        force.setUseSwitchingFunction(True)
        force.setSwitchingDistance(system.switch_distance_angstrom * NM_PER_ANGSTROM)
    force.setForceGroup(INTERMOLECULAR_GROUP)
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


def export_openmm_xml(
    model_path: str | None,
    input_path: str,
    output_path: str,
    cutoff_angstrom: float | None = None,
    box_angstrom: list[float] | None = None,
) -> ParametrizedSystem:
    """Parametrise the one molecule or complex of an SDF file and write its OpenMM System XML.

    ``model_path`` None: :func:`virialff.model.predictor.load_model`'s default model.
    ``cutoff_angstrom``: None for the default cutoff, 0 for none. ``box_angstrom``: edges [3]
    (Å) of a periodic orthorhombic cell, None for none. Returns the system.
    """
    from pathlib import Path

    from virialff.model.parametrized import DEFAULT_CUTOFF_ANGSTROM
    from virialff.model.predictor import load_model, read_sdf

    predictor = load_model(model_path, device="cpu")
    mols = read_sdf(input_path)
    if len(mols) != 1:
        raise ValueError(
            f"{input_path}: {len(mols)} records; export-openmm takes one molecule or complex "
            "(put the molecules of a complex in one record)"
        )
    if cutoff_angstrom is None:
        cutoff_angstrom = DEFAULT_CUTOFF_ANGSTROM
    system = predictor.parametrize(
        mols[0], cutoff_angstrom=cutoff_angstrom or None, box_angstrom=box_angstrom
    )
    xml = openmm.XmlSerializer.serialize(to_openmm_system(system))
    output = Path(output_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(xml)
    return system
