"""ANI-1x energies and forces from the weights bundled in the torchani 2.2.4 wheel, offline.

ANI-1x: J. S. Smith, B. Nebgen, N. Lubbers, O. Isayev, A. E. Roitberg, J. Chem. Phys. 148,
241733 (2018), an 8-model ensemble trained on ωB97x/6-31G(d) energies of molecules made of
H, C, N and O; TorchANI: X. Gao et al., J. Chem. Inf. Model. 60, 3408 (2020).

torchani 2.2.4 is the last release whose wheel carries the ANI-1x network files
(``torchani/resources/ani-1x_8x/``); its ``torchani.models.ANI1x()`` and every later release
download weights at run time, which cannot work offline. This module therefore builds the model
itself from those bundled files with torchani's NeuroChem loaders: ``Constants`` (AEV
parameters) → ``AEVComputer``, ``load_model_ensemble`` (the 8 networks) and ``load_sae``
(self-atomic energies), in float64.

ANI-1x covers neutral molecules of H, C, N and O only. Any other element, or a net charge, is
*not covered*: the energy is NaN, the status ``not_covered`` and the message says why; tables
and figures count such systems as "not covered by ANI-1x", never as a number.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np

from virialff.evaluate.baselines.base import Baseline, NotCoveredError, mol_symbols_positions
from virialff.units import HARTREE_TO_KCAL_MOL

KEY = "ani1x"
#: ``evaluation.ani.model`` value; the only model whose weights install offline.
MODEL_NAME = "ANI1x"
LABEL = "ANI-1x"
#: elements of ANI-1x, in the order of its species indices.
ANI1X_ELEMENTS: tuple[str, ...] = ("H", "C", "N", "O")
#: where the bundled files are, relative to the torchani package.
RESOURCE_SUBDIR = Path("resources") / "ani-1x_8x"
CONSTANTS_FILE = "rHCNO-5.2R_16-3.5A_a4-8.params"
SAE_FILE = "sae_linfit.dat"
ENSEMBLE_PREFIX = "train"
ENSEMBLE_SIZE = 8
INSTALL_HINT = "pip install torchani==2.2.4 'setuptools>=77,<81'"


def _import_torchani():  # noqa: ANN202
    """``import torchani`` without its import-time warnings (no CUDA AEV extension,
    ``pkg_resources`` deprecation, optional ``torchani.data`` dependencies)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torchani
        import torchani.neurochem  # noqa: F401

    return torchani


def resource_dir() -> Path | None:
    """``torchani/resources/ani-1x_8x`` of the installed torchani, or None without torchani."""
    spec = importlib.util.find_spec("torchani")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / RESOURCE_SUBDIR


def missing_resources(directory: Path) -> list[str]:
    """Files of the ANI-1x ensemble that are absent from ``directory`` (empty: complete)."""
    needed = [directory / CONSTANTS_FILE, directory / SAE_FILE]
    for index in range(ENSEMBLE_SIZE):
        needed += [directory / f"{ENSEMBLE_PREFIX}{index}" / "networks" / f"ANN-{element}.nnf"
                   for element in ANI1X_ELEMENTS]
    return [str(path.relative_to(directory)) for path in needed if not path.is_file()]


class ANI1xModel:
    """The ANI-1x ensemble built from the bundled NeuroChem files, float64, on CPU.

    Attributes:
        species: element symbols in the order of ANI's species indices (H, C, N, O).
        aev_computer: ``torchani.AEVComputer`` from the constants file.
        ensemble: ``torchani.nn.Ensemble`` of the 8 ``ANIModel`` networks (Hartree).
        self_energies_hartree: element -> self-atomic energy from ``sae_linfit.dat``.
    """

    def __init__(self, directory: Path) -> None:
        import torch

        torchani = _import_torchani()
        neurochem = torchani.neurochem
        constants = neurochem.Constants(str(directory / CONSTANTS_FILE))
        self.species: tuple[str, ...] = tuple(constants.species)
        if self.species != ANI1X_ELEMENTS:
            raise ValueError(f"{directory / CONSTANTS_FILE} lists elements {self.species}, "
                             f"expected {ANI1X_ELEMENTS}")
        self.aev_computer = torchani.AEVComputer(**constants).to(torch.float64)
        self.ensemble = neurochem.load_model_ensemble(
            constants.species, str(directory / ENSEMBLE_PREFIX), ENSEMBLE_SIZE
        ).to(torch.float64).eval()
        shifter, self_energies = neurochem.load_sae(str(directory / SAE_FILE), return_dict=True)
        self.energy_shifter = shifter.to(torch.float64)
        self.self_energies_hartree: dict[str, float] = {k: float(v)
                                                        for k, v in self_energies.items()}
        self.model = torchani.nn.Sequential(self.aev_computer, self.ensemble,
                                            self.energy_shifter)

    def species_indices(self, symbols: list[str]):  # noqa: ANN201 - torch.LongTensor [1, A]
        """[1, A] ANI species indices of element symbols (all must be in :attr:`species`)."""
        import torch

        return torch.tensor([[self.species.index(s) for s in symbols]], dtype=torch.long)

    def energy_and_forces(self, symbols: list[str], positions_angstrom: np.ndarray,
                          forces: bool = True) -> tuple[float, np.ndarray | None]:
        """Total energy (kcal/mol) and forces −∇E ([A, 3] kcal/mol/Å, or None).

        Args:
            symbols: [A] element symbols, each one of H, C, N, O.
            positions_angstrom: [A, 3] Cartesian coordinates in Å.
        """
        import torch

        species = self.species_indices(symbols)
        coordinates = torch.tensor(np.asarray(positions_angstrom, dtype=np.float64)[None],
                                   dtype=torch.float64, requires_grad=forces)
        with torch.set_grad_enabled(forces):
            energy_hartree = self.model((species, coordinates)).energies.sum()
            if not forces:
                return float(energy_hartree) * HARTREE_TO_KCAL_MOL, None
            (gradient,) = torch.autograd.grad(energy_hartree, coordinates)
        force = -gradient[0].numpy() * HARTREE_TO_KCAL_MOL
        return float(energy_hartree.detach()) * HARTREE_TO_KCAL_MOL, force


class ANI(Baseline):
    """ANI-1x (``evaluation.ani.model: ANI1x``) as a benchmark method.

    Args:
        model: the model name from the configuration; only ``"ANI1x"`` runs offline.
    """

    key = KEY

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model_name = model
        self._model: ANI1xModel | None = None
        self._reason: str | None = None

    def available(self) -> tuple[bool, str]:
        if self._model is not None:
            return True, ""
        if self._reason is None:
            self._reason = self._load()
        return (self._reason is None), (self._reason or "")

    def _load(self) -> str | None:
        if self.model_name != MODEL_NAME:
            return (f"ANI model {self.model_name!r} is not supported: only {MODEL_NAME} has "
                    "weights that install offline (bundled in torchani 2.2.4)")
        directory = resource_dir()
        if directory is None:
            return f"TorchANI is not installed ({INSTALL_HINT})"
        missing = missing_resources(directory)
        if missing:
            return (f"the installed TorchANI has no bundled ANI-1x weights in {directory} "
                    f"({len(missing)} files missing, e.g. {missing[0]}); only torchani 2.2.4 "
                    f"ships them ({INSTALL_HINT})")
        try:
            self._model = ANI1xModel(directory)
        except Exception as error:  # an incompatible torchani/setuptools, a corrupt file
            return f"TorchANI could not load ANI-1x from {directory} ({type(error).__name__}: " \
                   f"{error}); {INSTALL_HINT}"
        return None

    @property
    def model(self) -> ANI1xModel:
        """The loaded ensemble (after :meth:`available` returned True)."""
        ok, reason = self.available()
        if not ok:
            raise RuntimeError(f"ANI-1x is not available: {reason}")
        assert self._model is not None
        return self._model

    def check_covered(self, symbols: list[str], charge: int) -> None:
        """Raise :class:`NotCoveredError` for an element outside H, C, N, O or a net charge."""
        outside = sorted(set(symbols) - set(ANI1X_ELEMENTS))
        if outside:
            raise NotCoveredError(LABEL, f"element {', '.join(outside)} ({LABEL} covers "
                                         f"{', '.join(ANI1X_ELEMENTS)} only)")
        if charge:
            raise NotCoveredError(LABEL, f"net charge {charge:+d} e ({LABEL} is for neutral "
                                         "molecules)")

    def energy_and_forces(self, mol, forces: bool = True) -> tuple[float, np.ndarray | None]:  # noqa: ANN001
        """Energy (kcal/mol) and forces ([A, 3] kcal/mol/Å) of a Mol's first conformer.

        Raises:
            NotCoveredError: an element other than H, C, N, O, or a net charge.
        """
        symbols, positions, charge = mol_symbols_positions(mol)
        self.check_covered(symbols, charge)
        return self.model.energy_and_forces(symbols, positions, forces=forces)

    def _energy_kcal_mol(self, mol) -> float:  # noqa: ANN001
        return self.energy_and_forces(mol, forces=False)[0]
