"""Fig. 4 follows the config; Fig. 13 uses the model's energy function on the predicted pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from paper_fixtures import predicted_charges, predicted_parameters

from virialff.config import load_config
from virialff.paper.build import REPO_ROOT
from virialff.plots.architecture import draw_architecture, mlp_layer_sizes
from virialff.plots.pair_potentials import (
    PAIR_KINDS,
    attach_charges,
    draw_pair_potentials,
    lj_sigma_epsilon,
    pair_energy_components,
    select_kind,
)
from virialff.plots.style import apply_theme, save_figure


def texts(fig) -> str:  # noqa: ANN001
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_mlp_layer_sizes() -> None:
    assert mlp_layer_sizes(350, 160, 3, 1) == [(350, 160), (160, 160), (160, 1)]
    assert mlp_layer_sizes(10, 5, 1, 2) == [(10, 2)]
    with pytest.raises(ValueError):
        mlp_layer_sizes(10, 5, 0, 2)


def test_architecture_is_drawn_from_the_config(tmp_path: Path) -> None:
    config = load_config(REPO_ROOT / "config.yaml")["training"]  # with the schema defaults
    apply_theme()
    fig = draw_architecture(config["embedding"], config["potential"], n_elements=9)
    text = texts(fig)
    emb = config["embedding"]
    assert f"{emb['message_passing_steps']} message-passing" in text
    assert f"{emb['atom_head_layers']} linear layers" in text
    changed = dict(emb, message_passing_steps=7, edge_head_layers=6, hidden_width=64)
    fig2 = draw_architecture(changed, config["potential"], n_elements=9)
    text2 = texts(fig2)
    assert "7 message-passing" in text2 and "6 linear layers" in text2 and "(64)" in text2
    save_figure(fig2, tmp_path / "fig04.png")
    assert (tmp_path / "fig04.png").stat().st_size > 10_000
    assert (tmp_path / "fig04.pdf").exists()


def test_pair_energy_matches_the_formulas() -> None:
    params = np.array([[600.0, 9.8e5, 1.0, 0.3, -2.0, 0.5, 0, 0.1, 0, 0.1, 0, 0.1, 0.5, 0.2]])
    r = np.linspace(1.0, 6.0, 11)
    sr, lr = pair_energy_components(r, params, np.array([False]), np.array([-0.1]))
    centres = 1.2 + 0.6 * np.arange(6)
    expected_sr = sum(params[0, 2 + 2 * k] * np.exp(-(r - centres[k]) ** 2
                                                    / (params[0, 3 + 2 * k] ** 2 + 1e-5))
                      for k in range(6))
    expected_lr = 332.0637 * -0.1 / r - 600.0 / r**6 + 9.8e5 / r**12
    np.testing.assert_allclose(sr[0], expected_sr, atol=1e-10)
    np.testing.assert_allclose(lr[0], expected_lr, rtol=1e-12)
    _, lr_bonded = pair_energy_components(r, params, np.array([True]), np.array([-0.1]))
    assert np.all(lr_bonded == 0.0)


def test_lj_sigma_epsilon_is_the_corrected_eq27() -> None:
    sigma, epsilon = 3.4, 0.1
    c0, c1 = 4 * epsilon * sigma**6, 4 * epsilon * sigma**12
    s, e = lj_sigma_epsilon(c0, c1)
    assert s == pytest.approx(sigma) and e == pytest.approx(epsilon)


def test_fig13_from_fixture_pairs(tmp_path: Path) -> None:
    pairs = predicted_parameters()
    with_charges = attach_charges(pairs, predicted_charges(pairs))
    assert len(with_charges) == len(pairs)
    for kind in PAIR_KINDS:
        assert not select_kind(pairs, kind, bonded=False).empty
    apply_theme()
    fig, used = draw_pair_potentials(with_charges, n_grid=60)
    assert used
    titles = [ax.get_title() for ax in fig.axes]
    assert any(t.startswith("O–H non-bonded") for t in titles)
    save_figure(fig, tmp_path / "fig13.png")
    no_nitrogen = pairs[(pairs["element_i"] != "N") & (pairs["element_j"] != "N")]
    fig, used = draw_pair_potentials(no_nitrogen, n_grid=40)
    assert not used
    assert "not available" in texts(fig)
