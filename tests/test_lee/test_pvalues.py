"""Local p-values: exact Poisson tails, the closed-form profile test, and pyhf."""

import numpy as np
import pyhf
import pytest
from scipy import stats

from lee.pvalues import (
    local_pvalue,
    onoff_binomial_pvalue,
    onoff_significance,
    p_to_z,
    poisson_pvalue,
    profile_significance,
)


def asimov_z(s, b):
    """Cowan, Cranmer, Gross, Vitells, arXiv:1007.1727, Eq. 97."""
    return np.sqrt(2 * ((s + b) * np.log(1 + s / b) - s))


def test_poisson_tail_matches_the_survival_function():
    n = np.array([1, 5, 12, 30, 80])
    b = np.array([0.5, 2.0, 4.0, 10.0, 40.0])

    np.testing.assert_allclose(
        poisson_pvalue(n, b), stats.poisson.sf(n - 1, b), rtol=1e-10
    )


def test_poisson_tail_keeps_precision_deep_in_the_tail():
    # P(N >= 60 | 10) is about 2e-24; 1 - cdf would round it to zero.
    p = poisson_pvalue(60, 10.0)

    assert 0 < p < 1e-20
    np.testing.assert_allclose(p, stats.poisson.sf(59, 10.0), rtol=1e-8)


@pytest.mark.parametrize("mode", ["poisson", "profile"])
def test_deficits_give_p_at_least_half_and_z_zero(mode):
    b = np.full(40, 25.3)
    n = np.arange(40) * 25 // 40  # every count up to b
    p, z = local_pvalue(n, b, 3.0, mode=mode)

    assert np.all(p >= 0.5)
    np.testing.assert_array_equal(z, 0.0)


def test_z_is_the_one_sided_normal_quantile():
    p = np.array([0.5, 0.1587, 0.02275, 1.35e-3, 2.87e-7])

    np.testing.assert_allclose(p_to_z(p), [0, 1, 2, 3, 5], atol=2e-3)
    assert p_to_z(0.9) == 0.0


@pytest.mark.parametrize(("s", "b"), [(5, 100), (30, 100), (10, 10), (3, 1)])
def test_profile_without_background_uncertainty_is_the_asimov_formula(s, b):
    np.testing.assert_allclose(profile_significance(s + b, b, 0.0), asimov_z(s, b))
    # A relative uncertainty of 1e-6 on b changes Z by far less than 1e-4.
    np.testing.assert_allclose(
        profile_significance(s + b, b, 1e-6 * b), asimov_z(s, b), rtol=1e-4
    )


def test_profile_significance_falls_as_the_background_uncertainty_grows():
    z = profile_significance(130, 100, np.array([0.0, 2.0, 5.0, 10.0, 20.0]))

    assert np.all(np.diff(z) < 0)


def pyhf_z(n, b, sigma_b):
    """Discovery Z of a one-bin on/off model in pyhf (Poisson-constrained b)."""
    pyhf.set_backend("numpy")
    spec = {
        "channels": [
            {
                "name": "sr",
                "samples": [
                    {
                        "name": "signal",
                        "data": [1.0],
                        "modifiers": [
                            {"name": "mu", "type": "normfactor", "data": None}
                        ],
                    },
                    {
                        "name": "background",
                        "data": [b],
                        "modifiers": [
                            {"name": "bkg_unc", "type": "shapesys", "data": [sigma_b]}
                        ],
                    },
                ],
            }
        ]
    }
    # validate=False: the schema check goes through a deprecated jsonschema API, and
    # the warning it raises is an error under this suite's filterwarnings.
    model = pyhf.Model(spec, validate=False)
    # pyhf bounds the POI to [0, 10] by default; with a unit signal template the
    # fitted excess (up to n - b events) must fit inside, so open the bound.
    bounds = model.config.suggested_bounds()
    bounds[model.config.poi_index] = (0.0, 10.0 * n)
    p = pyhf.infer.hypotest(
        0.0, [n, *model.config.auxdata], model, test_stat="q0", par_bounds=bounds
    )

    return stats.norm.isf(float(p))


@pytest.mark.parametrize(
    ("n", "b", "sigma_b"),
    [(70, 50.0, 5.0), (130, 100.0, 3.0), (25, 10.0, 4.0), (1200, 1000.0, 40.0)],
)
def test_profile_matches_pyhf(n, b, sigma_b):
    # Same model, same statistic: only pyhf's minimiser tolerance differs.
    np.testing.assert_allclose(
        profile_significance(n, b, sigma_b), pyhf_z(n, b, sigma_b), rtol=1e-4
    )


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="p_value mode must be one of"):
        local_pvalue(3, 1.0, mode="gauss")


def test_onoff_count_matches_the_equivalent_fitted_background():
    # m sideband events with ratio tau measure b = m / tau with sigma_b = sqrt(m) / tau.
    n, m, tau = 70, 120.0, 2.5
    b, sigma_b = m / tau, np.sqrt(m) / tau

    assert onoff_significance(n, m, tau) == pytest.approx(
        profile_significance(n, b, sigma_b), rel=1e-12
    )
    assert onoff_significance(12, 0, 3.0) == pytest.approx(np.sqrt(2 * 12 * np.log(4)))


def test_onoff_binomial_p_value_is_the_conditional_binomial_tail():
    n, m, tau = np.array([9, 20, 4]), np.array([5, 30, 40]), np.array([1.0, 2.0, 3.0])
    brute = stats.binom.sf(n - 1, n + m, 1 / (1 + tau))

    np.testing.assert_allclose(onoff_binomial_pvalue(n, m, tau), brute, rtol=1e-10)
    assert onoff_binomial_pvalue(4, 40, 3.0) >= 0.5  # a deficit
