"""Amber-form (GAFF2-form) systems as Amber (prmtop + inpcrd) and GROMACS (top + gro) files.

The route is ParmEd's: :func:`~virialff.forcefield.amber_openmm.to_openmm_system` and
:func:`~virialff.forcefield.amber_openmm.openmm_topology` → ``parmed.openmm.load_topology`` →
``Structure.save``. ParmEd reads the ``PeriodicTorsionForce`` rows as dihedrals and marks a row
improper when its third atom is bonded to the other three (as every improper row here is),
and it turns the ``NonbondedForce`` exceptions into its own exclusions (zero) and 1-4
adjustments. An Amber prmtop cannot hold pair-specific 1-4 terms: ParmEd recovers scee and
scnb per dihedral from the ratio of each exception to the plain combined pair (it refuses when
the 1-4 σ is not the combined one, which never happens here). GROMACS topologies get
``gen-pairs = no`` with every 1-4 pair's σ and ε written out, and fudgeQQ = 1/scee (one value for
the whole system, so molecules with different scee cannot be exported to GROMACS).

The files are checked by reading them back (``tests/forcefield/test_amber_form.py``): the same
energy as the OpenMM system to 1e-6 relative. Positions are in Å here; the gro file keeps
GROMACS's 3 decimals in nm (0.005 Å), the inpcrd file 7 decimals in Å. Without a box the
systems have no periodicity (Amber: ``IFBOX = 0``), and the gro file gets the box of the
atoms' extent that ParmEd writes for a structure without one.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from virialff.forcefield.amber_openmm import openmm_topology, to_openmm_system
from virialff.formats.amber_parameters import AmberFormParameters


def parmed_structure(parameters: Sequence[AmberFormParameters], positions_angstrom: np.ndarray,
                     box_angstrom: Sequence[float] | None = None):  # noqa: ANN201 - Structure
    """The ParmEd ``Structure`` of the molecules at ``positions_angstrom`` [A, 3] (Å), with
    the rectangular box ``box_angstrom`` (three edges, Å) or none."""
    import parmed
    from parmed.exceptions import OpenMMWarning

    parameters = list(parameters)
    positions = np.asarray(positions_angstrom, dtype=float)
    n_atoms = sum(m.n_atoms for m in parameters)
    if positions.shape != (n_atoms, 3):
        raise ValueError(f"positions have shape {positions.shape}, the molecules have "
                         f"{n_atoms} atoms")
    # the files hold no cutoff or Ewald settings: the parameters come from the system
    # without a box, and the box is set on the structure
    system = to_openmm_system(parameters)
    topology = openmm_topology(parameters)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OpenMMWarning)  # an unknown term would be lost
        structure = parmed.openmm.load_topology(topology, system, xyz=positions)
    if structure.unknown_functional:
        raise ValueError("ParmEd could not represent every term of the system")
    if box_angstrom is not None:
        structure.box = [*np.asarray(box_angstrom, dtype=float).tolist(), 90.0, 90.0, 90.0]
    return structure


def export_amber(parameters: Sequence[AmberFormParameters], positions_angstrom: np.ndarray,
                 prmtop_path: str | Path, inpcrd_path: str | Path,
                 box_angstrom: Sequence[float] | None = None) -> tuple[Path, Path]:
    """Write an Amber prmtop and inpcrd (ASCII restart) of the molecules; returns the paths."""
    structure = parmed_structure(parameters, positions_angstrom, box_angstrom)
    prmtop_path, inpcrd_path = Path(prmtop_path), Path(inpcrd_path)
    for path in (prmtop_path, inpcrd_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    structure.save(str(prmtop_path), format="amber", overwrite=True)
    structure.save(str(inpcrd_path), format="rst7", overwrite=True)
    return prmtop_path, inpcrd_path


def export_gromacs(parameters: Sequence[AmberFormParameters], positions_angstrom: np.ndarray,
                   top_path: str | Path, gro_path: str | Path,
                   box_angstrom: Sequence[float] | None = None) -> tuple[Path, Path]:
    """Write a GROMACS topology (.top, parameters included) and coordinates (.gro); returns
    the paths. Needs one scee for all molecules (GROMACS's fudgeQQ is global)."""
    parameters = list(parameters)
    scee = {round(float(m.scee), 6) for m in parameters if m.pair14_index.size}
    if len(scee) > 1:
        raise ValueError(f"GROMACS has one Coulomb 1-4 scaling (fudgeQQ); the molecules use "
                         f"scee {sorted(scee)}")
    structure = parmed_structure(parameters, positions_angstrom, box_angstrom)
    top_path, gro_path = Path(top_path), Path(gro_path)
    for path in (top_path, gro_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    structure.save(str(top_path), format="gromacs", overwrite=True)
    structure.save(str(gro_path), format="gro", overwrite=True)
    return top_path, gro_path
