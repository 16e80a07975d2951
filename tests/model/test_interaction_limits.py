"""Interaction energies of the potential at infinite separation (paper Eq. 25,
E_int = E_A + E_B − E_AB): only the monopole Coulomb tail of the two molecules' net charges
survives, whatever the fitted intercept b of E_lin. A complex is one system of two molecules,
so b is counted once per covalent fragment and cancels."""

from __future__ import annotations

import copy

import pytest
import torch
from model_support import embedded
from rdkit import Chem

from virialff.chem.rdkit_mol import with_positions
from virialff.model.potential_model import SMALL_MODEL_CONFIG
from virialff.model.predictor import Predictor
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

SEPARATION_ANGSTROM = 1000.0


def _model(neutral: bool, bias: float = 75.0) -> Predictor:
    config = copy.deepcopy(SMALL_MODEL_CONFIG)
    config["potential"]["neutral_charges"] = neutral
    predictor = Predictor.untrained(model_config=config, seed=5).astype(torch.float64)
    with torch.no_grad():
        predictor.model.bias_kcal_mol.fill_(bias)
        predictor.model.element_weights_kcal_mol.normal_(generator=torch.Generator().manual_seed(1))
        # free charges large enough that the monopole tail is well above 1e-6 kcal/mol
        predictor.model.charge_net[-1].bias.fill_(0.05)
    return predictor


def _apart(a: Chem.Mol, b: Chem.Mol, distance: float) -> Chem.Mol:
    moved = with_positions(b, b.GetConformer().GetPositions() + [distance, 0.0, 0.0])
    return Chem.CombineMols(a, moved)


@pytest.mark.parametrize("neutral", [False, True], ids=["free charges", "neutral charges"])
def test_far_apart_interaction_is_the_monopole_coulomb_term(neutral):
    predictor = _model(neutral)
    ethanol_a, ethanol_b = embedded("CCO", seed=1), embedded("CCO", seed=2)
    a, b = predictor.predict(ethanol_a), predictor.predict(ethanol_b)
    complex_ = _apart(ethanol_a, ethanol_b, SEPARATION_ANGSTROM)
    pair = predictor.predict(complex_)
    interaction = a.energy_kcal_mol + b.energy_kcal_mol - pair.energy_kcal_mol
    q_a, q_b = a.charges_e.sum(), b.charges_e.sum()
    # Every atom pair across is 1000 Å ± the molecules' size apart: the Coulomb sum over them,
    # 332·Σ q_i q_j / r_ij, is all that is left of E_AB − E_A − E_B ...
    n_a = ethanol_a.GetNumAtoms()
    xyz = torch.as_tensor(complex_.GetConformer().GetPositions())
    charges = torch.as_tensor(pair.charges_e)
    r = torch.cdist(xyz[:n_a], xyz[n_a:])
    coulomb = float(COULOMB_KCAL_MOL_ANGSTROM
                    * (charges[:n_a, None] * charges[None, n_a:] / r).sum())
    assert -interaction == pytest.approx(coulomb, abs=1e-6)
    # ... and at 1000 Å that is the monopole term of the two net charges to 1e-6 kcal/mol
    assert coulomb == pytest.approx(COULOMB_KCAL_MOL_ANGSTROM * q_a * q_b / SEPARATION_ANGSTROM,
                                    abs=1e-6)
    if neutral:
        assert abs(interaction) < 1e-6
    else:
        assert abs(q_a * q_b) > 1e-3  # the test has a tail to find


def test_the_intercept_never_enters_an_interaction_energy():
    """E_AB − E_A − E_B does not move when b does (b = 0, 75, −20 kcal/mol)."""
    water, methanol = embedded("O"), embedded("CO")
    dimer = _apart(water, methanol, 3.5)
    values = []
    for bias in (0.0, 75.0, -20.0):
        predictor = _model(False, bias)
        e_ab = predictor.predict(dimer).energy_kcal_mol
        e_a, e_b = (predictor.predict(m).energy_kcal_mol for m in (water, methanol))
        values.append(e_a + e_b - e_ab)
    assert values == pytest.approx([values[0]] * 3, abs=1e-9)


def test_a_far_away_second_molecule_adds_its_own_energy_and_nothing_else():
    predictor = _model(True)
    ethanol, water = embedded("CCO"), embedded("O")
    alone = predictor.predict(ethanol).energy_kcal_mol
    water_alone = predictor.predict(water).energy_kcal_mol
    together = predictor.predict(_apart(ethanol, water, SEPARATION_ANGSTROM)).energy_kcal_mol
    assert together - alone == pytest.approx(water_alone, abs=1e-6)
