"""The physics of the stage-2 potential (paper section 4.2) as pure functions of tensors.

Nothing here holds learnable state: the networks in :mod:`virialff.model.potential_model`
predict charges ``Q`` and pair parameters ``C``; these functions turn them, with the atomic
positions, into energies that training differentiates. Units: positions in Å, charges in e,
energies in kcal/mol. Shapes: A atoms, P atom pairs (i < j), M molecules.

The pair energy (Eqs. 21-23), the Lennard-Jones reading of C0 and C1, the guards and their
constants are described and defined once in :mod:`virialff.forcefield.pair_potential`, with
the NumPy forms (analytic derivatives) that a parametrised system evaluates; this module holds
the torch forms and what only the networks need: the bounded parameters
(:func:`bounded_pair_parameters`), the linear term E_lin and the neutral-charge switch.
"""

from __future__ import annotations

import numpy as np
import torch

from virialff.forcefield.pair_potential import (
    GAUSSIAN_CENTRES_ANGSTROM,
    WIDTH_EPSILON_ANGSTROM2,
    PairGuards,
)
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM


def bounded_pair_parameters(raw: torch.Tensor, guards: PairGuards | None) -> torch.Tensor:
    """C [P, 14] from the network's raw output [P, 14]: unchanged without guards, else with
    amplitudes in (−a_max, a_max), widths in (w_min, w_max) and |C1| ≥ the floor."""
    if guards is None:
        return raw
    a_max = guards.amplitude_max_kcal_mol
    span = guards.width_max_angstrom - guards.width_min_angstrom
    out = raw.clone()
    out[:, 1] = guards.c12_floor_kcal_mol_angstrom12 + raw[:, 1].abs()
    out[:, 2::2] = a_max * torch.tanh(raw[:, 2::2] / a_max)
    out[:, 3::2] = guards.width_min_angstrom + span * torch.sigmoid(raw[:, 3::2])
    return out


def raw_width_for(width_angstrom: float, guards: PairGuards | None) -> float:
    """The raw network output that gives a Gaussian width of ``width_angstrom``."""
    if guards is None:
        return width_angstrom
    fraction = (width_angstrom - guards.width_min_angstrom) / (
        guards.width_max_angstrom - guards.width_min_angstrom)
    return float(np.log(fraction / (1.0 - fraction)))


def core_energy_kcal_mol(r_angstrom: torch.Tensor, radius_angstrom: torch.Tensor,
                         strength_kcal_mol_angstrom3: torch.Tensor) -> torch.Tensor:
    """E_core = k·(r_c − r)³ where r < r_c, else 0; all [P] (Å, Å, kcal/mol/Å³)."""
    return strength_kcal_mol_angstrom3 * torch.relu(radius_angstrom - r_angstrom) ** 3


def stretch_energy_kcal_mol(r_angstrom: torch.Tensor, radius_angstrom: torch.Tensor,
                            strength_kcal_mol_angstrom3: torch.Tensor) -> torch.Tensor:
    """E_wall = k·(r − r_s)³ where r > r_s, else 0; all [P] (Å, Å, kcal/mol/Å³)."""
    return strength_kcal_mol_angstrom3 * torch.relu(r_angstrom - radius_angstrom) ** 3


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
    n_fragments: torch.Tensor,
) -> torch.Tensor:
    """E_lin = wᵀN + n_fragments·b, [M] kcal/mol.

    Args:
        element_counts: [M, n_elements] atoms of each element per system.
        element_weights_kcal_mol: [n_elements] w.
        bias_kcal_mol: [] b, the intercept of the paper's Eq. 24.
        n_fragments: [M] covalent fragments (molecules) per system.

    The paper's Eq. 24 adds b once per system. A complex is one system but two molecules, so
    E_int = E_A + E_B − E_AB would then pick up b, an arbitrary fit constant. Counting b once
    per covalent fragment makes E_lin extensive: it is the same for a single molecule (one
    fragment, as in training) and cancels exactly in every interaction energy.
    """
    return element_counts @ element_weights_kcal_mol + n_fragments * bias_kcal_mol


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
