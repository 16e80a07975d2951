"""This model (``virialff.load_model``) as a benchmark method with the baseline interface."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from virialff.evaluate.baselines.base import Baseline, load_model_file

KEY = "virialff"


class VirialFF(Baseline):
    """Energies from a trained model file or from a ready :class:`virialff` ``Predictor``.

    A model read from ``model_path`` is evaluated in float64 (pair energies and their sum per
    molecule); a ``predictor`` given directly is used as it is.

    Args:
        model_path: ``results/models/total.pt`` (ignored when ``predictor`` is given).
        predictor: an object with ``energies_kcal_mol(mols) -> ndarray`` (e.g.
            ``Predictor.untrained()`` in tests).
        batch_size: molecules per ``energies_kcal_mol`` call.
    """

    key = KEY

    def __init__(self, model_path: str | Path | None = None, predictor=None,  # noqa: ANN001
                 batch_size: int = 64) -> None:
        super().__init__()
        self.model_path = Path(model_path) if model_path is not None else None
        self.predictor = predictor
        self.batch_size = batch_size
        self._reason: str | None = None

    def available(self) -> tuple[bool, str]:
        def load(path):  # noqa: ANN001, ANN202
            import torch

            from virialff.model.predictor import load_model

            # float64 at evaluation: relative conformer energies are differences of totals of
            # ~1e5 kcal/mol, which float32 resolves to ~0.01 kcal/mol before the rounding of
            # summing hundreds of pair energies.
            return load_model(path, device="cpu").astype(torch.float64)

        return load_model_file(self, load)

    def _energies_batch(self, mols: list) -> list[tuple[float, str]]:
        out: list[tuple[float, str]] = []
        for start in range(0, len(mols), self.batch_size):
            chunk = mols[start:start + self.batch_size]
            try:
                values = np.asarray(self.predictor.energies_kcal_mol(chunk), dtype=float)
                out += [(float(v), "" if np.isfinite(v) else "non-finite energy") for v in values]
            except Exception:
                # fall back to one molecule at a time so one bad molecule costs only itself
                for mol in chunk:
                    try:
                        value = float(np.asarray(self.predictor.energies_kcal_mol([mol]))[0])
                        out.append((value, ""))
                    except Exception as error:
                        out.append((float("nan"), f"{type(error).__name__}: {error}"))
        return out


def available(model_path: str | Path = "results/models/total.pt") -> tuple[bool, str]:
    """Whether the trained model file exists and loads."""
    return VirialFF(model_path).available()


def energies(mols: list, model_path: str | Path = "results/models/total.pt") -> np.ndarray:
    """[M] total energies in kcal/mol from the trained model."""
    return VirialFF(model_path).energies(mols)
