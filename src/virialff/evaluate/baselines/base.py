"""The common interface of every benchmarked method.

A method is a :class:`Baseline` with a ``key`` from :data:`virialff.plots.style.METHOD_PALETTE`:

- :meth:`Baseline.available` -> ``(True, "")`` or ``(False, reason)``; a method that is not
  available is reported as ``"not available: <reason>"`` in panels, tables and metrics, and the
  workflow goes on.
- :meth:`Baseline.energies` (RDKit Mols with explicit H and one conformer; a complex is one Mol
  of several fragments) -> ``[M]`` total energies in kcal/mol, NaN where a molecule failed, with
  the failure messages in :attr:`Baseline.messages` ``[M]`` and the outcome of each molecule
  in :attr:`Baseline.statuses` ``[M]``: ``ok``, ``failed``, or ``not_covered`` where the method
  has no parameters for the system (an element, a charge; :class:`NotCoveredError`), which is a
  limit of the method, not a failure of the run.
"""

from __future__ import annotations

import numpy as np


class BaselineUnavailableError(RuntimeError):
    """The method cannot run on this machine; the message says why."""


NOT_COVERED_PREFIX = "not covered by"


class NotCoveredError(ValueError):
    """The method has no parameters for this system (message: "not covered by LABEL: why")."""

    def __init__(self, method_label: str, why: str) -> None:
        super().__init__(f"{NOT_COVERED_PREFIX} {method_label}: {why}")


STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_NOT_COVERED = "not_covered"


class Baseline:
    """Base class: subclasses set :attr:`key` and implement :meth:`_energy_kcal_mol`."""

    key: str = ""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.statuses: list[str] = []

    def available(self) -> tuple[bool, str]:
        """``(True, "")`` when the method can run here, else ``(False, reason)``."""
        return True, ""

    def _energy_kcal_mol(self, mol) -> float:  # noqa: ANN001
        raise NotImplementedError

    def _energies_batch(self, mols: list) -> list[tuple[float, str]]:
        out = []
        for mol in mols:
            try:
                value = float(self._energy_kcal_mol(mol))
                finite = np.isfinite(value)
                out.append((value, "") if finite else (float("nan"), "non-finite energy"))
            except BaselineUnavailableError:
                raise
            except NotCoveredError as error:
                out.append((float("nan"), str(error)))
            except Exception as error:  # one molecule never stops a benchmark
                out.append((float("nan"), f"{type(error).__name__}: {error}"))
        return out

    def energies(self, mols: list) -> np.ndarray:
        """[M] total energies in kcal/mol (NaN: failed; reason in :attr:`messages`).

        Raises:
            BaselineUnavailableError: when :meth:`available` is false.
        """
        ok, reason = self.available()
        if not ok:
            raise BaselineUnavailableError(reason)
        results = self._energies_batch(list(mols))
        self.messages = [message for _, message in results]
        self.statuses = [
            STATUS_NOT_COVERED if message.startswith(NOT_COVERED_PREFIX)
            else STATUS_OK if np.isfinite(value) and not message else STATUS_FAILED
            for value, message in results
        ]
        return np.array([value for value, _ in results], dtype=float)


def mol_symbols_positions(mol) -> tuple[list[str], np.ndarray, int]:  # noqa: ANN001
    """``(symbols [A], positions_angstrom [A, 3], net charge)`` of a Mol's first conformer."""
    symbols = [atom.GetSymbol() for atom in mol.GetAtoms()]
    positions = np.asarray(mol.GetConformer().GetPositions(), dtype=float)
    charge = int(sum(atom.GetFormalCharge() for atom in mol.GetAtoms()))
    return symbols, positions, charge


def load_model_file(method, load) -> tuple[bool, str]:  # noqa: ANN001 - a model-file method
    """``available()`` of a method that predicts from a model file: ``method.predictor``
    loaded once by ``load(method.model_path)``; a missing or unloadable file is remembered
    in ``method._reason`` and reported as ``(False, reason)``, and the run goes on."""
    if method.predictor is not None:
        return True, ""
    if method._reason is not None:  # noqa: SLF001 - the method's own record
        return False, method._reason  # noqa: SLF001
    if method.model_path is None or not method.model_path.exists():
        method._reason = f"model file {method.model_path} not found"  # noqa: SLF001
        return False, method._reason  # noqa: SLF001
    try:
        method.predictor = load(method.model_path)
    except Exception as error:  # noqa: BLE001 - reported, the run goes on
        method._reason = (f"could not load {method.model_path} "  # noqa: SLF001
                          f"({type(error).__name__}: {error})")
        return False, method._reason  # noqa: SLF001
    return True, ""

