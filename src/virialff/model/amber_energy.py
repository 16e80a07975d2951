"""The Amber-form (GAFF2-form) energy in torch: pure, differentiable functions of positions.

The same energy as :mod:`virialff.formats.amber_parameters` defines (and the NumPy reference
:mod:`virialff.forcefield.amber_system` evaluates), for training the GB-FFs head
(:mod:`virialff.model.gbffs`) and for its forces by autograd::

    E = Σ_bonds     k_b (r − r0)²                      k_b kcal/mol/Å², r0 Å
      + Σ_angles    k_θ (θ − θ0)²                      k_θ kcal/mol/rad², θ0 rad
      + Σ_torsions  k_t (1 + cos(n φ − γ))             k_t kcal/mol, γ rad, φ IUPAC dihedral
      + Σ_impropers k_i (1 + cos(n ϕ − γ))             ϕ the dihedral of i-j-k-l, k the centre
      + Σ_pairs     s_LJ·4ε_ij[(σ_ij/r)¹² − (σ_ij/r)⁶] + s_C·332.0637·q_i q_j / r

with ε_ij = √(ε_i ε_j), σ_ij = (σ_i + σ_j)/2 (σ where the pair energy crosses zero, OpenMM's
convention; 4ε[(σ/r)¹² − (σ/r)⁶] = ε[(Rmin/r)¹² − 2(Rmin/r)⁶] with Rmin = 2^(1/6)σ), the pairs
every i < j of one molecule that are not 1-2 or 1-3, and s = 1 except for the 1-4 pairs:
s_C = 1/scee (1/1.2), s_LJ = 1/scnb (1/2).

Shapes: A atoms, B bonds, G angles, T torsion rows, I improper rows, P non-bonded pairs,
M molecules. Every term function returns the energy of each term (kcal/mol), so callers can
look at single terms (the GB-FFs outlier filter) or sum them per molecule with an owner index
(:func:`sum_by_owner`). Index tensors hold atom indices into ``positions`` (a batch of
molecules is one set of positions with global indices).

Angles and dihedrals are computed with ``atan2`` and guarded against the 0/0 of a straight
angle or a collinear dihedral, so autograd gives finite forces there (the energy is unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch

from virialff.chem.valence_terms import valence_terms
from virialff.formats.amber_parameters import AmberFormParameters
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

#: below this squared norm (Å⁴, Å⁶) a cross product counts as zero (straight angle,
#: collinear dihedral): its direction is undefined and the gradient would be 0/0.
_TINY = 1.0e-24

#: names of the per-term energies :func:`amber_energy_terms` returns, in order.
TERM_NAMES: tuple[str, ...] = ("bond", "angle", "torsion", "improper", "coulomb", "lj")


# -- geometry -----------------------------------------------------------------------------
def bond_lengths_angstrom(positions: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """|x_j − x_i| [B] for ``index`` [B, 2] into ``positions`` [A, 3] (Å)."""
    delta = positions[index[:, 1]] - positions[index[:, 0]]
    return torch.sqrt((delta * delta).sum(-1))


def bond_angles_rad(positions: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Angle i-j-k at the centre j [G] (rad, 0..π) for ``index`` [G, 3]."""
    a = positions[index[:, 0]] - positions[index[:, 1]]
    b = positions[index[:, 2]] - positions[index[:, 1]]
    cross = torch.linalg.cross(a, b)
    sin_part = (cross * cross).sum(-1)
    # |a × b| has no gradient at 0 (a straight angle): there its square root is taken of a
    # value that is exactly the tiny guard, which changes θ by nothing measurable
    sin_part = torch.sqrt(torch.where(sin_part > _TINY, sin_part, sin_part + _TINY))
    return torch.atan2(sin_part, (a * b).sum(-1))


def dihedral_angles_rad(positions: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """IUPAC dihedral i-j-k-l [T] (rad, −π..π) for ``index`` [T, 4].

    φ = atan2(|b2|·b1·(b2 × b3), (b1 × b2)·(b2 × b3)) with b1 = x_j − x_i, b2 = x_k − x_j,
    b3 = x_l − x_k (0 for cis, ±π for trans).
    """
    b1 = positions[index[:, 1]] - positions[index[:, 0]]
    b2 = positions[index[:, 2]] - positions[index[:, 1]]
    b3 = positions[index[:, 3]] - positions[index[:, 2]]
    n1 = torch.linalg.cross(b1, b2)
    n2 = torch.linalg.cross(b2, b3)
    y = torch.sqrt((b2 * b2).sum(-1)) * (b1 * n2).sum(-1)
    x = (n1 * n2).sum(-1)
    degenerate = (x * x + y * y) < _TINY
    # a collinear i-j-k or j-k-l: φ is undefined (atan2(0, 0) = 0) and its gradient 0/0
    return torch.atan2(y, torch.where(degenerate, torch.ones_like(x), x))


# -- valence terms ------------------------------------------------------------------------
def bond_energy_kcal_mol(positions: torch.Tensor, index: torch.Tensor, k: torch.Tensor,
                         r0_angstrom: torch.Tensor) -> torch.Tensor:
    """k (r − r0)² [B]; ``k`` [B] kcal/mol/Å², ``r0_angstrom`` [B]."""
    return k * (bond_lengths_angstrom(positions, index) - r0_angstrom) ** 2


def angle_energy_kcal_mol(positions: torch.Tensor, index: torch.Tensor, k: torch.Tensor,
                          theta0_rad: torch.Tensor) -> torch.Tensor:
    """k (θ − θ0)² [G]; ``k`` [G] kcal/mol/rad², ``theta0_rad`` [G]."""
    return k * (bond_angles_rad(positions, index) - theta0_rad) ** 2


def torsion_energy_kcal_mol(positions: torch.Tensor, index: torch.Tensor, k: torch.Tensor,
                            periodicity: torch.Tensor, phase_rad: torch.Tensor) -> torch.Tensor:
    """k (1 + cos(n φ − γ)) [T] of proper torsions or impropers (``index`` [T, 4]; for an
    improper the third atom is the centre); ``k`` [T] kcal/mol, ``periodicity`` [T], ``phase_rad``
    [T]."""
    phi = dihedral_angles_rad(positions, index)
    return k * (1.0 + torch.cos(periodicity.to(phi.dtype) * phi - phase_rad))


# -- non-bonded ---------------------------------------------------------------------------
def coulomb_energy_kcal_mol(positions: torch.Tensor, pair_index: torch.Tensor,
                            charges_e: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """s · 332.0637 · q_i q_j / r [P]; ``pair_index`` [P, 2], ``charges_e`` [A], ``scale`` [P]."""
    r = bond_lengths_angstrom(positions, pair_index)
    q = charges_e[pair_index[:, 0]] * charges_e[pair_index[:, 1]]
    return scale * COULOMB_KCAL_MOL_ANGSTROM * q / r


def lennard_jones_energy_kcal_mol(positions: torch.Tensor, pair_index: torch.Tensor,
                                  sigma_angstrom: torch.Tensor, epsilon_kcal_mol: torch.Tensor,
                                  scale: torch.Tensor) -> torch.Tensor:
    """s · 4ε_ij [(σ_ij/r)¹² − (σ_ij/r)⁶] [P], Lorentz–Berthelot on per-atom ``sigma_angstrom``
    [A] and ``epsilon_kcal_mol`` [A] (ε ≥ 0)."""
    i, j = pair_index[:, 0], pair_index[:, 1]
    r = bond_lengths_angstrom(positions, pair_index)
    sigma = 0.5 * (sigma_angstrom[i] + sigma_angstrom[j])
    epsilon = torch.sqrt(epsilon_kcal_mol[i] * epsilon_kcal_mol[j])
    s6 = (sigma / r) ** 6
    return scale * 4.0 * epsilon * (s6 * s6 - s6)


def nonbonded_pairs(n_atoms: int, bond_index: np.ndarray, pair14_index: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The non-bonded pairs of one molecule: ``(pair_index [P, 2] (i < j), is14 [P] bool)``.

    Every pair i < j that is not a 1-2 or 1-3 pair of the covalent graph ``bond_index`` [B, 2];
    ``is14`` marks those in ``pair14_index`` [P14, 2] (either order).
    """
    excluded = valence_terms(np.asarray(bond_index).reshape(-1, 2), n_atoms).excluded_pairs
    first, second = np.triu_indices(n_atoms, k=1)
    keys = first * n_atoms + second
    if excluded.size:
        keys = np.setdiff1d(keys, excluded[:, 0] * n_atoms + excluded[:, 1])
    pairs = np.stack([keys // n_atoms, keys % n_atoms], axis=1).astype(np.int64)
    p14 = np.sort(np.asarray(pair14_index, dtype=np.int64).reshape(-1, 2), axis=1)
    is14 = np.isin(keys, p14[:, 0] * n_atoms + p14[:, 1])
    return pairs.reshape(-1, 2), is14


def sum_by_owner(values: torch.Tensor, owner: torch.Tensor, n: int) -> torch.Tensor:
    """Σ of ``values`` [N] per owner: [n] (``owner`` [N] in 0..n−1)."""
    return values.new_zeros(n).index_add(0, owner, values)


# -- a batch of molecules -----------------------------------------------------------------
@dataclass
class AmberTensors:
    """Amber-form parameters of M molecules as flat tensors with global atom indices.

    Per atom [A]: ``charges_e``, ``sigma_angstrom``, ``epsilon_kcal_mol``, ``atom_owner``;
    per term, the index ([N, 2|3|4], global), the parameters [N] and the ``*_owner`` [N]
    (molecule 0..M−1); pairs [P, 2] with ``pair_scale_coulomb`` and ``pair_scale_lj`` [P].
    """

    n_molecules: int
    charges_e: torch.Tensor
    sigma_angstrom: torch.Tensor
    epsilon_kcal_mol: torch.Tensor
    atom_owner: torch.Tensor
    bond_index: torch.Tensor
    bond_k: torch.Tensor
    bond_r0_angstrom: torch.Tensor
    bond_owner: torch.Tensor
    angle_index: torch.Tensor
    angle_k: torch.Tensor
    angle_theta0_rad: torch.Tensor
    angle_owner: torch.Tensor
    torsion_index: torch.Tensor
    torsion_periodicity: torch.Tensor
    torsion_phase_rad: torch.Tensor
    torsion_k_kcal_mol: torch.Tensor
    torsion_owner: torch.Tensor
    improper_index: torch.Tensor
    improper_periodicity: torch.Tensor
    improper_phase_rad: torch.Tensor
    improper_k_kcal_mol: torch.Tensor
    improper_owner: torch.Tensor
    pair_index: torch.Tensor
    pair_scale_coulomb: torch.Tensor
    pair_scale_lj: torch.Tensor
    pair_owner: torch.Tensor

    def to(self, device: str | torch.device) -> AmberTensors:
        """Every tensor on ``device``."""
        return AmberTensors(**{f.name: (getattr(self, f.name).to(device)
                                        if isinstance(getattr(self, f.name), torch.Tensor)
                                        else getattr(self, f.name)) for f in fields(self)})


_WIDTH = {"bond_index": 2, "angle_index": 3, "torsion_index": 4, "improper_index": 4,
          "pair_index": 2}


def amber_tensors(molecules: Sequence[AmberFormParameters], dtype: torch.dtype = torch.float64,
                  device: str | torch.device = "cpu") -> AmberTensors:
    """Concatenate the parameters of ``molecules`` (atoms in this order, indices shifted)."""
    parts: dict[str, list] = {f.name: [] for f in fields(AmberTensors) if f.name != "n_molecules"}
    offset = 0
    for m, mol in enumerate(molecules):
        n = mol.n_atoms
        pairs, is14 = nonbonded_pairs(n, mol.bond_index, mol.pair14_index)
        blocks = {
            "atom": (np.zeros((n, 0), dtype=np.int64), ()),
            "bond": (mol.bond_index, ("bond_k", "bond_r0_angstrom")),
            "angle": (mol.angle_index, ("angle_k", "angle_theta0_rad")),
            "torsion": (mol.torsion_index, ("torsion_periodicity", "torsion_phase_rad",
                                            "torsion_k_kcal_mol")),
            "improper": (mol.improper_index, ("improper_periodicity", "improper_phase_rad",
                                              "improper_k_kcal_mol")),
            "pair": (pairs, ()),
        }
        for block, (index, columns) in blocks.items():
            rows = np.asarray(index).shape[0]
            if block != "atom":
                parts[f"{block}_index"].append(np.asarray(index, dtype=np.int64).reshape(
                    rows, _WIDTH[f"{block}_index"]) + offset)
            parts[f"{block}_owner"].append(np.full(rows, m, dtype=np.int64))
            for column in columns:
                parts[column].append(np.asarray(getattr(mol, column)))
        for column in ("charges_e", "sigma_angstrom", "epsilon_kcal_mol"):
            parts[column].append(np.asarray(getattr(mol, column), dtype=np.float64))
        parts["pair_scale_coulomb"].append(np.where(is14, 1.0 / mol.scee, 1.0))
        parts["pair_scale_lj"].append(np.where(is14, 1.0 / mol.scnb, 1.0))
        offset += n
    width = _WIDTH
    values = {}
    for name, arrays in parts.items():
        integer = name.endswith(("_index", "_owner", "_periodicity"))
        if arrays:
            array = np.concatenate(arrays)
        else:
            array = np.zeros((0, width[name]) if name in width else 0)
        values[name] = torch.as_tensor(array, dtype=torch.long if integer else dtype,
                                       device=device)
        if name in width:
            values[name] = values[name].reshape(-1, width[name])
    return AmberTensors(n_molecules=len(molecules), **values)


def amber_energy_terms(positions: torch.Tensor, params: AmberTensors) -> dict[str, torch.Tensor]:
    """Every term's energy (kcal/mol) at ``positions`` [A, 3] (Å).

    Returns, for each name of :data:`TERM_NAMES`, the per-term energies (``bond`` [B],
    ``angle`` [G], ``torsion`` [T], ``improper`` [I], ``coulomb`` and ``lj`` [P]) and their
    per-molecule sums under ``{name}_molecule`` [M], plus ``total`` [M].
    """
    p = params
    terms = {
        "bond": bond_energy_kcal_mol(positions, p.bond_index, p.bond_k, p.bond_r0_angstrom),
        "angle": angle_energy_kcal_mol(positions, p.angle_index, p.angle_k, p.angle_theta0_rad),
        "torsion": torsion_energy_kcal_mol(positions, p.torsion_index, p.torsion_k_kcal_mol,
                                           p.torsion_periodicity, p.torsion_phase_rad),
        "improper": torsion_energy_kcal_mol(positions, p.improper_index, p.improper_k_kcal_mol,
                                            p.improper_periodicity, p.improper_phase_rad),
        "coulomb": coulomb_energy_kcal_mol(positions, p.pair_index, p.charges_e,
                                           p.pair_scale_coulomb),
        "lj": lennard_jones_energy_kcal_mol(positions, p.pair_index, p.sigma_angstrom,
                                            p.epsilon_kcal_mol, p.pair_scale_lj),
    }
    owners = {"bond": p.bond_owner, "angle": p.angle_owner, "torsion": p.torsion_owner,
              "improper": p.improper_owner, "coulomb": p.pair_owner, "lj": p.pair_owner}
    out = dict(terms)
    total = positions.new_zeros(p.n_molecules)
    for name in TERM_NAMES:
        out[f"{name}_molecule"] = sum_by_owner(terms[name], owners[name], p.n_molecules)
        total = total + out[f"{name}_molecule"]
    out["total"] = total
    return out


def amber_energy_and_forces(positions: torch.Tensor, params: AmberTensors
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(E [M] kcal/mol, F = −∇E [A, 3] kcal/mol/Å)`` by autograd (no graph kept)."""
    with torch.enable_grad():
        leaf = positions.detach().requires_grad_(True)
        energy = amber_energy_terms(leaf, params)["total"]
        (gradient,) = torch.autograd.grad(energy.sum(), leaf)
    return energy.detach(), -gradient
