"""Prediction API: energies, forces, charges and pair parameters from a trained model file.

Usage::

    import virialff
    predictor = virialff.load_model("results/models/total.pt")
    prediction = predictor.predict(mol)          # RDKit Mol with explicit Hs and a conformer
    prediction.energy_kcal_mol, prediction.forces_kcal_mol_angstrom

A molecule may be a complex of several fragments: each fragment's parameters come from its own
covalent graph and every inter-fragment pair is non-bonded.

Model files: :mod:`virialff.formats.model_file`. Every problem with a model file, an input
molecule or the device raises ``FileNotFoundError`` or ``ValueError`` with one line naming the
item and the cause.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from virialff.chem.elements import SUPPORTED_ELEMENTS, UnsupportedElementError
from virialff.chem.graph import check_explicit_hydrogens, collate, graph_from_rdkit
from virialff.errors import MoleculeRejected
from virialff.formats.model_file import model_payload, read_model_file, write_model_file
from virialff.model.device import select_device
from virialff.model.potential_model import (
    SMALL_MODEL_CONFIG,
    TARGETS,
    PotentialModel,
    build_potential_model,
    potential_model_from_payload,
)


@dataclass
class Prediction:
    """Prediction for one molecule or complex (A atoms, P pairs i < j).

    ``forces_kcal_mol_angstrom`` = −∇E (autograd); ``pair_parameters`` are C0..C13 (see
    :mod:`virialff.model.potential`); ``energy_kcal_mol`` is the model's target energy (total
    energy E, or the kinetic energy T for a kinetic model).
    """

    energy_kcal_mol: float
    forces_kcal_mol_angstrom: np.ndarray  # [A, 3]
    charges_e: np.ndarray  # [A]
    pair_index: np.ndarray  # [2, P]
    pair_bonded: np.ndarray  # [P] bool
    pair_parameters: np.ndarray  # [P, 14]
    elements: list[str]


def _mol_label(mol, index: int) -> str:  # noqa: ANN001
    if mol is not None and mol.HasProp("_Name") and mol.GetProp("_Name").strip():
        return mol.GetProp("_Name").strip()
    return f"molecule {index}"


def graphs_from_mols(mols: list) -> list:
    """Featurise RDKit molecules; rejection reasons become a clean :class:`ValueError`."""
    graphs = []
    for index, mol in enumerate(mols):
        label = _mol_label(mol, index)
        if mol is None:
            raise ValueError(f"{label}: could not be read")
        try:
            check_explicit_hydrogens(mol, label)
            graphs.append(graph_from_rdkit(mol, label))
        except MoleculeRejected as error:
            raise ValueError(f"cannot predict {label}: {error.reason}: {error.detail}") from None
        except UnsupportedElementError as error:
            raise ValueError(f"cannot predict {label}: {error}") from None
    return graphs


class Predictor:
    """A stage-2 model ready for prediction (see module docstring)."""

    def __init__(
        self, model: PotentialModel, metadata: dict, device: str | torch.device | None = None
    ) -> None:
        self.device = select_device(device)
        self.model = model.to(self.device).eval()
        self.metadata = metadata
        self.target: str = model.target
        self.dtype = next(self.model.parameters()).dtype

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path, device: str | torch.device | None = None) -> Predictor:
        """Load a ``total``/``kinetic`` model file (see module docstring)."""
        device = select_device(device)
        payload = read_model_file(path)
        if payload["kind"] != "potential":
            raise ValueError(
                f"{path} is a stage-1 '{payload['kind']}' model; predictions need a "
                "stage-2 model (results/models/total.pt or kinetic.pt)"
            )
        model = potential_model_from_payload(payload, str(path))
        metadata = {k: v for k, v in payload.items() if k != "state_dict"}
        metadata["path"] = str(path)
        return cls(model, metadata, device)

    @classmethod
    def untrained(
        cls, target: str = "total", model_config: dict | None = None, seed: int = 0
    ) -> Predictor:
        """Random weights (small sizes by default), for tests and examples."""
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
        config = deepcopy(model_config or SMALL_MODEL_CONFIG)
        config.setdefault("pretrained_embeddings", True)
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        model = build_potential_model(config, target, bool(config["pretrained_embeddings"]))
        torch.random.set_rng_state(generator_state)
        metadata = model_payload(model, config, kind="potential", target=target)
        metadata.pop("state_dict")
        return cls(model, metadata, device="cpu")

    def astype(self, dtype: torch.dtype) -> Predictor:
        """Cast the model (e.g. to ``torch.float64`` for finite-difference checks); returns self."""
        self.model = self.model.to(dtype)
        self.dtype = dtype
        return self

    def save(self, path: str | Path) -> None:
        """Write this predictor's model as a model file (:mod:`virialff.formats.model_file`)."""
        payload = dict(self.metadata)
        payload.pop("path", None)
        payload["state_dict"] = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        write_model_file(path, payload)

    # -- prediction --------------------------------------------------------------------
    def _run(self, mols: list, forces: bool) -> tuple[list, object, dict]:
        graphs = graphs_from_mols(mols)
        batch = collate(graphs, dtype=self.dtype).to(self.device)
        positions = batch.positions_angstrom.clone().requires_grad_(forces)
        with torch.set_grad_enabled(forces):
            out = self.model(batch, positions_angstrom=positions)
            if forces:
                (gradient,) = torch.autograd.grad(out["energy_kcal_mol"].sum(), positions)
                out["forces"] = -gradient
        return graphs, batch, out

    def predict_many(self, mols: list) -> list[Prediction]:
        """Energies, forces, charges and pair parameters of many molecules, batched."""
        if not mols:
            return []
        graphs, batch, out = self._run(list(mols), forces=True)
        atom_ptr = batch.atom_ptr.tolist()
        pair_ptr = batch.pair_ptr.tolist()
        energy = out["energy_kcal_mol"].detach().cpu().numpy().astype(np.float64)
        forces = out["forces"].detach().cpu().numpy().astype(np.float64)
        charges = out["charges_e"].detach().cpu().numpy().astype(np.float64)
        params = out["pair_parameters"].detach().cpu().numpy().astype(np.float64)
        pair_index = batch.pair_index.cpu().numpy()
        bonded = (batch.pair_type > 0).cpu().numpy()
        predictions = []
        for m, graph in enumerate(graphs):
            a0, a1 = atom_ptr[m], atom_ptr[m + 1]
            p0, p1 = pair_ptr[m], pair_ptr[m + 1]
            predictions.append(
                Prediction(
                    energy_kcal_mol=float(energy[m]),
                    forces_kcal_mol_angstrom=forces[a0:a1],
                    charges_e=charges[a0:a1],
                    pair_index=pair_index[:, p0:p1] - a0,
                    pair_bonded=bonded[p0:p1],
                    pair_parameters=params[p0:p1],
                    elements=[SUPPORTED_ELEMENTS[int(i)] for i in graph.element_index],
                )
            )
        return predictions

    def predict(self, mol) -> Prediction:  # noqa: ANN001 - rdkit Mol
        """Prediction for one RDKit molecule (explicit hydrogens, one conformer)."""
        return self.predict_many([mol])[0]

    def parametrize(self, mol, **options):  # noqa: ANN001, ANN003, ANN201 - rdkit Mol
        """Charges and pair parameters of ``mol`` computed once, as a
        :class:`~virialff.forcefield.paper_system.ParametrizedSystem` whose ``energy_and_forces``
        needs no network call. ``options``: ``cutoff_angstrom``, ``switch_distance_angstrom``,
        ``embedding_tolerance``, ``box_angstrom``, ``name`` (see
        :func:`virialff.model.parametrized.parametrize`).
        """
        from virialff.model.parametrized import parametrize

        return parametrize(self, mol, **options)

    def energies_kcal_mol(self, mols: list) -> np.ndarray:
        """Energies [M] (kcal/mol) of many molecules, batched, without forces."""
        if not mols:
            return np.zeros(0)
        _, _, out = self._run(list(mols), forces=False)
        return out["energy_kcal_mol"].detach().cpu().numpy().astype(np.float64)

    def predict_xyz(self, path: str | Path, charge: int = 0) -> list[Prediction]:
        """Predictions for every structure of an XYZ file (bonds perceived by RDKit)."""
        return self.predict_many(read_xyz(path, charge=charge))

    def predict_sdf(self, path: str | Path) -> list[Prediction]:
        """Predictions for every record of an SDF file."""
        return self.predict_many(read_sdf(path))


#: The shipped reference models (``models/``, with their model card), used when no path is
#: given: trained on the reference set (``config/reference.yaml``).
SHIPPED_MODELS: dict[str, Path] = {
    target: Path(__file__).resolve().parents[3] / "models" / f"reference_{target}.pt"
    for target in ("total", "kinetic")
}


def default_model_path(target: str = "total") -> Path:
    """The shipped reference model of ``target``; ``FileNotFoundError`` when this installation
    does not hold it (it lives in the repository's ``models/``)."""
    path = SHIPPED_MODELS[target]
    if not path.exists():
        raise FileNotFoundError(f"no model path given, and the shipped reference model {path} "
                                "is not in this installation: pass a model file")
    return path


def load_model(path: str | Path | None = None,
               device: str | torch.device | None = None) -> Predictor:
    """Load a stage-2 model file (``results/models/{total,kinetic}.pt``) as a :class:`Predictor`;
    without ``path``, the shipped reference total-energy model (:data:`SHIPPED_MODELS`)."""
    return Predictor.from_file(default_model_path() if path is None else path, device=device)


# -- readers ---------------------------------------------------------------------------
def read_sdf(path: str | Path) -> list:
    """Every record of an SDF file as an RDKit Mol with explicit hydrogens kept."""
    from rdkit import Chem

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file {path} does not exist")
    supplier = Chem.SDMolSupplier(str(path), removeHs=False)
    mols = []
    for index, mol in enumerate(supplier):
        if mol is None:
            raise ValueError(f"{path}: record {index + 1} could not be parsed")
        mols.append(mol)
    if not mols:
        raise ValueError(f"{path}: no molecules found")
    return mols


def read_xyz(path: str | Path, charge: int = 0) -> list:
    """Every structure of a (multi-frame) XYZ file, bonds and bond orders perceived by RDKit
    (``rdDetermineBonds``) for the total ``charge``."""
    from virialff.chem.rdkit_mol import mol_from_positions
    from virialff.formats.xyz import read_xyz as read_xyz_frames

    path = Path(path)
    frames = read_xyz_frames(path)
    if not frames:
        raise ValueError(f"{path}: no structures found")
    mols = []
    for index, frame in enumerate(frames):
        try:
            mol = mol_from_positions(frame.symbols, frame.positions_angstrom, charge)
        except ValueError as error:
            raise ValueError(f"{path}: structure at line {frame.line}: {error}") from None
        mol.SetProp("_Name", frame.comment or f"{path.stem}_{index}")
        mols.append(mol)
    return mols


def read_molecules(path: str | Path, charge: int = 0) -> list:
    """SDF (``.sdf``, ``.mol``) or XYZ (``.xyz``) file → list of RDKit Mols."""
    suffix = Path(path).suffix.lower()
    if suffix in (".sdf", ".mol", ".sd"):
        return read_sdf(path)
    if suffix == ".xyz":
        return read_xyz(path, charge=charge)
    raise ValueError(f"unsupported input format {suffix!r}: use .sdf or .xyz")
