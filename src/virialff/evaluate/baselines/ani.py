"""ANI-2x energies via TorchANI, only where TorchANI imports and its weights are on disk.

TorchANI is an optional dependency (``pip install virialff[ani]``). Its model constructors
download the network weights on first use; on a closed network that fails, so
:meth:`ANI.available` checks, without any download, that the package imports and that the
weights are already present, and otherwise returns the reason. Every panel, table and metrics
entry of ANI then says ``not available: <reason>`` and the rest of the workflow goes on.

ANI-2x covers H, C, N, O, F, S, Cl; a molecule with another element gets NaN with a message.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from virialff.evaluate.baselines.base import Baseline, mol_symbols_positions
from virialff.units import HARTREE_TO_KCAL_MOL

KEY = "ani2x"
ANI2X_ELEMENTS = ("H", "C", "N", "O", "F", "S", "Cl")
ANI1_ELEMENTS = ("H", "C", "N", "O")


def _candidate_weight_dirs(torchani_dir: Path) -> list[Path]:
    """Where TorchANI versions keep downloaded weights (package resources, user data dir)."""
    dirs = [torchani_dir / "resources"]
    home = Path.home()
    dirs += [home / ".local" / "share" / "Torchani", home / ".local" / "share" / "torchani",
             home / ".cache" / "torchani"]
    return dirs


class ANI(Baseline):
    """TorchANI model (``ANI2x``, ``ANI1x`` or ``ANI1ccx``) on CPU."""

    key = KEY

    def __init__(self, model: str = "ANI2x") -> None:
        super().__init__()
        self.model_name = model
        self._model = None
        self._reason: str | None = None

    def available(self) -> tuple[bool, str]:
        if self._model is not None:
            return True, ""
        if self._reason is not None:
            return False, self._reason
        self._reason = self._load()
        return (self._reason is None), (self._reason or "")

    def _load(self) -> str | None:
        spec = importlib.util.find_spec("torchani")
        if spec is None or spec.origin is None:
            return "TorchANI is not installed (optional extra virialff[ani])"
        package_dir = Path(spec.origin).parent
        have_weights = any(
            d.is_dir() and any(p.suffix in (".pt", ".zip") or p.is_dir() for p in d.iterdir())
            for d in _candidate_weight_dirs(package_dir)
        )
        if not have_weights:
            return (f"TorchANI is installed but no {self.model_name} weights are on disk and "
                    "they cannot be downloaded here")
        try:
            import torchani

            self._model = getattr(torchani.models, self.model_name)(periodic_table_index=True)
            self._model.eval()
        except Exception as error:  # a download attempt or a version mismatch
            self._model = None
            return (f"TorchANI could not load {self.model_name} offline "
                    f"({type(error).__name__}: {error})")
        return None

    def _energy_kcal_mol(self, mol) -> float:  # noqa: ANN001
        import torch

        symbols, positions, charge = mol_symbols_positions(mol)
        allowed = ANI2X_ELEMENTS if self.model_name == "ANI2x" else ANI1_ELEMENTS
        missing = sorted(set(symbols) - set(allowed))
        if missing:
            raise ValueError(f"{self.model_name} has no parameters for {', '.join(missing)}")
        if charge:
            raise ValueError("ANI is for neutral molecules")
        numbers = torch.tensor([[a.GetAtomicNum() for a in mol.GetAtoms()]], dtype=torch.long)
        coords = torch.tensor(positions[None], dtype=torch.float32)
        with torch.no_grad():
            energy = self._model((numbers, coords)).energies.item()
        return energy * HARTREE_TO_KCAL_MOL


_DEFAULT = ANI()


def available() -> tuple[bool, str]:
    """Whether ANI-2x can run offline here, and if not, why."""
    return _DEFAULT.available()


def energies(mols: list) -> np.ndarray:
    """[M] ANI-2x total energies in kcal/mol."""
    return _DEFAULT.energies(mols)
