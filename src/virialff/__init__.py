"""virialff: a two-stage graph neural network force field trained on virial (K·D) descriptors.

Public API:

- :func:`virialff.load_model` loads a trained model file (without a path: the shipped
  reference model of ``models/``) and returns a predictor that gives energies (kcal/mol),
  forces (kcal/mol/Å), atomic charges (e) and pair parameters for any neutral closed-shell
  molecule or complex made of H, C, N, O, F, S, Cl, Br and P.
"""

from __future__ import annotations

from virialff.version import __version__

__all__ = ["__version__", "load_model"]


def load_model(path=None, device=None):  # noqa: ANN001, ANN201 - re-exported, documented there
    """Load a trained virialff model; see :func:`virialff.model.predictor.load_model`."""
    from virialff.model.predictor import load_model as _load_model

    return _load_model(path, device=device)
