"""GB-FFs as a benchmark method: Amber-form parameters predicted by a trained network.

GB-FFs (graph-based force fields) predict every parameter of the GAFF2 functional form
(charges, Lennard-Jones σ and ε, bonds, angles, torsions, impropers) from the molecular graph
(:class:`virialff.model.gbffs.GBFFsPredictor`, ``results/models/gbffs.pt``). Energies are
evaluated exactly as GAFF2's (:mod:`.amber_form`: one parameter set per molecule and run, every
fragment of a complex in one OpenMM ``System``), so the two differ only in their parameters.
"""

from __future__ import annotations

from pathlib import Path

from virialff.evaluate.baselines.amber_form import AmberFormBaseline
from virialff.evaluate.baselines.base import load_model_file
from virialff.formats.amber_parameters import AmberFormParameters

KEY = "gbffs"
LABEL = "GB-FFs"


class GBFFs(AmberFormBaseline):
    """GB-FFs total energies (kcal/mol) from a model file, or from a ready predictor.

    Args:
        model_path: ``results/models/gbffs.pt`` (ignored when ``predictor`` is given).
        predictor: an object with ``amber_parameters(mol, molecule_id) ->
            AmberFormParameters`` (a loaded :class:`~virialff.model.gbffs.GBFFsPredictor`).
    """

    key = KEY
    label = LABEL

    def __init__(self, model_path: str | Path | None = None, predictor=None) -> None:  # noqa: ANN001
        super().__init__()
        self.model_path = Path(model_path) if model_path is not None else None
        self.predictor = predictor
        self._reason: str | None = None

    def available(self) -> tuple[bool, str]:
        def load(path):  # noqa: ANN001, ANN202
            import openmm  # noqa: F401

            from virialff.model.gbffs import GBFFsPredictor

            return GBFFsPredictor.load(path, device="cpu")

        return load_model_file(self, load)

    def parametrize(self, mol, molecule_id: str) -> AmberFormParameters:  # noqa: ANN001
        return self.predictor.amber_parameters(mol, molecule_id)
