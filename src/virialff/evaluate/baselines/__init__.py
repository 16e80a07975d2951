"""Benchmarked methods, one module each, all with the interface of :class:`.base.Baseline`.

- :mod:`.virialff_model` (``virialff``): this model, ``virialff.load_model(path)``.
- :mod:`.gfn2_xtb` (``gfn2_xtb``): GFN2-xTB with the xtb program.
- :mod:`.ani` (``ani1x``): ANI-1x from the weights bundled in the torchani 2.2.4 wheel (offline).
- :mod:`.mmff94` (``mmff94``): MMFF94 with RDKit, inter-fragment terms included.
- :mod:`.gaff2` (``gaff2``): GAFF2/AM1-BCC from AmberTools, energies through OpenMM.
- :mod:`.gbffs` (``gbffs``): GB-FFs, Amber-form parameters from ``results/models/gbffs.pt``.

The last two share :mod:`.amber_form` (one parameter set per molecule, complexes as one system).

:func:`make_baseline` builds one from a key and the workflow's options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from virialff.evaluate.baselines.base import Baseline, BaselineUnavailableError
from virialff.evaluate.methods import BENCHMARK_METHODS as METHOD_KEYS  # noqa: E402

__all__ = ["METHOD_KEYS", "Baseline", "BaselineUnavailableError", "make_baseline"]


def make_baseline(key: str, *, model_path: str | Path | None = None, predictor: Any = None,
                  xtb_settings: Any = None, ani_model: str | None = None,
                  log_path: str | Path | None = None, charge_method: str | None = None,
                  amber_timeout_s: float | None = None) -> Baseline:
    """The :class:`Baseline` for ``key`` (one of :data:`METHOD_KEYS`).

    ``ani_model`` (``evaluation.ani.model``) is required for ``ani1x``; ``model_path`` is the
    model file of ``virialff`` and ``gbffs``; ``charge_method`` (``gaff2.charge_method``) and
    ``amber_timeout_s`` (``gaff2.timeout_s``, the limit per AmberTools run) are ``gaff2``'s.
    """
    if key == "virialff":
        from virialff.evaluate.baselines.virialff_model import VirialFF

        return VirialFF(model_path=model_path, predictor=predictor)
    if key == "gfn2_xtb":
        from virialff.evaluate.baselines.gfn2_xtb import GFN2xTB

        return GFN2xTB(settings=xtb_settings, log_path=log_path)
    if key == "ani1x":
        from virialff.evaluate.baselines.ani import ANI

        if ani_model is None:
            raise ValueError("method ani1x needs ani_model (evaluation.ani.model)")
        return ANI(model=ani_model)
    if key == "mmff94":
        from virialff.evaluate.baselines.mmff94 import MMFF94

        return MMFF94()
    if key == "gaff2":
        from virialff.evaluate.baselines.gaff2 import GAFF2

        return GAFF2(timeout_s=amber_timeout_s, charge_method=charge_method)
    if key == "gbffs":
        from virialff.evaluate.baselines.gbffs import GBFFs

        return GBFFs(model_path=model_path, predictor=predictor)
    raise ValueError(f"unknown method {key!r}; expected one of {', '.join(METHOD_KEYS)}")
