"""The training data set: ``results/dataset/dataset.pt`` (written by the dataset stage).

``torch.save`` of a plain dict, loadable with ``weights_only=True``:

- ``graphs``: :meth:`virialff.chem.graph.GraphBatch.state_dict` of every molecule, stored
  without its atom pairs (:func:`virialff.chem.graph.molecule_pairs` derives them per batch), with
  molecule targets ``energy_kcal_mol``, ``kinetic_kcal_mol``, atom targets
  ``kd_atom_kcal_mol`` and bond targets ``kd_bond_kcal_mol`` (KD of the bonded pair, on both
  directed bonds); since version 3 also atom targets ``forces_kcal_mol_angstrom`` [A, 3] and
  molecule targets ``has_forces``, ``dipole_debye`` [M, 3] and ``has_dipole`` (0/1: the DFT
  did or did not give them); float64, so total energies (~1e5 kcal/mol) keep their precision;
- ``split``: ``train``/``val``/``test`` → LongTensor of molecule indices into ``graphs``;
- ``format_version`` (:data:`FORMAT_VERSION`), ``elements``, ``units``, ``method``,
  ``basis``, ``data_scale``, ``geometry_kinds`` (molecule id → ``xtb_minimum`` or an
  off-equilibrium kind, where the source records one) and ``group_ids`` (the compound of each
  molecule of ``graphs``, in its order: conformers of one compound share it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from virialff.chem.graph import GraphBatch
from virialff.formats.molecules_csv import SPLITS

if TYPE_CHECKING:  # torch is imported where it is used: the rules read FORMAT_VERSION
    import torch

FORMAT_VERSION = 3


def write_dataset(path: str | Path, graphs: GraphBatch, split: Mapping[str, torch.Tensor],
                  **metadata: Any) -> Path:
    """Save a data set (atomically); ``metadata`` adds the scalar entries."""
    import torch

    from virialff.chem.elements import SUPPORTED_ELEMENTS

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "graphs": graphs.without_pairs().state_dict(),  # pairs are derived per batch
        "split": {name: torch.as_tensor(split.get(name, []), dtype=torch.long)
                  for name in SPLITS},
        "format_version": FORMAT_VERSION,
        "elements": list(SUPPORTED_ELEMENTS),
        "units": {"energy": "kcal/mol", "length": "angstrom"},
        **metadata,
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def read_dataset(path: str | Path) -> tuple[GraphBatch, dict[str, torch.Tensor], dict]:
    """``(graphs, split, metadata)``; ``FileNotFoundError``, or ``ValueError`` naming the file
    for another format version or a split index outside the data set."""
    import torch

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"dataset file {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - zipfile, pickle, OSError, RuntimeError
        raise ValueError(f"{path} is not a readable dataset file ({error})") from None
    version = payload.get("format_version") if isinstance(payload, dict) else None
    if version != FORMAT_VERSION:
        raise ValueError(f"{path}: dataset format version {version}, expected "
                         f"{FORMAT_VERSION}: rebuild it (snakemake reruns assemble_dataset)")
    graphs = GraphBatch.from_state_dict(payload["graphs"])
    split = {name: torch.as_tensor(payload["split"].get(name, []), dtype=torch.long)
             for name in SPLITS}
    for name, indices in split.items():
        if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= graphs.n_molecules):
            raise ValueError(f"{path}: the {name} split indexes outside the "
                             f"{graphs.n_molecules} molecules")
    metadata = {k: v for k, v in payload.items() if k not in ("graphs", "split")}
    return graphs, split, metadata
