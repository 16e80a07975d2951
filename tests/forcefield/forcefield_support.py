"""Helpers for the force-field tests: molecules, complexes and predictors with known behaviour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import AllChem
from rdkit.Geometry import Point3D

from virialff.chem.elements import SUPPORTED_ELEMENTS
from virialff.model.potential_model import SMALL_MODEL_CONFIG
from virialff.model.predictor import Predictor, read_xyz

REPO = Path(__file__).resolve().parents[2]
S66 = REPO / "data" / "benchmarks" / "s66" / "geometries"
BASE_PAIRS = REPO / "data" / "benchmarks" / "base_pairs"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def embedded(smiles: str, seed: int = 11, name: str | None = None) -> Chem.Mol:
    """RDKit molecule with explicit hydrogens and one ETKDG conformer."""
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    assert AllChem.EmbedMolecule(mol, params) == 0
    mol.SetProp("_Name", name or smiles)
    return mol


def with_positions(mol: Chem.Mol, positions: np.ndarray) -> Chem.Mol:
    """A copy of ``mol`` with its conformer moved to ``positions`` [A, 3] Å."""
    copy = Chem.Mol(mol)
    conformer = copy.GetConformer()
    for i, (x, y, z) in enumerate(np.asarray(positions, dtype=float)):
        conformer.SetAtomPosition(i, Point3D(float(x), float(y), float(z)))
    return copy


def translated(mol: Chem.Mol, shift: tuple[float, float, float]) -> Chem.Mol:
    return with_positions(mol, mol.GetConformer().GetPositions() + np.asarray(shift))


def combine(*mols: Chem.Mol, name: str = "complex") -> Chem.Mol:
    """One RDKit Mol holding every molecule as a separate covalent fragment."""
    joined = mols[0]
    for mol in mols[1:]:
        joined = Chem.CombineMols(joined, mol)
    joined.SetProp("_Name", name)
    return joined


def positions(mol: Chem.Mol) -> np.ndarray:
    return mol.GetConformer().GetPositions()


def random_rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def benchmark_complex(path: Path) -> Chem.Mol:
    """A bundled S66 or base-pair XYZ geometry with bonds perceived by RDKit."""
    (mol,) = read_xyz(path)
    return mol


#: Guards whose cores reach into ordinary geometries (r_c above the usual bond lengths and
#: non-bonded distances), so that comparisons exercise the core term in every pair class.
ACTIVE_GUARDS = {
    "width_min_angstrom": 0.1, "width_max_angstrom": 1.2, "amplitude_max_kcal_mol": 40.0,
    "c12_floor_kcal_mol_angstrom12": 500.0,
    "core_radius_angstrom": [1.25, 1.6, 2.9],
    "core_strength_kcal_mol_angstrom3": [300.0, 200.0, 5.0],
    # a wall on every bond (by element pair), starting just past ordinary bond lengths
    "stretch_radius_angstrom": [1.0 if "H" in (a, b) else 1.3
                                for a in SUPPORTED_ELEMENTS for b in SUPPORTED_ELEMENTS],
    "stretch_strength_kcal_mol_angstrom3": [200.0 if "H" in (a, b) else 150.0
                                            for a in SUPPORTED_ELEMENTS
                                            for b in SUPPORTED_ELEMENTS],
}


def strong_predictor(guards: dict | None = None, intermolecular_class: bool = False
                     ) -> Predictor:
    """Untrained float64 predictor whose charges (~0.5 e) and pair parameters are O(1).

    A freshly initialised model is nearly flat (charges ~1e-3 e); these outputs make every
    term of the energy matter in comparisons. ``guards``: the guards' numbers
    (:class:`virialff.forcefield.pair_potential.PairGuards`), e.g. :data:`ACTIVE_GUARDS`.
    ``intermolecular_class``: pairs between molecules get their own feats_net pair class, here
    with parameters unlike those of the intramolecular non-bonded pairs.
    """
    import copy

    config = copy.deepcopy(SMALL_MODEL_CONFIG)
    if guards is not None:
        config["potential"]["guards"] = guards
    config["potential"]["intermolecular_pair_class"] = intermolecular_class
    predictor = Predictor.untrained("total", model_config=config, seed=3).astype(torch.float64)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for layer in (predictor.model.charge_net[-1], predictor.model.feats_net.rest[-1]):
            layer.weight.copy_(0.5 * torch.randn(layer.weight.shape, generator=generator))
        if intermolecular_class:
            column = predictor.model.feats_net.pair_type.weight[:, -1]
            column.add_(2.0 * torch.randn(column.shape, generator=generator))
        predictor.model.element_weights_kcal_mol.copy_(torch.arange(9, dtype=torch.float64))
        predictor.model.bias_kcal_mol.fill_(-7.5)
    return predictor


#: C0..C13 of the stiff model: bonded pairs sit in a Gaussian well at 1.2 Å (−60 kcal/mol,
#: width 0.5 Å); non-bonded pairs feel a Lennard-Jones potential with σ = 2.15 Å and
#: ε = 0.5 kcal/mol (C0 = 200 kcal/mol·Å⁶, C1 = 2·10⁴ kcal/mol·Å¹²).
BONDED_PARAMETERS = [0.0, 0.0, -60.0, 0.5] + [0.0, 0.5] * 5
NON_BONDED_PARAMETERS = [200.0, 2.0e4] + [0.0, 0.5] * 6


#: bonded pairs on the inner slope of a repulsive hill at 1.8 Å and nothing to stop them:
#: every bond shrinks until two atoms meet (a model that collapses, for the reporting tests).
COLLAPSING_BONDED_PARAMETERS = [0.0, 0.0, 0.0, 0.5, 300.0, 0.8] + [0.0, 0.5] * 4


def stiff_predictor(charge_scale: float = 0.3,
                    bonded_parameters: list[float] = BONDED_PARAMETERS) -> Predictor:
    """A predictor with a stable, stiff minimum near chemical geometries.

    feats_net is set so that its output depends only on the pair type (bonded or not, see
    :data:`BONDED_PARAMETERS`); charges come from a random last layer of charge_net, scaled
    by ``charge_scale`` and made neutral per molecule. Needed for optimisation and MD tests:
    the bonded curves of an untrained model are nearly flat.
    """
    import copy

    config = copy.deepcopy(SMALL_MODEL_CONFIG)
    config["potential"]["neutral_charges"] = True
    predictor = Predictor.untrained("total", model_config=config, seed=1).astype(torch.float64)
    net = predictor.model.feats_net
    width = net.linear.out_features
    table = torch.tensor([NON_BONDED_PARAMETERS] + [bonded_parameters] * 4,
                         dtype=torch.float64)
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        net.linear.weight.zero_()
        net.linear.bias.zero_()
        net.bilinear.weight.zero_()
        net.pair_type.weight.zero_()
        net.pair_type.weight[: table.shape[0]] = torch.eye(table.shape[0], dtype=torch.float64)
        (last,) = net.rest
        last.weight.zero_()
        last.bias.zero_()
        last.weight[:, : table.shape[0]] = table.T
        charge = predictor.model.charge_net[-1]
        charge.weight.copy_(charge_scale * torch.randn(charge.weight.shape, generator=generator))
        assert width >= table.shape[0]
    return predictor
