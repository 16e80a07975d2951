"""Prediction API: energies, forces, charges and pair parameters from a trained model file.

Usage::

    import virialff
    predictor = virialff.load_model("results/models/total.pt")
    prediction = predictor.predict(mol)          # RDKit Mol with explicit Hs and a conformer
    prediction.energy_kcal_mol, prediction.forces_kcal_mol_angstrom

A molecule may be a complex of several fragments: each fragment's parameters come from its own
covalent graph and every inter-fragment pair is non-bonded.

Model file (``torch.save`` of a plain dict, loadable with ``weights_only=True``)::

    format: "virialff-model"; version: int; kind: "potential" | "embedding";
    target: "total" | "kinetic" | "kd"; config: {"embedding": {...}, "potential": {...},
    "pretrained_embeddings": bool, "training": {...}}; elements: [str];
    normalisation: {...}; split: {"train"|"val"|"test": [molecule ids]};
    run_name, data_scale, virialff_version; state_dict.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from virialff.chem.elements import SUPPORTED_ELEMENTS, UnsupportedElementError
from virialff.chem.graph import collate, graph_from_rdkit
from virialff.errors import MoleculeRejected
from virialff.model.potential_model import (
    SMALL_MODEL_CONFIG,
    TARGETS,
    PotentialModel,
    build_potential_model,
)

MODEL_FORMAT = "virialff-model"
MODEL_FORMAT_VERSION = 1


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


def select_device(device: str | torch.device | None = None) -> torch.device:
    """``None``/"auto" → CUDA when available else CPU; otherwise ``torch.device(device)``."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


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
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"model file {path} does not exist")
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path} is not a virialff model file")
        if payload.get("kind") != "potential":
            raise ValueError(
                f"{path} is a stage-1 '{payload.get('kind')}' model; predictions need a "
                "stage-2 model (results/models/total.pt or kinetic.pt)"
            )
        config = payload["config"]
        model = build_potential_model(
            config, payload["target"], bool(config.get("pretrained_embeddings", True))
        )
        model.load_state_dict(payload["state_dict"])
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
        config = copy.deepcopy(model_config or SMALL_MODEL_CONFIG)
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
        """Write this predictor's model as a model file (see module docstring)."""
        payload = dict(self.metadata)
        payload.pop("path", None)
        payload["state_dict"] = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        torch.save(payload, path)

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


def load_model(path: str | Path, device: str | torch.device | None = None) -> Predictor:
    """Load a stage-2 model file (``results/models/{total,kinetic}.pt``) as a :class:`Predictor`."""
    return Predictor.from_file(path, device=device)


def model_payload(model: torch.nn.Module, config: dict, kind: str, target: str, **extra) -> dict:  # noqa: ANN003
    """The self-describing dict written to a model file (see module docstring)."""
    from virialff import __version__

    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    normalisation = {
        k: v.tolist() if v.ndim else float(v)
        for k, v in state.items()
        if k in ("element_weights_kcal_mol", "bias_kcal_mol", "scale_kcal_mol")
    }
    payload = {
        "format": MODEL_FORMAT,
        "version": MODEL_FORMAT_VERSION,
        "virialff_version": __version__,
        "kind": kind,
        "target": target,
        "config": copy.deepcopy(config),
        "elements": list(SUPPORTED_ELEMENTS),
        "normalisation": normalisation,
        "split": {},
        "run_name": "untrained",
        "data_scale": "none",
    }
    payload.update(extra)
    payload["state_dict"] = state
    return payload


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
    """Every structure of a (multi-frame) XYZ file, bonds from ``rdDetermineBonds``."""
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file {path} does not exist")
    lines = path.read_text().splitlines()
    mols, start = [], 0
    while start < len(lines):
        if not lines[start].strip():
            start += 1
            continue
        try:
            n_atoms = int(lines[start].split()[0])
        except ValueError:
            raise ValueError(f"{path}: line {start + 1} should hold an atom count") from None
        block = "\n".join(lines[start : start + n_atoms + 2]) + "\n"
        mol = Chem.MolFromXYZBlock(block)
        if mol is None:
            raise ValueError(f"{path}: structure at line {start + 1} could not be parsed")
        title = lines[start + 1].strip() if start + 1 < len(lines) else ""
        mol.SetProp("_Name", title or f"{path.stem}_{len(mols)}")
        try:
            rdDetermineBonds.DetermineBonds(mol, charge=charge)
        except Exception as error:  # noqa: BLE001 - RDKit raises several types
            raise ValueError(f"{path}: could not perceive bonds: {error}") from None
        mols.append(mol)
        start += n_atoms + 2
    if not mols:
        raise ValueError(f"{path}: no structures found")
    return mols


def read_molecules(path: str | Path, charge: int = 0) -> list:
    """SDF (``.sdf``, ``.mol``) or XYZ (``.xyz``) file → list of RDKit Mols."""
    suffix = Path(path).suffix.lower()
    if suffix in (".sdf", ".mol", ".sd"):
        return read_sdf(path)
    if suffix == ".xyz":
        return read_xyz(path, charge=charge)
    raise ValueError(f"unsupported input format {suffix!r}: use .sdf or .xyz")
