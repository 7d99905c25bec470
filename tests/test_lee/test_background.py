"""Sideband fits: parameter recovery, error propagation, degree choice, failures."""

import numpy as np
import pytest

from generators.data import available_samples, load_sample
from lee.background import fit_background, poisson_deviance
from lee.regions import SlidingWindows
from lee.scan import BumpScan

EDGES = np.linspace(100.0, 220.0, 25)  # 24 bins of 5 GeV
SR = (EDGES[:-1] >= 150) & (EDGES[:-1] < 170)


def exponential_counts(norm, slope, edges=EDGES):
    """Exact bin integrals of norm * exp(slope * t), t the fit's scaled variable."""
    centre, half = 0.5 * (edges[0] + edges[-1]), 0.5 * (edges[-1] - edges[0])
    t = (edges - centre) / half
    return norm * half / slope * np.diff(np.exp(slope * t))


def test_fit_recovers_a_known_exponential_within_its_errors():
    # a0 = log(40), a1 = -1.5 in the fit's parametrisation exp(a0 + a1 t).
    truth = np.array([np.log(40.0), -1.5])
    mu = exponential_counts(40.0, -1.5)
    rng = np.random.default_rng(11)

    pulls = []
    for _ in range(200):
        fit = fit_background(rng.poisson(mu), EDGES, SR, degree=1)
        assert fit.valid
        pulls.append((fit.params - truth) / np.sqrt(np.diag(fit.covariance)))
    pulls = np.array(pulls)

    # 200 fits: the mean pull has a standard error of 0.07 and the width of 0.05;
    # the bands below are over 3.5 standard errors wide (false failure < 1e-3).
    np.testing.assert_allclose(pulls.mean(axis=0), 0.0, atol=0.25)
    np.testing.assert_allclose(pulls.std(axis=0), 1.0, atol=0.18)


def test_sr_yield_uncertainty_covers_the_truth():
    mu = exponential_counts(60.0, -2.0)
    true_sr = mu[SR].sum()
    rng = np.random.default_rng(12)

    pulls = []
    for _ in range(200):
        fit = fit_background(rng.poisson(mu), EDGES, SR, degree=2)
        pulls.append((fit.sr_yield - true_sr) / fit.sr_yield_err)
    pulls = np.array(pulls)

    # Same sizing as above: 3.5 standard errors of the mean and of the width.
    assert abs(pulls.mean()) < 0.25
    assert abs(pulls.std() - 1) < 0.18


def test_prediction_in_bins_and_band_agree_with_the_sr_yield():
    mu = exponential_counts(50.0, -1.0)
    fit = fit_background(np.round(mu), EDGES, SR, degree=1)

    np.testing.assert_allclose(fit.expected()[SR].sum(), fit.sr_yield)
    np.testing.assert_allclose(fit.expected(), mu, rtol=0.02)
    assert np.all(fit.expected_err() > 0)


def test_likelihood_ratio_test_adds_curvature_only_when_needed():
    centre, half = 160.0, 60.0
    t = (0.5 * (EDGES[1:] + EDGES[:-1]) - centre) / half
    curved = 5 * np.exp(8.0 - 1.0 * t - 1.2 * t**2)  # ~15k events, strong curvature
    straight = exponential_counts(2000.0, -1.0)

    assert fit_background(np.round(curved), EDGES, SR, min_degree=1).degree >= 2
    assert fit_background(np.round(straight), EDGES, SR, min_degree=1).degree == 1


def test_goodness_of_fit_flags_a_wrong_model():
    rng = np.random.default_rng(3)
    steps = np.where(EDGES[:-1] < 130, 300.0, 1000.0)  # a step is no smooth curve
    good = fit_background(rng.poisson(exponential_counts(300.0, -1.0)), EDGES, SR)
    bad = fit_background(rng.poisson(steps), EDGES, SR, degree=1)

    assert good.gof_pvalue > 1e-3
    assert bad.gof_pvalue < 1e-6
    assert good.gof_ndof == (~SR).sum() - (good.degree + 1)


def test_degree_needs_enough_sideband_bins():
    with pytest.raises(ValueError, match="needs at least 21 sideband bins"):
        fit_background(np.ones(24), EDGES, SR, degree=20)


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match="must describe the same bins"):
        fit_background(np.ones(10), EDGES, SR)


def test_to_dict_is_json_ready():
    import json

    fit = fit_background(np.round(exponential_counts(80.0, -1.0)), EDGES, SR)
    assert json.loads(json.dumps(fit.to_dict()))["degree"] == fit.degree


@pytest.mark.skipif(
    "ttbar_dilepton" not in available_samples(),
    reason="the bundled ttbar_dilepton sample is not installed",
)
def test_no_spurious_signal_on_ttbar_background():
    # The demo's windows, on seven disjoint 20,000-event slices of the test split:
    # for every window the mean pull of the SR count against the sideband fit,
    # (n - b) / sqrt(n + sigma_b^2), must be compatible with zero. The mean of 7
    # unit pulls has sd 0.38; |mean| < 1.3 is 3.5 sd, so the 14 windows together
    # fail by chance with probability about 0.6%.
    sample = load_sample("ttbar_dilepton", split="test")
    windows = SlidingWindows((40, 400), width=40, step=20, sideband=30, bins=8)
    scan = BumpScan(windows, "m_bb")

    pulls = []
    for k in range(7):
        res = scan.run(sample.X[k * 20_000 : (k + 1) * 20_000], sample.features)
        pull = (res.observed - res.expected) / np.sqrt(
            res.expected + res.expected_err**2
        )
        pulls.append(pull[:, 0])

    assert np.all(np.isfinite(pulls))
    assert np.all(np.abs(np.mean(pulls, axis=0)) < 1.3)


def test_deviance_of_bins_whose_prediction_underflows():
    # An empty bin predicted at exactly zero is a perfect fit; a filled one is not.
    assert poisson_deviance([0.0, 2.0], [0.0, 2.0]) == 0.0
    assert poisson_deviance([1.0, 2.0], [0.0, 2.0]) == np.inf
    # Elsewhere it is the textbook 2 * sum(mu - n + n ln(n / mu)).
    n, mu = np.array([0.0, 2.0, 3.0]), np.array([0.1, 1.0, 1.5])
    expected = 2 * (0.1 + (1 - 2 + 2 * np.log(2)) + (1.5 - 3 + 3 * np.log(2)))
    assert poisson_deviance(n, mu) == pytest.approx(expected, rel=1e-12)
