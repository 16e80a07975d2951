"""GFN2-xTB energies with the ``xtb`` program (one process per molecule, via virialff.qc.xtb).

GFN2-xTB: Bannwarth, Ehlert & Grimme, J. Chem. Theory Comput. 15, 1652 (2019).
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import replace
from pathlib import Path

from virialff.evaluate.baselines.base import Baseline, mol_symbols_positions
from virialff.units import HARTREE_TO_KCAL_MOL

KEY = "gfn2_xtb"


class GFN2xTB(Baseline):
    """GFN2-xTB single-point total energies in kcal/mol.

    Args:
        settings: :class:`virialff.qc.xtb.XtbSettings` (executable, threads, timeout);
            ``gfn`` is forced to 2.
        log_path: xtb's output is appended here.
    """

    key = KEY

    def __init__(self, settings=None, log_path: str | Path | None = None) -> None:  # noqa: ANN001
        super().__init__()
        if settings is None:
            raise ValueError("GFN2xTB needs its xtb settings (virialff.qc.xtb.XtbSettings)")
        self.settings = replace(settings, gfn=2)
        self.log_path = log_path

    def available(self) -> tuple[bool, str]:
        try:
            program = shlex.split(self.settings.executable)[0]
        except (ValueError, IndexError):
            return False, f"invalid xtb executable {self.settings.executable!r}"
        if shutil.which(program) is None:
            return False, f"xtb executable {program!r} not found"
        return True, ""

    def _energy_kcal_mol(self, mol) -> float:  # noqa: ANN001
        from virialff.qc.xtb import single_point

        symbols, positions, charge = mol_symbols_positions(mol)
        name = mol.GetProp("_Name") if mol.HasProp("_Name") else "molecule"
        energy = single_point(symbols, positions, charge=charge, settings=self.settings,
                              molecule_id=name or "molecule", log_path=self.log_path)
        return energy * HARTREE_TO_KCAL_MOL

