"""Proper torsions as one Ryckaert–Bellemans row each (``to_openmm_system(torsions="rb")``):
the same energy and forces as Amber's Fourier rows, in fewer rows, wherever it is exact."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from forcefield_support import embedded

from virialff.forcefield.amber_openmm import energy_and_forces, rb_coefficients, to_openmm_system
from virialff.model.gbffs import GBFFsPredictor, untrained_gbffs_model
from virialff.model.potential_model import SMALL_MODEL_CONFIG


def _fourier(phi: np.ndarray, n: list[int], gamma: list[float], k: list[float]) -> np.ndarray:
    return sum(kk * (1.0 + np.cos(nn * phi - gg)) for nn, gg, kk in zip(n, gamma, k, strict=True))


def _rb(phi: np.ndarray, c: np.ndarray) -> np.ndarray:
    psi = phi - math.pi  # OpenMM's RB angle
    return sum(c[m] * np.cos(psi) ** m for m in range(6))


@pytest.mark.parametrize("seed", range(5))
def test_rb_coefficients_give_the_fourier_energy_at_every_angle(seed):
    rng = np.random.default_rng(seed)
    n = [1, 2, 3, 4, 5, 2]
    gamma = rng.choice([0.0, math.pi, -math.pi, 2.0 * math.pi], size=len(n)).tolist()
    k = rng.normal(0.0, 2.0, size=len(n)).tolist()
    phi = np.linspace(-math.pi, math.pi, 721)
    c = rb_coefficients(n, gamma, k)
    np.testing.assert_allclose(_rb(phi, c), _fourier(phi, n, gamma, k), atol=1e-12)


def test_a_phase_other_than_0_or_pi_or_a_periodicity_above_5_is_not_written_as_rb():
    assert rb_coefficients([2], [math.pi / 2], [1.0]) is None
    assert rb_coefficients([6], [0.0], [1.0]) is None
    assert rb_coefficients([3, 2], [0.0, math.pi], [1.0, 0.5]) is not None


@pytest.fixture(scope="module")
def gbffs_parameters():
    """GB-FFs parameters (V1–V4 on every torsion) of two molecules from an untrained head whose
    last layers are large enough that every torsion amplitude differs."""
    model, config = untrained_gbffs_model(SMALL_MODEL_CONFIG["embedding"], seed=4)
    generator = torch.Generator().manual_seed(9)
    with torch.no_grad():
        for head in (model.proper_head, model.improper_head):
            head[-1].weight.copy_(0.3 * torch.randn(head[-1].weight.shape, generator=generator))
    predictor = GBFFsPredictor(model, {"config": config}).astype(torch.float64)
    mols = [embedded("OCC(F)c1ccncc1", seed=3), embedded("CC(=O)NC", seed=5)]
    return [predictor.amber_parameters(m, f"m{i}") for i, m in enumerate(mols)], mols


def _positions(mols) -> np.ndarray:
    rng = np.random.default_rng(0)
    xyz = [m.GetConformer().GetPositions() + [8.0 * i, 0.0, 0.0] for i, m in enumerate(mols)]
    return np.vstack(xyz) + rng.normal(0.0, 0.05, size=(sum(m.GetNumAtoms() for m in mols), 3))


def _torsion_rows(system) -> dict[str, int]:  # noqa: ANN001 - openmm.System
    rows = {"PeriodicTorsionForce": 0, "RBTorsionForce": 0}
    for force in system.getForces():
        name = type(force).__name__
        if name in rows:
            rows[name] += force.getNumTorsions()
    return rows


def test_rb_torsions_give_the_periodic_systems_energy_and_forces(gbffs_parameters):
    parameters, mols = gbffs_parameters
    positions = _positions(mols)
    periodic, rb = (to_openmm_system(parameters, torsions=form) for form in ("periodic", "rb"))
    e_periodic, f_periodic = energy_and_forces(periodic, positions)
    e_rb, f_rb = energy_and_forces(rb, positions)
    assert e_rb == pytest.approx(e_periodic, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(f_rb, f_periodic, rtol=1e-8, atol=1e-8)
    quartets = sum(len({tuple(q) for q in p.torsion_index.tolist()}) for p in parameters)
    rows_periodic, rows_rb = _torsion_rows(periodic), _torsion_rows(rb)
    n_impropers = sum(len(p.improper_k_kcal_mol) for p in parameters)
    assert rows_rb == {"RBTorsionForce": quartets, "PeriodicTorsionForce": n_impropers}
    assert rows_periodic["PeriodicTorsionForce"] == n_impropers + sum(
        len(p.torsion_k_kcal_mol) for p in parameters) > 3 * quartets


def test_a_torsion_rb_cannot_write_stays_periodic(gbffs_parameters):
    parameters, mols = gbffs_parameters
    first = parameters[0]
    phase = first.torsion_phase_rad.copy()
    phase[0] = 0.3  # one row of one torsion: that whole torsion stays Fourier
    odd = replace(first, torsion_phase_rad=phase)
    quartet = tuple(first.torsion_index[0])
    members = sum(tuple(q) == quartet for q in first.torsion_index.tolist())
    positions = _positions(mols)
    e_periodic, _ = energy_and_forces(to_openmm_system([odd, parameters[1]]), positions)
    rb = to_openmm_system([odd, parameters[1]], torsions="rb")
    assert energy_and_forces(rb, positions)[0] == pytest.approx(e_periodic, rel=1e-9)
    n_impropers = sum(len(p.improper_k_kcal_mol) for p in parameters)
    assert _torsion_rows(rb)["PeriodicTorsionForce"] == n_impropers + members


def test_an_unknown_torsion_form_is_refused(gbffs_parameters):
    with pytest.raises(ValueError, match="torsions 'cosine'"):
        to_openmm_system(gbffs_parameters[0], torsions="cosine")
