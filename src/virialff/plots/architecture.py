"""Fig. 4: the architecture of both stages, drawn from the model configuration.

Nothing here is a pasted image: the number of message-passing steps, hidden widths, and the
number and width of the linear layers of every head come from ``training.embedding`` and
``training.potential`` of the workflow config, so the drawing changes with the config.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

#: Edge features of stage 1 (bond types) and pair features of stage 2 (non-covalent + bond types).
N_BOND_FEATURES = 4
N_PAIR_FEATURES = 5
N_POTENTIAL_PARAMETERS = 14
#: the settings of training.embedding / training.potential the figure draws or prints.

_INPUT = "#F0F0F0"
_GNN = "#CFE3F3"
_HEAD = "#FBE3C0"
_PHYS = "#D8EFE4"
_LOSS = "#F6D5E6"


def mlp_layer_sizes(n_in: int, width: int, n_layers: int, n_out: int) -> list[tuple[int, int]]:
    """(in, out) sizes of ``n_layers`` linear layers mapping ``n_in`` → ``width`` … → ``n_out``."""
    if n_layers < 1:
        raise ValueError("an MLP needs at least one linear layer")
    sizes = [n_in] + [width] * (n_layers - 1) + [n_out]
    return list(zip(sizes[:-1], sizes[1:], strict=True))


def _box(ax, x: float, y: float, w: float, h: float, text: str, color: str,  # noqa: ANN001
         fontsize: float = 7.5, weight: str = "normal") -> tuple[float, float, float, float]:
    """Draw a rounded box centred at (x, y); return its (left, right, bottom, top)."""
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.3,rounding_size=0.8",
                           facecolor=color, edgecolor="#444444", linewidth=0.8)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, weight=weight)
    return (x - w / 2, x + w / 2, y - h / 2, y + h / 2)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], text: str = "",  # noqa: ANN001
           color: str = "#444444", rad: float = 0.0) -> None:
    """Draw an arrow from ``start`` to ``end`` with an optional label at its midpoint."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, linewidth=0.9,
                                 color=color, connectionstyle=f"arc3,rad={rad}",
                                 shrinkA=2, shrinkB=2))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 1.2, text, ha="center",
                va="bottom", fontsize=6.5, color="#333333")


def _mlp(ax, x: float, y: float, name: str, sizes: Sequence[tuple[int, int]], color: str,  # noqa: ANN001
         activation: str = "LeakyReLU") -> tuple[float, float]:
    """Draw an MLP as one bar per linear layer (bar height grows with the layer's output width).

    Returns the x of its left and right ends.
    """
    n = len(sizes)
    gap = 2.2
    bar_w = 1.3
    total = n * bar_w + (n - 1) * gap
    left = x - total / 2
    biggest = max(out for _, out in sizes)
    for k, (n_in, n_out) in enumerate(sizes):
        h = 3.0 + 7.0 * (n_out / biggest) ** 0.5
        bx = left + k * (bar_w + gap)
        ax.add_patch(FancyBboxPatch((bx, y - h / 2), bar_w, h, boxstyle="square,pad=0",
                                    facecolor=color, edgecolor="#444444", linewidth=0.7))
        ax.text(bx + bar_w / 2, y - h / 2 - 0.8, f"{n_in}→{n_out}", rotation=90, ha="center",
                va="top", fontsize=5.5)
        if k < n - 1:
            ax.text(bx + bar_w + gap / 2, y, "σ", ha="center", va="center", fontsize=6,
                    color="#666666")
    ax.text(x, y + 7.2, f"{name}\n{n} linear layers, {activation}", ha="center", va="bottom",
            fontsize=7, weight="bold")
    return left, left + total


def draw_architecture(
    embedding: Mapping[str, Any],
    potential: Mapping[str, Any],
    n_elements: int,
    n_bond_features: int = N_BOND_FEATURES,
    n_pair_features: int = N_PAIR_FEATURES,
):  # noqa: ANN201 - matplotlib Figure
    """Draw stage 1 (embedding MPNN with its K·D heads) and stage 2 (charges, pair parameters).

    ``embedding`` and ``potential`` are ``config["training"]["embedding"]`` and
    ``config["training"]["potential"]``; ``n_elements`` is the one-hot width.
    """
    hidden = int(embedding["hidden_width"])
    steps = int(embedding["message_passing_steps"])
    atom_sizes = mlp_layer_sizes(hidden, int(embedding["atom_head_width"]),
                                 int(embedding["atom_head_layers"]), 1)
    edge_sizes = mlp_layer_sizes(hidden + n_bond_features, int(embedding["edge_head_width"]),
                                 int(embedding["edge_head_layers"]), 1)
    charge_sizes = mlp_layer_sizes(hidden, int(potential["charge_net_width"]),
                                   int(potential["charge_net_layers"]), 1)
    feats_sizes = mlp_layer_sizes(2 * hidden + n_pair_features, int(potential["feats_net_width"]),
                                  int(potential["feats_net_layers"]), N_POTENTIAL_PARAMETERS)
    pretrained = bool(potential.get("pretrained_embeddings", True))

    fig, axes = plt.subplots(2, 1, figsize=(10.5, 8.4))
    for ax in axes:
        ax.set_xlim(0, 120)
        ax.set_ylim(-4, 50)
        ax.axis("off")

    # (a) stage 1
    ax = axes[0]
    ax.set_title("(a) Stage 1: embeddings trained on the virial descriptors K·D", loc="left",
                 fontsize=9, weight="bold")
    _box(ax, 10, 34, 15, 7, f"atoms x_i\none-hot element\n({n_elements})", _INPUT)
    _box(ax, 10, 16, 15, 7, f"bonds e_ij\none-hot bond type\n({n_bond_features})", _INPUT)
    _box(ax, 35, 25, 19, 16,
         f"MPNN\nedge network + GRU\n{steps} message-passing\nsteps, width {hidden}", _GNN,
         weight="bold")
    _arrow(ax, (17.8, 33), (25.3, 28))
    _arrow(ax, (17.8, 17), (25.3, 22))
    _box(ax, 53, 25, 9, 6, f"h_i\n({hidden})", _GNN)
    _arrow(ax, (44.8, 25), (48.3, 25))
    la, ra = _mlp(ax, 72, 36, "MLP_atom(h_i)", atom_sizes, _HEAD)
    le, re_ = _mlp(ax, 72, 11, "MLP_edge((h_i + h_j) ‖ e_ij)", edge_sizes, _HEAD)
    _arrow(ax, (57.7, 27), (la - 1, 36))
    _arrow(ax, (57.7, 23), (le - 1, 11))
    _arrow(ax, (17.8, 14.5), (le - 1, 8.5), rad=0.12)
    _box(ax, 96, 36, 12, 5, "KD̂_atom,i", _HEAD)
    _box(ax, 96, 11, 12, 5, "KD̂_pair,ij\n(bonded i, j)", _HEAD)
    _arrow(ax, (ra + 1, 36), (89.7, 36))
    _arrow(ax, (re_ + 1, 11), (89.7, 11))
    _box(ax, 111, 23.5, 14, 14, "loss: MAE of\nΣ KD̂_atom\n+ Σ KD̂_pair\n− Tr(D·K)", _LOSS,
         fontsize=7)
    _arrow(ax, (102.2, 35), (105, 29))
    _arrow(ax, (102.2, 12), (105, 18))
    ax.text(60, -3.5, f"batch {embedding['batch_size']}, Adam lr {embedding['learning_rate']:g}, "
            f"{embedding['epochs']} epochs", ha="center", fontsize=6.5, color="#555555")

    # (b) stage 2
    ax = axes[1]
    title = ("(b) Stage 2: pair-potential parameters from frozen embeddings" if pretrained else
             "(b) Stage 2: pair-potential parameters, embeddings learned from scratch (ablation)")
    ax.set_title(title, loc="left", fontsize=9, weight="bold")
    _box(ax, 10, 25, 15, 10, f"h_i, h_j\n({hidden} each)\n"
         + ("frozen stage 1" if pretrained else "trained here"), _GNN)
    _box(ax, 10, 8, 15, 6, f"pair type\n({n_pair_features}: non-bonded + 4)", _INPUT)
    lc, rc = _mlp(ax, 40, 37, "charge_net(h_i)", charge_sizes, _HEAD)
    lf, rf = _mlp(ax, 40, 14, "feats_net(h_i ‖ h_j ‖ e_ij)", feats_sizes, _HEAD)
    _arrow(ax, (17.8, 28), (lc - 1, 37))
    _arrow(ax, (17.8, 22), (lf - 1, 14))
    _arrow(ax, (17.8, 8), (lf - 1, 12))
    charge_label = "Q_i\nneutral per\nmolecule" if potential.get("neutral_charges") else "Q_i (e)"
    _box(ax, 62, 37, 10, 7, charge_label, _HEAD, fontsize=6.5)
    _box(ax, 62, 14, 11, 5, f"C_0 … C_{N_POTENTIAL_PARAMETERS - 1}\nsymmetric in i, j", _HEAD,
         fontsize=6.5)
    _arrow(ax, (rc + 1, 37), (56.2, 37))
    _arrow(ax, (rf + 1, 14), (56.2, 14))
    _box(ax, 84, 37, 21, 9, "E_LR (non-bonded pairs)\n332.06·Q_iQ_j/r\n− |C_0|/r⁶ + |C_1|/r¹²",
         _PHYS, fontsize=6.8)
    _box(ax, 84, 14, 21, 9, "E_SR (all pairs)\nΣ_k C_2k·exp(−(r − r_k)²\n/(C_2k+1² + 10⁻⁵))",
         _PHYS, fontsize=6.8)
    _box(ax, 84, 25.5, 13, 4, "r_ij = |R_i − R_j|", _INPUT, fontsize=6.8)
    _arrow(ax, (67.9, 37), (73.2, 37))
    _arrow(ax, (67.9, 14), (73.2, 14))
    _arrow(ax, (67.9, 16), (73.2, 34.5), text="", rad=0.0)
    ax.text(69.5, 26.5, "C_0, C_1", fontsize=6.3, color="#333333", ha="right", va="center")
    _arrow(ax, (84, 27.8), (84, 32.3))
    _arrow(ax, (84, 23.3), (84, 18.7))
    _box(ax, 110, 25.5, 16, 14, "E = E_lin(N)\n+ Σ_pairs\n(E_SR + E_LR)\n\nloss: MAE vs E_DFT",
         _LOSS, fontsize=7)
    _arrow(ax, (94.8, 35), (101.7, 29))
    _arrow(ax, (94.8, 16), (101.7, 22))
    ax.text(60, -3.5,
            f"batch {potential['batch_size']}, Adam lr {potential['learning_rate']:g} "
            f"× {potential['lr_decay_factor']:g} every {potential['lr_decay_every_epochs']} "
            f"epochs, {potential['epochs']} epochs, coordinate noise "
            f"{potential['coordinate_noise_angstrom']:g} Å; kinetic model: same form, pair sum "
            "with the opposite sign", ha="center", fontsize=6.5, color="#555555")
    fig.tight_layout()
    return fig
