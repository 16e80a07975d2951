"""Amber-form (GAFF2-form) parameters as an OpenMM ``System`` of standard forces.

:func:`to_openmm_system` builds, for molecules with :class:`AmberFormParameters` (atoms
concatenated in order), the forces Amber's prmtop gives in OpenMM:

- ``HarmonicBondForce`` (OpenMM's E = ½ k' (r − r0)², so k' = 2 k; kJ/mol/nm², nm);
- ``HarmonicAngleForce`` (k' = 2 k, kJ/mol/rad²);
- two ``PeriodicTorsionForce`` objects, proper torsions and impropers (kJ/mol, rad); with
  ``torsions="rb"`` the proper torsions whose every row has a phase of 0 or π (GB-FFs': V1–V4
  on each torsion) become one ``RBTorsionForce`` row per torsion instead (:func:`rb_coefficients`,
  exact: the same energy in a quarter of the rows), the rest stay periodic;
- ``NonbondedForce``: charges (e), σ (nm), ε (kJ/mol) with Lorentz–Berthelot combination;
  explicit exceptions for every 1-2 and 1-3 pair (zero) and every 1-4 pair (q_i q_j/scee,
  σ_ij, ε_ij/scnb); no cutoff without a box, PME (or Ewald) with a rectangular box.

Each term has its own force group (:data:`FORCE_GROUPS`), so :func:`energy_terms` gives the
energies term by term. Masses come from the elements (they do not enter the energy).
Units: every public function takes and returns Å, kcal/mol and kcal/mol/Å;
``1 kcal = 4.184 kJ`` and ``1 nm = 10 Å`` are applied here only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from virialff.chem.valence_terms import valence_terms
from virialff.formats.amber_parameters import AmberFormParameters

KJ_PER_KCAL = 4.184
ANGSTROM_PER_NM = 10.0
#: force group of each term (the non-bonded force holds Lennard-Jones and Coulomb together).
FORCE_GROUPS: dict[str, int] = {"bond": 0, "angle": 1, "torsion": 2, "improper": 3,
                                "nonbonded": 4}
NONBONDED_METHODS: tuple[str, ...] = ("PME", "Ewald", "CutoffPeriodic", "NoCutoff")
#: how proper torsions are written: Amber's Fourier rows, or one Ryckaert–Bellemans row each.
TORSION_FORMS: tuple[str, ...] = ("periodic", "rb")
#: Chebyshev polynomials T_n(x) = cos(n φ) with x = cos φ, coefficients of x^0 … x^5.
_CHEBYSHEV = np.array([[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [-1, 0, 2, 0, 0, 0],
                       [0, -3, 0, 4, 0, 0], [1, 0, -8, 0, 8, 0], [0, 5, 0, -20, 0, 16]],
                      dtype=float)
_PHASE_TOLERANCE_RAD = 1e-10


def rb_coefficients(periodicity: Sequence[int], phase_rad: Sequence[float],
                    k_kcal_mol: Sequence[float]) -> np.ndarray | None:
    """The six Ryckaert–Bellemans coefficients C0…C5 (kcal/mol) of one torsion's Fourier rows,
    or None when a row cannot be written so (n > 5, or a phase other than 0 or π).

    Σ_rows k (1 + cos(nφ − γ)) with γ ∈ {0, π} is Σ k (1 ± T_n(cos φ)), a polynomial of degree
    ≤ 5 in cos φ; OpenMM's RB form is Σ_m C_m (cos ψ)^m with ψ = φ − 180°, so cos ψ = −cos φ
    and C_m = (−1)^m c_m of the polynomial c in cos φ.
    """
    polynomial = np.zeros(6)
    for n, gamma, k in zip(periodicity, phase_rad, k_kcal_mol, strict=True):
        if not 0 <= int(n) <= 5:
            return None
        wrapped = abs(math.remainder(float(gamma), 2.0 * math.pi))
        if wrapped < _PHASE_TOLERANCE_RAD:
            sign = 1.0
        elif abs(wrapped - math.pi) < _PHASE_TOLERANCE_RAD:
            sign = -1.0
        else:
            return None
        polynomial[0] += float(k)
        polynomial += sign * float(k) * _CHEBYSHEV[int(n)]
    return polynomial * (-1.0) ** np.arange(6)


def _check(parameters: Sequence[AmberFormParameters]) -> list[AmberFormParameters]:
    parameters = list(parameters)
    if not parameters:
        raise ValueError("no molecules")
    for molecule in parameters:
        molecule.check()
    return parameters


def _box_vectors(box_angstrom: Sequence[float]):  # noqa: ANN202 - openmm Vec3 triple
    import openmm

    edges = np.asarray(box_angstrom, dtype=float).reshape(-1)
    if edges.shape != (3,) or not np.all(edges > 0):
        raise ValueError(f"box_angstrom must be three positive edges (Å), not {box_angstrom}")
    nm = edges / ANGSTROM_PER_NM
    return (openmm.Vec3(nm[0], 0.0, 0.0), openmm.Vec3(0.0, nm[1], 0.0),
            openmm.Vec3(0.0, 0.0, nm[2]))


def to_openmm_system(parameters: Sequence[AmberFormParameters],
                     box_angstrom: Sequence[float] | None = None, *,
                     cutoff_angstrom: float = 10.0, nonbonded_method: str = "PME",
                     ewald_error_tolerance: float = 1e-6,
                     dispersion_correction: bool = True,
                     torsions: str = "periodic"):  # noqa: ANN201 - openmm.System
    """The OpenMM ``System`` of the molecules ``parameters`` (see the module docstring).

    ``torsions``: "periodic" (Amber's rows, as prmtop has them) or "rb" (one
    ``RBTorsionForce`` row per proper torsion where that is exact; same energy, fewer rows).

    Without ``box_angstrom`` (three edges, Å) the non-bonded force has no cutoff and no
    images, and the cutoff options are ignored. With a box: ``nonbonded_method`` "PME",
    "Ewald" or "CutoffPeriodic" (reaction field), real-space ``cutoff_angstrom``,
    ``ewald_error_tolerance``, and OpenMM's long-range Lennard-Jones ``dispersion_correction``
    (as Amber's default).
    """
    import openmm

    if torsions not in TORSION_FORMS:
        raise ValueError(f"torsions {torsions!r} is not one of {TORSION_FORMS}")
    parameters = _check(parameters)
    system = openmm.System()
    bonds = openmm.HarmonicBondForce()
    angles = openmm.HarmonicAngleForce()
    periodic = openmm.PeriodicTorsionForce()
    rb = openmm.RBTorsionForce()
    impropers = openmm.PeriodicTorsionForce()
    nonbonded = openmm.NonbondedForce()
    for force, group in ((bonds, "bond"), (angles, "angle"), (periodic, "torsion"),
                         (rb, "torsion"), (impropers, "improper"), (nonbonded, "nonbonded")):
        force.setForceGroup(FORCE_GROUPS[group])
    bond_scale = 2.0 * KJ_PER_KCAL * ANGSTROM_PER_NM**2
    offset = 0
    for molecule in parameters:
        masses = _masses(molecule.atomic_numbers)
        for i in range(molecule.n_atoms):
            system.addParticle(masses[i])
            nonbonded.addParticle(float(molecule.charges_e[i]),
                                  float(molecule.sigma_angstrom[i]) / ANGSTROM_PER_NM,
                                  float(molecule.epsilon_kcal_mol[i]) * KJ_PER_KCAL)
        for (i, j), k, r0 in zip(molecule.bond_index.tolist(), molecule.bond_k,
                                 molecule.bond_r0_angstrom, strict=True):
            bonds.addBond(offset + i, offset + j, float(r0) / ANGSTROM_PER_NM,
                          float(k) * bond_scale)
        for (i, j, k), force_k, theta0 in zip(molecule.angle_index.tolist(), molecule.angle_k,
                                              molecule.angle_theta0_rad, strict=True):
            angles.addAngle(offset + i, offset + j, offset + k, float(theta0),
                            2.0 * KJ_PER_KCAL * float(force_k))
        rows = {"torsion": range(len(molecule.torsion_k_kcal_mol)),
                "improper": range(len(molecule.improper_k_kcal_mol))}
        if torsions == "rb":
            rows["torsion"] = _add_rb_torsions(rb, molecule, offset)
        for force, prefix in ((periodic, "torsion"), (impropers, "improper")):
            index = getattr(molecule, f"{prefix}_index")
            periodicity = getattr(molecule, f"{prefix}_periodicity")
            phase = getattr(molecule, f"{prefix}_phase_rad")
            force_k = getattr(molecule, f"{prefix}_k_kcal_mol")
            for row in rows[prefix]:
                i, j, k, ll = (offset + int(a) for a in index[row])
                force.addTorsion(i, j, k, ll, int(periodicity[row]), float(phase[row]),
                                 KJ_PER_KCAL * float(force_k[row]))
        _add_exceptions(nonbonded, molecule, offset)
        offset += molecule.n_atoms
    for force in (bonds, angles, periodic, impropers, nonbonded):
        system.addForce(force)
    if rb.getNumTorsions():
        system.addForce(rb)

    if box_angstrom is None:
        nonbonded.setNonbondedMethod(openmm.NonbondedForce.NoCutoff)
        return system
    if nonbonded_method not in NONBONDED_METHODS:
        raise ValueError(f"nonbonded_method {nonbonded_method!r} is not one of "
                         f"{NONBONDED_METHODS}")
    vectors = _box_vectors(box_angstrom)
    if 2.0 * cutoff_angstrom > min(v[n] for n, v in enumerate(vectors)) * ANGSTROM_PER_NM:
        raise ValueError(f"cutoff {cutoff_angstrom} Å is more than half the smallest box edge "
                         f"({list(box_angstrom)} Å)")
    system.setDefaultPeriodicBoxVectors(*vectors)
    nonbonded.setNonbondedMethod(getattr(openmm.NonbondedForce, nonbonded_method))
    nonbonded.setCutoffDistance(cutoff_angstrom / ANGSTROM_PER_NM)
    nonbonded.setEwaldErrorTolerance(ewald_error_tolerance)
    nonbonded.setUseDispersionCorrection(dispersion_correction)
    return system


def _add_rb_torsions(rb, molecule: AmberFormParameters,  # noqa: ANN001 - RBTorsionForce
                     offset: int) -> list[int]:
    """Add one RB row per proper torsion of ``molecule`` that :func:`rb_coefficients` can
    write; return the indices of the Fourier rows left for the periodic force."""
    by_torsion: dict[tuple[int, ...], list[int]] = {}
    for row, quartet in enumerate(molecule.torsion_index.tolist()):
        by_torsion.setdefault(tuple(quartet), []).append(row)
    left = []
    for quartet, members in by_torsion.items():
        coefficients = rb_coefficients(molecule.torsion_periodicity[members],
                                       molecule.torsion_phase_rad[members],
                                       molecule.torsion_k_kcal_mol[members])
        if coefficients is None:
            left += members
            continue
        rb.addTorsion(*(offset + a for a in quartet), *(KJ_PER_KCAL * coefficients).tolist())
    return sorted(left)


def _masses(atomic_numbers: np.ndarray) -> list[float]:
    from openmm.app import element

    return [element.Element.getByAtomicNumber(int(z)).mass.value_in_unit(
        element.daltons) for z in atomic_numbers]


def _add_exceptions(nonbonded, molecule: AmberFormParameters,  # noqa: ANN001
                    offset: int) -> None:
    """Zero for 1-2 and 1-3 pairs, Amber's scaled interaction for 1-4 pairs."""
    terms = valence_terms(molecule.bond_index, molecule.n_atoms)
    for i, j in terms.excluded_pairs.tolist():
        nonbonded.addException(offset + i, offset + j, 0.0, 1.0, 0.0)
    q, sigma, eps = molecule.charges_e, molecule.sigma_angstrom, molecule.epsilon_kcal_mol
    for i, j in np.sort(molecule.pair14_index, axis=1).tolist():
        nonbonded.addException(
            offset + i, offset + j, float(q[i] * q[j] / molecule.scee),
            float(0.5 * (sigma[i] + sigma[j])) / ANGSTROM_PER_NM,
            float(np.sqrt(eps[i] * eps[j]) / molecule.scnb) * KJ_PER_KCAL)


def openmm_topology(parameters: Sequence[AmberFormParameters],
                    box_angstrom: Sequence[float] | None = None):  # noqa: ANN201 - Topology
    """An OpenMM ``Topology``: one chain, one residue per molecule (named ``MOL``), elements,
    bonds, atom names element+number; atom ``id`` the atom type when there is one (ParmEd's
    exports use it as the type name)."""
    from openmm.app import Topology, element

    parameters = _check(parameters)
    topology = Topology()
    chain = topology.addChain()
    for molecule in parameters:
        residue = topology.addResidue("MOL", chain)
        atoms = []
        counts: dict[str, int] = {}
        for n, z in enumerate(molecule.atomic_numbers.tolist()):
            item = element.Element.getByAtomicNumber(int(z))
            counts[item.symbol] = counts.get(item.symbol, 0) + 1
            atom_type = str(molecule.atom_types[n]) if molecule.atom_types.size else ""
            atoms.append(topology.addAtom(f"{item.symbol}{counts[item.symbol]}", item, residue,
                                          id=atom_type or None))
        for i, j in molecule.bond_index.tolist():
            topology.addBond(atoms[i], atoms[j])
    if box_angstrom is not None:
        topology.setPeriodicBoxVectors(_box_vectors(box_angstrom))
    return topology


def _context(system, positions_angstrom: np.ndarray,  # noqa: ANN001, ANN202
             box_angstrom: Sequence[float] | None):
    import openmm

    positions = np.asarray(positions_angstrom, dtype=float)
    if positions.shape != (system.getNumParticles(), 3):
        raise ValueError(f"positions have shape {positions.shape}, the system has "
                         f"{system.getNumParticles()} atoms")
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))
    if box_angstrom is not None:
        context.setPeriodicBoxVectors(*_box_vectors(box_angstrom))
    context.setPositions(positions / ANGSTROM_PER_NM)
    return context


def energy_and_forces(system, positions_angstrom: np.ndarray,  # noqa: ANN001 - openmm.System
                      box_angstrom: Sequence[float] | None = None) -> tuple[float, np.ndarray]:
    """``(E kcal/mol, F [A, 3] kcal/mol/Å)`` of an OpenMM system on the Reference platform
    (double precision) at ``positions_angstrom`` [A, 3]; ``box_angstrom`` overrides the
    system's default box."""
    import openmm.unit as unit

    state = _context(system, positions_angstrom, box_angstrom).getState(getEnergy=True,
                                                                        getForces=True)
    energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole) / KJ_PER_KCAL
    forces = state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer)
    return float(energy), np.asarray(forces, dtype=float) / (KJ_PER_KCAL * ANGSTROM_PER_NM)


def energy_terms(system, positions_angstrom: np.ndarray,  # noqa: ANN001 - openmm.System
                 box_angstrom: Sequence[float] | None = None) -> dict[str, float]:
    """Energy (kcal/mol) of each force group of :data:`FORCE_GROUPS` of a system made by
    :func:`to_openmm_system`."""
    import openmm.unit as unit

    context = _context(system, positions_angstrom, box_angstrom)
    return {name: context.getState(getEnergy=True, groups={group}).getPotentialEnergy()
            .value_in_unit(unit.kilojoule_per_mole) / KJ_PER_KCAL
            for name, group in FORCE_GROUPS.items()}
