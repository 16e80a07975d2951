"""Fig. 13 (new): E(r) = E_SR + E_LR of typical predicted atom pairs.

For each pair kind (C–C, C–H, O–H, N–H) and for bonded and non-bonded pairs separately, the pair
energy is evaluated on a distance grid for every predicted pair of that kind in
``results/evaluation/predicted_parameters.csv`` (a seeded sample of at most ``max_pairs``), and
the median curve is drawn with its interquartile band: a "typical" pair, without averaging
parameters that do not add up. The Coulomb part of E_LR needs the two atoms' charges in their
molecule: :func:`attach_charges` joins them from ``results/evaluation/predicted_charges.csv``
(``molecule_id, split, atom, element, charge_e``) as ``charge_i``, ``charge_j``; without charges
the figure says that E_LR is the Lennard-Jones part only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from virialff.plots.style import METHOD_PALETTE, unavailable_panel

#: The pair kinds drawn, as unordered element pairs.
PAIR_KINDS: tuple[tuple[str, str], ...] = (("C", "C"), ("C", "H"), ("O", "H"), ("N", "H"))
PARAMETER_COLUMNS: tuple[str, ...] = tuple(f"C{k}" for k in range(14))
CHARGE_COLUMNS: tuple[str, str] = ("charge_i", "charge_j")
BONDED_GRID = (0.75, 3.0)
NONBONDED_GRID = (1.6, 7.0)


def pair_energy_components(
    r: np.ndarray, params: np.ndarray, bonded: np.ndarray, qiqj: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """E_SR and E_LR (kcal/mol) of P pairs on a grid of G distances r (Å): two [P, G] arrays.

    ``params`` is [P, 14] (C0…C13), ``bonded`` [P] bool, ``qiqj`` [P] products of charges (e²)
    or None for no Coulomb term. The energies come from the model's own pure function,
    :func:`virialff.model.potential.pair_energies_kcal_mol` (paper Eqs. 21–22), evaluated on
    two-atom geometries at each distance of the grid.
    """
    import torch

    from virialff.model.potential import pair_energies_kcal_mol

    params_t = torch.tensor(np.array(params, dtype=float), dtype=torch.float64)
    n_pairs = params_t.shape[0]
    bonded_t = torch.tensor(np.array(bonded, dtype=bool))
    charge_i = torch.zeros(n_pairs, dtype=torch.float64)
    charge_j = torch.zeros(n_pairs, dtype=torch.float64)
    if qiqj is not None:
        # Q_i = sqrt|QiQj|, Q_j = sign(QiQj)·sqrt|QiQj| reproduces the product exactly.
        prod = torch.tensor(np.array(qiqj, dtype=float), dtype=torch.float64)
        charge_i = prod.abs().sqrt()
        charge_j = prod.sign() * prod.abs().sqrt()
    grid = np.asarray(r, dtype=float)
    e_sr = np.empty((n_pairs, grid.size))
    e_lr = np.empty((n_pairs, grid.size))
    chunk = max(1, 200_000 // max(n_pairs, 1))  # grid points per call: ≤ ~200k two-atom systems
    with torch.no_grad():
        for start in range(0, grid.size, chunk):
            distances = torch.tensor(grid[start:start + chunk], dtype=torch.float64)
            n = n_pairs * distances.numel()  # systems ordered grid-major: (g, p)
            positions = torch.zeros(2 * n, 3, dtype=torch.float64)
            positions[1::2, 0] = distances.repeat_interleave(n_pairs)
            charges = torch.empty(2 * n, dtype=torch.float64)
            charges[0::2] = charge_i.repeat(distances.numel())
            charges[1::2] = charge_j.repeat(distances.numel())
            pair_index = torch.stack([torch.arange(0, 2 * n, 2), torch.arange(1, 2 * n, 2)])
            copies = distances.numel()
            sr, lr = pair_energies_kcal_mol(positions, pair_index, bonded_t.repeat(copies),
                                            charges, params_t.repeat(copies, 1))
            stop = start + distances.numel()
            e_sr[:, start:stop] = sr.reshape(distances.numel(), n_pairs).T.numpy()
            e_lr[:, start:stop] = lr.reshape(distances.numel(), n_pairs).T.numpy()
    return e_sr, e_lr


def lj_sigma_epsilon(c0: float, c1: float) -> tuple[float, float]:
    """σ (Å) and ε (kcal/mol) of |C1|/r¹² − |C0|/r⁶ = 4ε[(σ/r)¹² − (σ/r)⁶].

    σ = (C1/C0)^(1/6) and ε = C0²/(4·C1), from
    :func:`virialff.forcefield.pair_potential.lennard_jones_parameters`; the paper's Eq. 27
    (σ = C0/C1) is not dimensionally right. The minimum is at 2^(1/6)·σ.
    """
    from virialff.forcefield.pair_potential import lennard_jones_parameters

    if c0 == 0 or c1 == 0:
        return float("nan"), float("nan")
    sigma, epsilon, _ = lennard_jones_parameters(float(c0), float(c1))
    return float(sigma), float(epsilon)


def attach_charges(pairs: pd.DataFrame, charges: pd.DataFrame) -> pd.DataFrame:
    """Add ``charge_i``, ``charge_j`` (e) to the pair table from the per-atom charge table.

    Pairs whose atoms have no charge are dropped (they would otherwise carry NaN energies).
    """
    table = charges[["molecule_id", "atom", "charge_e"]]
    out = pairs.merge(table.rename(columns={"atom": "atom_i", "charge_e": CHARGE_COLUMNS[0]}),
                      on=["molecule_id", "atom_i"], how="left")
    out = out.merge(table.rename(columns={"atom": "atom_j", "charge_e": CHARGE_COLUMNS[1]}),
                    on=["molecule_id", "atom_j"], how="left")
    return out.dropna(subset=list(CHARGE_COLUMNS)).reset_index(drop=True)


def select_kind(table: pd.DataFrame, kind: Sequence[str], bonded: bool) -> pd.DataFrame:
    """Rows of ``table`` for the unordered element pair ``kind`` and the bonded flag."""
    a, b = kind
    ei, ej = table["element_i"].astype(str), table["element_j"].astype(str)
    match = ((ei == a) & (ej == b)) | ((ei == b) & (ej == a))
    return table[match & (table["bonded"].astype(bool) == bonded)]


@dataclass
class TypicalCurve:
    """Median and quartiles of E(r) over the pairs of one kind (kcal/mol on grid ``r``)."""

    r: np.ndarray
    total: np.ndarray
    q25: np.ndarray
    q75: np.ndarray
    short_range: np.ndarray
    long_range: np.ndarray
    n_pairs: int
    sigma: float
    epsilon: float


def typical_curve(rows: pd.DataFrame, r: np.ndarray, bonded: bool, use_charges: bool,
                  max_pairs: int = 5000, seed: int = 0) -> TypicalCurve:
    """Evaluate E(r) for (a sample of) ``rows`` and summarise it point by point."""
    if len(rows) > max_pairs:
        rows = rows.sample(n=max_pairs, random_state=seed)
    params = rows[list(PARAMETER_COLUMNS)].to_numpy(dtype=float)
    qiqj = None
    if use_charges:
        qiqj = rows[CHARGE_COLUMNS[0]].to_numpy(float) * rows[CHARGE_COLUMNS[1]].to_numpy(float)
    flags = np.full(len(rows), bonded)
    e_sr, e_lr = pair_energy_components(r, params, flags, qiqj)
    total = e_sr + e_lr
    sigma, epsilon = lj_sigma_epsilon(float(np.median(np.abs(params[:, 0]))),
                                      float(np.median(np.abs(params[:, 1]))))
    return TypicalCurve(
        r=r, total=np.median(total, axis=0), q25=np.quantile(total, 0.25, axis=0),
        q75=np.quantile(total, 0.75, axis=0), short_range=np.median(e_sr, axis=0),
        long_range=np.median(e_lr, axis=0), n_pairs=len(rows), sigma=sigma, epsilon=epsilon,
    )


def _ylim(curve: TypicalCurve, bonded: bool) -> tuple[float, float]:
    """Bonded: the whole band. Non-bonded: the well and the start of the wall, not the r⁻¹²
    blow-up at short range."""
    q25, q75 = curve.q25[np.isfinite(curve.q25)], curve.q75[np.isfinite(curve.q75)]
    if bonded:
        low, high = float(np.min(q25)), float(np.max(q75))
        pad = 0.08 * max(high - low, 0.1)
        return low - pad, high + pad
    values = np.concatenate([curve.total, q25, q75, curve.short_range, curve.long_range])
    values = values[np.isfinite(values)]
    low = min(float(np.min(q25)), 0.0)
    span = max(float(np.quantile(values, 0.5)) - low, abs(low), 0.05)
    return low - 0.15 * span, low + 2.2 * span


def draw_pair_potentials(table: pd.DataFrame, kinds: Sequence[tuple[str, str]] = PAIR_KINDS,
                         n_grid: int = 300, max_pairs: int = 5000, seed: int = 0):  # noqa: ANN201
    """Two rows (bonded, non-bonded) × one column per pair kind of typical E(r) curves."""
    use_charges = all(column in table.columns for column in CHARGE_COLUMNS)
    color = METHOD_PALETTE["virialff"]
    fig, axes = plt.subplots(2, len(kinds), figsize=(3.0 * len(kinds), 5.8), squeeze=False)
    for row, bonded in enumerate((True, False)):
        lo, hi = BONDED_GRID if bonded else NONBONDED_GRID
        r = np.linspace(lo, hi, n_grid)
        for col, kind in enumerate(kinds):
            ax = axes[row, col]
            label = f"{kind[0]}–{kind[1]} {'bonded' if bonded else 'non-bonded'}"
            rows = select_kind(table, kind, bonded)
            if rows.empty:
                unavailable_panel(ax, label, "no such pairs in the predictions")
                continue
            curve = typical_curve(rows, r, bonded, use_charges, max_pairs=max_pairs, seed=seed)
            ax.fill_between(r, curve.q25, curve.q75, color=color, alpha=0.2, linewidth=0,
                            label="interquartile range")
            ax.plot(r, curve.total, color=color, linewidth=1.6, label="E = E_SR + E_LR")
            ax.plot(r, curve.short_range, color="#555555", linewidth=0.9, linestyle="--",
                    label="E_SR")
            if not bonded:
                ax.plot(r, curve.long_range, color="#D55E00", linewidth=0.9, linestyle=":",
                        label="E_LR")
                if np.isfinite(curve.sigma):
                    r_min = 2 ** (1 / 6) * curve.sigma
                    if lo < r_min < hi:
                        ax.axvline(r_min, color="#D55E00", linewidth=0.6, alpha=0.6)
                    ax.text(0.97, 0.05, f"LJ of median C0, C1:\nσ = {curve.sigma:.2f} Å, "
                            f"ε = {curve.epsilon:.3f} kcal/mol", transform=ax.transAxes, ha="right",
                            va="bottom", fontsize=6.5)
            ax.axhline(0, color="black", linewidth=0.5)
            ax.set_ylim(*_ylim(curve, bonded))
            ax.set_xlim(lo, hi)
            ax.set_title(f"{label} (N = {curve.n_pairs:,})", fontsize=9)
            ax.set_xlabel("r (Å)")
            if col == 0:
                ax.set_ylabel("E (kcal/mol)")
    handles, labels = [], []
    for ax in axes.flat:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            if text not in labels:
                handles.append(handle)
                labels.append(text)
    note = ("E_LR includes the Coulomb term with the predicted charges" if use_charges else
            "E_LR drawn without the Coulomb term (charges are per molecule, see Fig. 12): "
            "Lennard-Jones part only")
    fig.legend(handles, labels, loc="lower center", ncol=max(len(labels), 1), fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.text(0.5, -0.06, f"Median over predicted pairs at each r. {note}. "
             "σ = (C1/C0)^(1/6), ε = C0²/(4·C1) (kcal/mol); the line marks r_min = 2^(1/6)·σ.",
             ha="center", fontsize=7)
    fig.tight_layout()
    return fig, use_charges
