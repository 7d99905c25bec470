"""Global significance: empirical, Gross-Vitells and fitted trials factor."""

import math

import numpy as np
import pytest
from scipy import signal, stats
from toy_fixtures import N_BINS, UniformSampler, bump_scan

from lee.significance import (
    ExtrapolationWarning,
    fit_trials_factor,
    global_p_curve,
    global_significance,
    upcrossings,
)
from lee.toys import ToyRunner


def max_of_independent(n_toys, n_trials, seed):
    """Toy maxima of ``n_trials`` independent one-sided local significances."""
    z = np.random.default_rng(seed).standard_normal((n_toys, n_trials))
    return np.maximum(z, 0).max(axis=1)


def gaussian_process_scans(n_toys, n_windows, length, seed):
    """Smooth stationary unit-variance Gaussian process, clipped at 0 like local Z.

    White noise convolved with a Gaussian of standard deviation ``length`` windows:
    correlation exp(-d^2 / (4 length^2)) between windows ``d`` apart.
    """
    half = int(4 * length)
    offsets = np.arange(-half, half + 1)
    kernel = np.exp(-(offsets**2) / (2 * length**2))
    kernel /= np.sqrt(np.sum(kernel**2))
    noise = np.random.default_rng(seed).standard_normal((n_toys, n_windows + 2 * half))
    z = signal.fftconvolve(noise, kernel[None, :], mode="valid", axes=1)

    return np.maximum(z, 0)


# -- empirical ------------------------------------------------------------------------


def test_empirical_p_is_the_fraction_at_or_above_with_clopper_pearson():
    maxima = np.array([0.0, 1.0, 2.0, 3.0, 2.0])
    glob = global_significance(2.0, maxima, cl=0.9)
    expected = stats.binomtest(3, 5).proportion_ci(confidence_level=0.9)

    assert glob.p_value == 3 / 5 and not glob.is_limit
    assert glob.p_interval == pytest.approx((expected.low, expected.high), rel=1e-10)
    assert glob.z == 0.0  # p >= 0.5 means no excess
    assert glob.details["n_exceeding"] == 3


def test_empirical_p_matches_exact_p_of_independent_trials():
    # Exact: P(max of 20 independent Z >= 2.5) = 1 - Phi(2.5)^20. A 99.73% interval
    # misses it for 0.27% of seeds.
    glob = global_significance(2.5, max_of_independent(4000, 20, seed=1), cl=0.9973)
    exact = -math.expm1(20 * stats.norm.logcdf(2.5))

    assert glob.p_interval[0] <= exact <= glob.p_interval[1]
    assert glob.z_interval[0] <= stats.norm.isf(exact) <= glob.z_interval[1]


def test_no_exceedance_gives_a_finite_upper_limit():
    maxima = max_of_independent(500, 5, seed=2)
    glob = global_significance(6.0, maxima)

    assert glob.is_limit
    assert glob.p_value == pytest.approx(1 - (1 - 0.6827) ** (1 / 500), rel=1e-12)
    assert glob.p_interval == (0.0, glob.p_value)
    assert math.isfinite(glob.z) and glob.z == pytest.approx(
        stats.norm.isf(glob.p_value)
    )
    assert glob.z_interval == (glob.z, math.inf)
    assert str(glob).startswith("global p < ")


def test_conservative_variant_counts_failed_toys_as_exceedances():
    maxima = np.array([0.5, 1.0, 3.5, np.nan, np.nan, 0.0, 2.0, 1.5])
    plain = global_significance(3.0, maxima)
    conservative = global_significance(3.0, maxima, conservative=True)

    assert plain.p_value == 1 / 6 and plain.n_failed == 2 and plain.n_toys == 8
    assert conservative.p_value == 3 / 8
    assert conservative.failure_rate == 2 / 8


def test_toys_on_non_overlapping_windows_reproduce_the_independent_trials_p():
    # Ten single-bin windows with known mean b = 100 on a uniform background: bin
    # counts are independent Poisson, so P(max Z >= Z(n*)) = 1 - (1 - p_local)^10
    # with p_local = P(N >= n* | b). The 99.73% Clopper-Pearson interval of 400 toys
    # misses it for 0.27% of seeds.
    n_events, n_star = 1000, 122
    b = n_events / N_BINS
    p_local = stats.poisson.sf(n_star - 1, b)
    u = stats.norm.isf(p_local) - 1e-6  # just below the Z of a count of n*
    runner = ToyRunner(
        UniformSampler(),
        bump_scan(n_events),
        n_events,
        backend="sequential",
        random_state=3,
        progress=False,
    )
    toys = runner.run(400)

    glob = global_significance(u, toys, cl=0.9973)
    exact = 1 - (1 - p_local) ** N_BINS
    assert glob.p_interval[0] <= exact <= glob.p_interval[1]
    assert 0.05 < exact < 0.3  # the check is informative: p well inside (0, 1)


# -- Gross-Vitells --------------------------------------------------------------------


def test_upcrossings_count_below_to_above_steps_and_skip_invalid_windows():
    z = np.array(
        [
            [0.0, 2.0, 0.0, 1.0, 3.0],  # two upcrossings of 1.5
            [2.0, 0.0, np.nan, 2.0, 0.0],  # starts above: one, across the NaN
            [np.nan, np.nan, 0.0, 0.0, 0.0],  # none
        ]
    )
    two_curves = np.stack([z, z], axis=2)

    np.testing.assert_array_equal(upcrossings(z, 1.5), [2, 1, 0])
    np.testing.assert_array_equal(upcrossings(two_curves, 1.5), [4, 2, 0])


def test_gross_vitells_agrees_with_brute_force_on_a_smooth_gaussian_process():
    # Brute force: 20,000 scans give P(max Z >= 3) ~ 0.09 to 2% (one standard error).
    # Gross-Vitells from 1,000 scans (~4,000 upcrossings of u0 = 1: 1.6% error). The
    # formula is an upper bound, tight at high Z; on this fine scan (correlation
    # length 5 windows) it lies ~9% above brute force. 20% is the target
    # and leaves > 4 standard errors for fluctuations.
    brute = gaussian_process_scans(20_000, 400, length=5, seed=10).max(axis=1)
    few = gaussian_process_scans(1_000, 400, length=5, seed=11)

    p_brute = np.mean(brute >= 3.0)
    glob = global_significance(3.0, few, method="gross-vitells", u0=1.0)

    assert glob.p_value == pytest.approx(p_brute, rel=0.2)
    assert glob.p_interval[0] < glob.p_value < glob.p_interval[1]
    assert glob.details["n_upcrossings"] > 1000


def test_gross_vitells_overestimates_on_a_coarse_scan():
    # Every 8th window of the same process: windows are 1.6 correlation lengths
    # apart, the discrete maximum lies below the continuous one and the
    # extrapolation is conservative. Brute force from 20,000 scans (2% error).
    coarse = gaussian_process_scans(21_000, 400, length=5, seed=12)[:, ::8]
    p_brute = np.mean(coarse[1000:].max(axis=1) >= 3.0)

    glob = global_significance(3.0, coarse[:1000], method="gross-vitells")

    assert glob.p_value > 1.1 * p_brute


def test_gross_vitells_needs_the_full_significance_arrays():
    with pytest.raises(ValueError, match="needs the toys' full significance arrays"):
        global_significance(3.0, np.array([1.0, 2.0]), method="gross-vitells")
    with pytest.raises(ValueError, match="u0 must be a positive"):
        global_significance(3.0, np.zeros((3, 4)), method="gross-vitells", u0=0.0)


def test_gross_vitells_without_upcrossings_is_a_limit():
    glob = global_significance(3.0, np.zeros((50, 10)), method="gross-vitells")

    assert glob.is_limit and glob.details["n_upcrossings"] == 0
    assert 0 < glob.p_value < 1 and math.isfinite(glob.z)


# -- trials factor --------------------------------------------------------------------


def test_trials_factor_recovers_the_number_of_independent_trials():
    # 3,000 toys of the max of 20 independent Z: N_eff within 3 Hesse errors of 20
    # (fails for 0.27% of seeds), and the MINOS interval brackets the estimate.
    fit = fit_trials_factor(max_of_independent(3000, 20, seed=4))

    assert abs(fit.n_eff - 20) < 3 * fit.error
    assert fit.interval[0] < fit.n_eff < fit.interval[1]
    assert fit.error / fit.n_eff < 0.05


def test_trials_factor_ignores_the_point_mass_at_zero():
    maxima = max_of_independent(500, 3, seed=5)
    more_zeros = np.concatenate([maxima, np.zeros(300)])

    assert fit_trials_factor(more_zeros).n_eff == fit_trials_factor(maxima).n_eff


def test_trials_factor_p_value_follows_the_fitted_model():
    maxima = max_of_independent(2000, 10, seed=6)
    glob = global_significance(2.8, maxima, method="trials-factor")
    n_eff = glob.details["n_eff"]

    assert glob.p_value == pytest.approx(1 - stats.norm.cdf(2.8) ** n_eff, rel=1e-9)
    low, high = glob.p_interval
    assert low < glob.p_value < high and not glob.is_limit


def test_trials_factor_warns_far_above_the_fitted_range():
    maxima = max_of_independent(300, 10, seed=7)

    with pytest.warns(ExtrapolationWarning, match="extrapolates"):
        glob = global_significance(maxima.max() + 1.5, maxima, method="trials-factor")
    assert 0 < glob.p_value < 1e-3


def test_trials_factor_needs_maxima_above_zero():
    with pytest.raises(ValueError, match="at least 10 toy maxima above 0"):
        fit_trials_factor(np.zeros(100))


# -- common behaviour -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["empirical", "gross-vitells", "trials-factor"])
def test_global_p_decreases_with_the_local_significance(method):
    scans = gaussian_process_scans(500, 100, length=3, seed=8)
    z = np.linspace(1.5, 4.0, 11)

    p, low, high = global_p_curve(z, scans, method)

    assert np.all(np.diff(p) <= 0)
    assert np.all(low <= p) and np.all(p <= high) and np.all(high <= 1)


def test_observed_may_be_a_scan_result():
    scan = bump_scan(1000)
    sample = UniformSampler().sample(1000, random_state=9)
    result = scan.run(sample, features=["m", "x"])
    maxima = max_of_independent(200, 10, seed=9)

    from_result = global_significance(result, maxima)
    assert from_result == global_significance(result.max_significance, maxima)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "bayes"}, ValueError, "method must be one of"),
        ({"cl": 1.0}, ValueError, "cl must be a confidence level"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        global_significance(2.0, np.ones(10), **kwargs)


def test_observed_must_be_finite():
    with pytest.raises(ValueError, match="windows are all invalid"):
        global_significance(float("nan"), np.ones(10))
    with pytest.raises(TypeError, match="observed must be a ScanResult or a number"):
        global_significance("big", np.ones(10))
