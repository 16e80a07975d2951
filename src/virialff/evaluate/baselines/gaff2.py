"""GAFF2 with AM1-BCC charges (AmberTools) as a benchmark method; energies through OpenMM.

GAFF: J. Wang, R. M. Wolf, J. W. Caldwell, P. A. Kollman, D. A. Case, J. Comput. Chem. 25,
1157 (2004), here its second version GAFF2 (AmberTools); AM1-BCC charges: A. Jakalian,
D. B. Jack, C. I. Bayly, J. Comput. Chem. 23, 1623 (2002). Each molecule is parametrised by
:func:`virialff.forcefield.antechamber.gaff2_parameters` (antechamber: GAFF2 atom types and
AM1-BCC charges from sqm; parmchk2: missing parameters; tleap: the Amber system; ParmEd: read
back), once per molecule and run (see :mod:`.amber_form`), and the energy is that of the OpenMM
``System`` of standard Amber forces built from those parameters
(:func:`virialff.forcefield.amber_openmm.to_openmm_system`).

GAFF2 has atom types for H, C, N, O, F, P, S, Cl, Br and I
(:data:`virialff.forcefield.antechamber.GAFF2_ELEMENTS`); a molecule with any other element is
*not covered* (like ANI-1x and sulfur). A molecule antechamber cannot handle fails with
AmberTools' reason on one line, and the run goes on.
"""

from __future__ import annotations

from pathlib import Path

from virialff.evaluate.baselines.amber_form import AmberFormBaseline
from virialff.evaluate.baselines.base import NotCoveredError
from virialff.formats.amber_parameters import AmberFormParameters

KEY = "gaff2"
LABEL = "GAFF2/AM1-BCC"


class GAFF2(AmberFormBaseline):
    """GAFF2/AM1-BCC total energies (kcal/mol).

    Args:
        timeout_s: limit per AmberTools program run (the workflow's ``gaff2.timeout_s``;
            None: :func:`~virialff.forcefield.antechamber.gaff2_parameters`' own).
        charge_method: antechamber's ``-c`` (the workflow's ``gaff2.charge_method``; None:
            ``gaff2_parameters``' own, AM1-BCC).
        workdir: where AmberTools' files go, one folder per molecule (default: temporary).
    """

    key = KEY
    label = LABEL

    def __init__(self, timeout_s: float | None = None, charge_method: str | None = None,
                 workdir: str | Path | None = None) -> None:
        super().__init__()
        self.options = {key: value for key, value in (("timeout_s", timeout_s),
                                                      ("charge_method", charge_method))
                        if value is not None}
        self.workdir = workdir
        self._reason: str | None = None

    def available(self) -> tuple[bool, str]:
        if self._reason is None:
            try:
                from virialff.forcefield import antechamber

                ok, why = antechamber.available()
                self._reason = "" if ok else why
                if ok:
                    import openmm  # noqa: F401
                    import parmed  # noqa: F401
            except ImportError as error:
                self._reason = f"{error} (GAFF2 needs AmberTools, ParmEd and OpenMM)"
        return not self._reason, self._reason

    def check_covered(self, mol) -> None:  # noqa: ANN001
        from virialff.forcefield.antechamber import GAFF2_ELEMENTS

        outside = sorted({a.GetSymbol() for a in mol.GetAtoms()
                          if a.GetAtomicNum() not in GAFF2_ELEMENTS})
        if outside:
            raise NotCoveredError(LABEL, f"element {', '.join(outside)} (GAFF2 has no atom "
                                         "types for it)")

    def parametrize(self, mol, molecule_id: str) -> AmberFormParameters:  # noqa: ANN001
        from virialff.forcefield.antechamber import gaff2_parameters

        workdir = None
        if self.workdir is not None:
            workdir = Path(self.workdir) / molecule_id.replace("/", "_")
        return gaff2_parameters(mol, molecule_id, workdir=workdir, **self.options)
