"""Feature formulas on hand-built four-vectors."""

import numpy as np
import pytest

from generators.kinematics import (
    delta_phi,
    delta_r,
    dilepton_features,
    eta,
    invariant_mass,
)


def vec(px, py, pz, e):
    return np.array([[px, py, pz, e]], dtype=float)


def test_m_ll_of_back_to_back_massless_leptons_is_twice_their_energy():
    features = dilepton_features(
        vec(50, 0, 0, 50), vec(-50, 0, 0, 50), np.zeros((1, 2))
    )
    assert features["m_ll"][0] == pytest.approx(100.0, rel=1e-12)
    assert features["pt_ll"][0] == pytest.approx(0.0, abs=1e-12)
    assert features["dphi_ll"][0] == pytest.approx(np.pi, rel=1e-12)


def test_mt_follows_the_definition_with_dilepton_et():
    # ll = (30, 40, 0, 70): pt_ll = 50, m_ll^2 = 2400, E_T(ll) = 70. The missing
    # momentum (-30, -40) balances it, so mt = 70 + 50 exactly.
    features = dilepton_features(
        vec(30, 0, 0, 30), vec(0, 40, 0, 40), np.array([[-30.0, -40.0]])
    )
    assert features["m_ll"][0] == pytest.approx(np.sqrt(2400.0), rel=1e-12)
    assert features["met"][0] == pytest.approx(50.0, rel=1e-12)
    assert features["mt"][0] == pytest.approx(120.0, rel=1e-12)


def test_mt_never_exceeds_the_invariant_mass_of_leptons_and_collinear_neutrinos():
    rng = np.random.default_rng(0)
    lep = rng.normal(0, 40, size=(1000, 2, 3))
    lep4 = np.concatenate([lep, np.linalg.norm(lep, axis=-1, keepdims=True)], axis=-1)
    nu_xy = rng.normal(0, 40, size=(1000, 2))
    features = dilepton_features(lep4[:, 0], lep4[:, 1], nu_xy)
    # A massless neutrino system with zero pz: m(ll + nu) >= mt by construction.
    nu4 = np.column_stack([nu_xy, np.zeros(1000), np.hypot(*nu_xy.T)])
    total = invariant_mass(lep4[:, 0] + lep4[:, 1] + nu4)
    assert np.all(features["mt"] <= total * (1 + 1e-9) + 1e-9)


@pytest.mark.parametrize(
    ("phi1", "phi2", "expected"),
    [
        (3.0, -3.0, 2 * np.pi - 6.0),  # across the +-pi seam
        (-3.0, 3.0, 2 * np.pi - 6.0),
        (0.5, 0.2, 0.3),
        (0.0, np.pi, np.pi),
        (6.0, 0.0, 2 * np.pi - 6.0),  # angles outside (-pi, pi]
    ],
)
def test_delta_phi_wraps_into_zero_to_pi(phi1, phi2, expected):
    assert delta_phi(np.array(phi1), np.array(phi2)) == pytest.approx(expected)


def test_delta_r_combines_eta_and_wrapped_phi():
    # Two massless vectors at eta = 0 and eta = 1, phi = 3.0 and -3.0.
    p1 = vec(np.cos(3.0), np.sin(3.0), 0.0, 1.0)
    pz = np.sinh(1.0)
    p2 = vec(np.cos(-3.0), np.sin(-3.0), pz, np.hypot(1.0, pz))
    assert eta(p2)[0] == pytest.approx(1.0)
    assert delta_r(p1, p2)[0] == pytest.approx(np.hypot(1.0, 2 * np.pi - 6.0))


def test_invariant_mass_clips_rounding_below_zero():
    assert invariant_mass(vec(1.0, 0, 0, 1.0 - 1e-15))[0] == 0.0
