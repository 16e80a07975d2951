"""Learning-curve analysis: sizes, the power-law fit, the pretraining gap."""

from __future__ import annotations

import numpy as np
import pytest

from virialff.evaluate.learning_curve import (
    fit_power_law,
    learning_curve_sizes,
    pretraining_gap,
    summarise_learning_curve,
)


def test_sizes_are_log_spaced_from_the_minimum_to_all():
    assert learning_curve_sizes(1346, 100, 5) == [100, 192, 367, 703, 1346]
    assert learning_curve_sizes(48, 100, 5)[-1] == 48  # fewer compounds than the minimum
    with pytest.raises(ValueError, match="empty"):
        learning_curve_sizes(0, 100, 5)


def test_the_power_law_fit_recovers_slope_and_extrapolation():
    sizes = np.array([100, 200, 400, 800, 1600] * 2)
    rng = np.random.default_rng(0)
    maes = 40.0 * sizes ** -0.3 * np.exp(rng.normal(0, 0.01, sizes.size))
    law = fit_power_law(sizes, maes)
    assert law.slope == pytest.approx(-0.3, abs=0.02)
    assert 0 < law.slope_standard_error < 0.02
    assert law.predict(227_613) == pytest.approx(40.0 * 227_613 ** -0.3, rel=0.05)
    with pytest.raises(ValueError, match="at least 3 points"):
        fit_power_law([100, 100, 100], [1.0, 2.0, 3.0])


def test_the_pretraining_gap_is_the_ratio_of_scratch_to_pretrained():
    points = [{"size": n, "seed": s, "variant": v, "mae_kcal_mol": m}
              for n in (100, 1000) for s in (1, 2)
              for v, m in (("pretrained", 2.0), ("scratch", 3.0))]
    gap = pretraining_gap(points)
    assert gap["geometric_mean_ratio"] == pytest.approx(1.5)
    assert gap["ratio_by_size"] == {"100": pytest.approx(1.5), "1000": pytest.approx(1.5)}
    assert gap["ratio_standard_error"] == pytest.approx(0.0, abs=1e-12)


def test_the_summary_holds_every_number_the_paper_quotes():
    points = [{"target": t, "variant": v, "size": n, "seed": s,
               "mae_kcal_mol": (30.0 if v == "scratch" else 20.0) * n ** -0.25 * (1 + 0.01 * s)}
              for t in ("total", "kinetic") for v in ("pretrained", "scratch")
              for n in (100, 300, 1000) for s in (1, 2)]
    summary = summarise_learning_curve(points)
    total = summary["total"]
    assert total["fits"]["pretrained"]["slope"] == pytest.approx(-0.25, abs=1e-6)
    assert total["pretraining_gap"]["geometric_mean_ratio"] == pytest.approx(1.5, rel=1e-6)
    assert {p["n_seeds"] for p in total["points"]} == {2}
    assert total["fits"]["scratch"]["extrapolated_to"] == 227_613
