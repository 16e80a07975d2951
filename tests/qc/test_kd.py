"""The one acceptance check of a K·D result (virialff.qc.kd.density_failure), which every
engine's result passes through."""

from __future__ import annotations

import numpy as np

from virialff.qc.kd import SUM_RULE_TOLERANCE_HARTREE, density_failure, kd_partition


def _sound():
    rng = np.random.default_rng(1)
    k, d = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    kd_atom, kd_pair, trace = kd_partition(k + k.T, d + d.T, [0, 0, 1, 1, 2], 3)
    return {"kinetic_hartree": trace, "kd_atom_hartree": kd_atom, "kd_pair_hartree": kd_pair,
            "n_electrons_from_density": 10.0, "n_electrons": 10,
            "one_electron_residual_hartree": 2e-6, "one_electron_tolerance": 1e-5}


def test_a_sound_result_passes():
    assert density_failure(**_sound()) == ("", "")


def test_each_failure_is_named_in_one_line():
    cases = {
        "non-finite": ({"kd_atom_hartree": np.array([np.nan, 1.0, 2.0])}, "nan_value"),
        "sum rule broken": ({"kinetic_hartree": _sound()["kinetic_hartree"]
                             + 10 * SUM_RULE_TOLERANCE_HARTREE}, "inconsistent"),
        "Tr(D S)": ({"n_electrons_from_density": 10.01}, "inconsistent"),
        "not the converged density": ({"one_electron_residual_hartree": 1e-3}, "inconsistent"),
        "no K·D descriptors": ({"kd_pair_hartree": None}, "inconsistent"),
    }
    for fragment, (change, kind) in cases.items():
        got_kind, message = density_failure(**{**_sound(), **change})
        assert got_kind == kind and fragment in message and "\n" not in message, message


def test_the_one_electron_check_can_be_left_to_the_caller():
    assert density_failure(**{**_sound(), "one_electron_residual_hartree": None,
                              "one_electron_tolerance": None}) == ("", "")
