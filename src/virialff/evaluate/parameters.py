"""Physical content of the predicted parameters (paper section 5.5): LJ σ, ε and charges.

The long-range pair term of the model is ``|C1|/r¹² − |C0|/r⁶`` (kcal/mol, Å). Matching it to
the Lennard-Jones form ``4ε[(σ/r)¹² − (σ/r)⁶]`` gives

    σ = (|C1| / |C0|)^(1/6)   (Å),     ε = C0² / (4·|C1|)   (kcal/mol),

with the minimum at ``r_min = 2^(1/6)·σ``. (The paper's Eq. 27 writes σ = C0/C1, which has the
unit Å⁻⁶ and is not what it plots against "σ ≈ 3 Å"; we use the dimensionally correct form.)

Files written by :func:`parameter_tables`:

- ``predicted_parameters.csv``: ``molecule_id, split, atom_i, atom_j, element_i, element_j,
  bonded, pair_type, C0 … C13, sigma_angstrom, epsilon_kcal_mol`` (one row per atom pair
  i < j; σ and ε are NaN for bonded pairs, which have no long-range term).
- ``predicted_charges.csv``: ``molecule_id, split, atom, element, charge_e``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from virialff.forcefield.pair_potential import N_PAIR_PARAMETERS

PARAMETER_COLUMNS: tuple[str, ...] = tuple(f"C{k}" for k in range(N_PAIR_PARAMETERS))


def lj_sigma_epsilon(c0, c1) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """σ [Å] and ε [kcal/mol] from C0 (r⁻⁶, kcal·Å⁶/mol) and C1 (r⁻¹², kcal·Å¹²/mol).

    Args:
        c0: [P] dispersion coefficients (the model uses |C0|).
        c1: [P] repulsion coefficients (the model uses |C1|).

    Returns:
        ``(sigma [P], epsilon [P])``; NaN where C0 or C1 is zero.
    """
    a = np.abs(np.asarray(c0, dtype=float))
    b = np.abs(np.asarray(c1, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.where((a > 0) & (b > 0), (b / a) ** (1.0 / 6.0), np.nan)
        epsilon = np.where(b > 0, a ** 2 / (4.0 * b), np.nan)
    return sigma, epsilon


def pair_type(element_i: str, element_j: str) -> str:
    """Element pair label in alphabetical order, e.g. ``C-H``, ``H-O``."""
    return "-".join(sorted((element_i, element_j)))


def parameter_tables(predictions: list, molecule_ids: list[str],
                     splits: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables of pair parameters and charges from ``virialff`` ``Prediction`` objects.

    Args:
        predictions: [M] predictions (``pair_index`` [2, P], ``pair_bonded`` [P],
            ``pair_parameters`` [P, 14], ``charges_e`` [A], ``elements`` [A]).
        molecule_ids: [M]; splits: [M].
    """
    pair_frames, charge_frames = [], []
    for prediction, molecule_id, split in zip(predictions, molecule_ids, splits, strict=True):
        elements = np.asarray(prediction.elements)
        index = np.asarray(prediction.pair_index)
        params = np.asarray(prediction.pair_parameters, dtype=float).reshape(-1,
                                                                             N_PAIR_PARAMETERS)
        bonded = np.asarray(prediction.pair_bonded, dtype=bool)
        sigma, epsilon = lj_sigma_epsilon(params[:, 0], params[:, 1])
        sigma = np.where(bonded, np.nan, sigma)
        epsilon = np.where(bonded, np.nan, epsilon)
        frame = pd.DataFrame({
            "molecule_id": molecule_id, "split": split,
            "atom_i": index[0], "atom_j": index[1],
            "element_i": elements[index[0]], "element_j": elements[index[1]],
            "bonded": bonded,
        })
        frame["pair_type"] = [pair_type(a, b) for a, b in zip(frame["element_i"],
                                                               frame["element_j"], strict=True)]
        for k, column in enumerate(PARAMETER_COLUMNS):
            frame[column] = params[:, k]
        frame["sigma_angstrom"] = sigma
        frame["epsilon_kcal_mol"] = epsilon
        pair_frames.append(frame)
        charge_frames.append(pd.DataFrame({
            "molecule_id": molecule_id, "split": split,
            "atom": np.arange(len(elements)), "element": elements,
            "charge_e": np.asarray(prediction.charges_e, dtype=float),
        }))
    pair_columns = ["molecule_id", "split", "atom_i", "atom_j", "element_i", "element_j",
                    "bonded", "pair_type", *PARAMETER_COLUMNS, "sigma_angstrom",
                    "epsilon_kcal_mol"]
    charge_columns = ["molecule_id", "split", "atom", "element", "charge_e"]
    pairs = pd.concat(pair_frames, ignore_index=True) if pair_frames else pd.DataFrame(
        columns=pair_columns)
    charges = pd.concat(charge_frames, ignore_index=True) if charge_frames else pd.DataFrame(
        columns=charge_columns)
    return pairs[pair_columns], charges[charge_columns]


def molecular_charges(charges: pd.DataFrame) -> pd.DataFrame:
    """Total predicted charge per molecule: ``molecule_id, split, total_charge_e``."""
    return (charges.groupby(["molecule_id", "split"], sort=False)["charge_e"].sum()
            .rename("total_charge_e").reset_index())
