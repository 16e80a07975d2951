"""The physics of the stage-2 potential (paper section 4.2), as pure functions of tensors.

Nothing here holds learnable state: the networks in :mod:`virialff.model.potential_model`
predict charges ``Q`` and pair parameters ``C``; these functions turn them, with the atomic
positions, into energies. Units: positions in Å, charges in e, energies in kcal/mol.

Shapes: A atoms, P atom pairs (i < j), M molecules.

Pair energy (Eqs. 21-23 of the paper)::

    E_LR(i,j) = 332.0637·Q_i·Q_j/r − |C0|/r⁶ + |C1|/r¹²     (non-bonded pairs; 0 if bonded)
    E_SR(i,j) = Σ_{k=1..6} C_{2k} · exp(−(r − (1.2 + 0.6·(k−1)))² / (C_{2k+1}² + 1e−5))

Lennard-Jones form of C0, C1. The paper's Eq. 27 gives σ = C0/C1, which is dimensionally wrong
(C0 has units kcal/mol·Å⁶, C1 kcal/mol·Å¹²). Matching ``|C1|/r¹² − |C0|/r⁶`` to
``4ε[(σ/r)¹² − (σ/r)⁶]`` gives σ = (C1/C0)^(1/6), ε = C0²/(4·C1) and the minimum at
r_min = 2^(1/6)·σ, which is what :func:`lennard_jones_parameters` returns.
"""

from __future__ import annotations

import torch

from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

#: number of pair parameters C0..C13.
N_PAIR_PARAMETERS = 14
#: centres (Å) of the six Gaussians of E_SR: 1.2 + 0.6·(k−1), k = 1..6.
GAUSSIAN_CENTRES_ANGSTROM: tuple[float, ...] = tuple(1.2 + 0.6 * k for k in range(6))
#: ε of Eq. 22 (Å²), keeps the Gaussian widths away from zero.
WIDTH_EPSILON_ANGSTROM2 = 1.0e-5


def pair_distances_angstrom(
    positions_angstrom: torch.Tensor, pair_index: torch.Tensor
) -> torch.Tensor:
    """Distances r_ij (Å), [P], from positions [A, 3] and ``pair_index`` [2, P]."""
    delta = positions_angstrom[pair_index[0]] - positions_angstrom[pair_index[1]]
    return torch.linalg.vector_norm(delta, dim=-1)


def pair_energies_kcal_mol(
    positions_angstrom: torch.Tensor,
    pair_index: torch.Tensor,
    pair_bonded: torch.Tensor,
    charges_e: torch.Tensor,
    pair_parameters: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Short- and long-range energy of every pair, kcal/mol.

    Args:
        positions_angstrom: [A, 3] atomic positions (Å).
        pair_index: [2, P] atom indices of each pair (i ≠ j).
        pair_bonded: [P] bool, True where the pair shares a covalent bond.
        charges_e: [A] partial charges Q (e).
        pair_parameters: [P, 14] C0..C13; C0 in kcal/mol·Å⁶, C1 in kcal/mol·Å¹², C2k in
            kcal/mol, C2k+1 in Å.

    Returns:
        ``(e_sr, e_lr)``, each [P] in kcal/mol; ``e_lr`` is exactly 0 for bonded pairs.
    """
    r = pair_distances_angstrom(positions_angstrom, pair_index)
    c = pair_parameters
    centres = torch.tensor(GAUSSIAN_CENTRES_ANGSTROM, dtype=r.dtype, device=r.device)
    amplitudes = c[:, 2::2]  # C2, C4, ..., C12: [P, 6]
    widths2 = c[:, 3::2] ** 2 + WIDTH_EPSILON_ANGSTROM2  # C3², C5², ..., C13²: [P, 6]
    e_sr = (amplitudes * torch.exp(-((r[:, None] - centres) ** 2) / widths2)).sum(-1)

    coulomb = COULOMB_KCAL_MOL_ANGSTROM * charges_e[pair_index[0]] * charges_e[pair_index[1]] / r
    r6 = r**6
    e_lr = coulomb - c[:, 0].abs() / r6 + c[:, 1].abs() / (r6 * r6)
    e_lr = torch.where(pair_bonded, torch.zeros_like(e_lr), e_lr)
    return e_sr, e_lr


def pair_energy_kcal_mol(
    positions_angstrom: torch.Tensor,
    pair_index: torch.Tensor,
    pair_bonded: torch.Tensor,
    charges_e: torch.Tensor,
    pair_parameters: torch.Tensor,
) -> torch.Tensor:
    """E_ij = E_SR + E_LR per pair, [P] kcal/mol (arguments as :func:`pair_energies_kcal_mol`)."""
    e_sr, e_lr = pair_energies_kcal_mol(
        positions_angstrom, pair_index, pair_bonded, charges_e, pair_parameters
    )
    return e_sr + e_lr


def sum_per_molecule(values: torch.Tensor, owner: torch.Tensor, n_molecules: int) -> torch.Tensor:
    """Scatter-sum of ``values`` [N] into [n_molecules] by ``owner`` [N] (molecule index)."""
    out = values.new_zeros(n_molecules)
    return out.index_add(0, owner, values)


def linear_energy_kcal_mol(
    element_counts: torch.Tensor,
    element_weights_kcal_mol: torch.Tensor,
    bias_kcal_mol: torch.Tensor,
) -> torch.Tensor:
    """E_lin = wᵀN + b (Eq. 24): [M] from element counts N [M, n_elements]."""
    return element_counts @ element_weights_kcal_mol + bias_kcal_mol


def molecule_energy_kcal_mol(
    pair_energy: torch.Tensor,
    pair_molecule: torch.Tensor,
    linear_energy: torch.Tensor,
    sign: float = 1.0,
) -> torch.Tensor:
    """E_M = E_lin,M + sign · Σ_{pairs ∈ M} E_ij, [M] kcal/mol.

    ``sign`` is +1 for the total energy and −1 for the kinetic energy (T ≈ −E by the virial
    theorem, so the pair sum enters with the opposite sign).
    """
    return linear_energy + sign * sum_per_molecule(
        pair_energy, pair_molecule, linear_energy.shape[0]
    )


def neutralise_charges(
    raw_charges_e: torch.Tensor, group: torch.Tensor, n_groups: int
) -> torch.Tensor:
    """Shift raw charges [A] so every group (covalent fragment) [A] sums to zero charge."""
    total = sum_per_molecule(raw_charges_e, group, n_groups)
    count = sum_per_molecule(torch.ones_like(raw_charges_e), group, n_groups)
    return raw_charges_e - (total / count)[group]


def lennard_jones_parameters(c0, c1):  # noqa: ANN001, ANN201 - tensors or arrays
    """σ (Å), ε (kcal/mol) and r_min (Å) of ``|C1|/r¹² − |C0|/r⁶``.

    σ = (|C1|/|C0|)^(1/6), ε = C0²/(4·|C1|), r_min = 2^(1/6)·σ. (The paper's Eq. 27, σ = C0/C1,
    is dimensionally wrong; see the module docstring.) Works on floats, NumPy arrays and tensors.
    """
    c0, c1 = abs(c0), abs(c1)
    sigma = (c1 / c0) ** (1.0 / 6.0)
    epsilon = c0**2 / (4.0 * c1)
    r_min = 2.0 ** (1.0 / 6.0) * sigma
    return sigma, epsilon, r_min
