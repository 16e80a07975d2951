"""A small fixture results tree: committed metrics and tables, generated PNGs and parameters."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from virialff.paper import FIGURE_FILES, OPTIONAL_FIGURE_FILES

FIXTURES = Path(__file__).parent / "fixtures" / "results"


def write_figure(path: Path, number: int) -> None:
    """A tiny PNG whose bytes differ per figure number."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(1.2, 0.8), dpi=40)
    ax.text(0.5, 0.5, f"fixture Fig. {number}", ha="center", va="center", fontsize=6)
    ax.axis("off")
    fig.savefig(path)
    plt.close(fig)


def predicted_parameters(n_molecules: int = 6, seed: int = 0) -> pd.DataFrame:
    """Synthetic predicted pair parameters with physically plausible magnitudes."""
    rng = np.random.default_rng(seed)
    rows = []
    elements = ["C", "C", "C", "H", "H", "H", "O", "N", "H"]
    for m in range(n_molecules):
        for i in range(len(elements)):
            for j in range(i + 1, len(elements)):
                bonded = bool((j - i) == 1 or rng.random() < 0.1)
                sigma, eps = rng.normal(3.2, 0.2), abs(rng.normal(0.12, 0.03))
                c0, c1 = 4 * eps * sigma**6, 4 * eps * sigma**12
                sr = rng.normal(0.0, 2.0 if bonded else 0.1, size=6)
                widths = np.abs(rng.normal(0.4, 0.05, size=6))
                params = [c0, c1]
                for a, w in zip(sr, widths, strict=True):
                    params += [a, w]
                rows.append({
                    "molecule_id": f"demo_{m:03d}", "split": "test", "atom_i": i, "atom_j": j,
                    "element_i": elements[i], "element_j": elements[j], "bonded": bonded,
                    "pair_type": 1 if bonded else 0,
                    **{f"C{k}": v for k, v in enumerate(params)},
                    "sigma_angstrom": (c1 / c0) ** (1 / 6), "epsilon_kcal_mol": c0**2 / (4 * c1),
                })
    return pd.DataFrame(rows)


def predicted_charges(pairs: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """Per-atom charges (``molecule_id, split, atom, element, charge_e``) for the pair table."""
    rng = np.random.default_rng(seed)
    atoms = pd.concat([
        pairs[["molecule_id", "split", "atom_i", "element_i"]].set_axis(
            ["molecule_id", "split", "atom", "element"], axis=1),
        pairs[["molecule_id", "split", "atom_j", "element_j"]].set_axis(
            ["molecule_id", "split", "atom", "element"], axis=1),
    ]).drop_duplicates(["molecule_id", "atom"]).sort_values(["molecule_id", "atom"])
    base = {"H": 0.1, "C": -0.05, "N": -0.3, "O": -0.4}
    atoms["charge_e"] = [base[e] + rng.normal(0, 0.02) for e in atoms["element"]]
    return atoms.reset_index(drop=True)


def make_results_tree(root: Path, with_scratch: bool = True, with_paper: bool = False) -> Path:
    """Copy the committed fixtures to ``root`` and add every figure (PNG + PDF) and parameters.

    Modification times are staged like a finished run: data and metrics first, figures later,
    the paper (when ``with_paper``) last, so a dry run finds nothing to do.
    """
    root = Path(root)
    shutil.copytree(FIXTURES, root, dirs_exist_ok=True)
    if not with_scratch:
        (root / "metrics" / "total_scratch.json").unlink()
    (root / "evaluation").mkdir(parents=True, exist_ok=True)
    pairs = predicted_parameters()
    pairs.to_csv(root / "evaluation" / "predicted_parameters.csv", index=False)
    predicted_charges(pairs).to_csv(root / "evaluation" / "predicted_charges.csv", index=False)
    figures = []
    for number, name in {**FIGURE_FILES, **OPTIONAL_FIGURE_FILES}.items():
        png = root / "figures" / name
        write_figure(png, number)
        png.with_suffix(".pdf").write_bytes(b"%PDF-1.4 fixture\n")
        figures += [png, png.with_suffix(".pdf")]
    paper = []
    if with_paper:
        (root / "paper").mkdir(exist_ok=True)
        for name in ("paper.html", "paper.ipynb"):
            (root / "paper" / name).write_text("fixture\n")
            paper.append(root / "paper" / name)
    base = time.time() - 3600
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (base, base))
    for path in figures:
        os.utime(path, (base + 600, base + 600))
    for path in paper:
        os.utime(path, (base + 1200, base + 1200))
    return root
