"""Fidelity metrics on constructed inputs with known answers."""

import json

import numpy as np
import pytest
from scipy import special

from generators import fidelity

FEATURES = ("x", "y")


def normal(n, seed, shift=0.0, rho=0.0):
    rng = np.random.default_rng(seed)
    X = rng.multivariate_normal([10.0, 0.0], [[1.0, rho], [rho, 1.0]], size=n)
    X[:, 0] += shift
    return X


def test_identical_arrays_give_zero_distances():
    X = normal(2000, 0)
    rep = fidelity.compare(X, X, FEATURES, slice_by=None, n_threads=1)
    assert rep.max_rel_mean_diff == 0.0
    assert max(rep.ks.values()) == 0.0
    assert max(rep.wasserstein.values()) == 0.0
    assert rep.max_abs_corr_diff == 0.0


def test_independent_draws_of_one_distribution_are_indistinguishable():
    rep = fidelity.compare(
        normal(10_000, 1), normal(10_000, 2), FEATURES, slice_by=None, n_threads=1
    )
    # 5000 held-out events per class: the AUC's sd under the null is 0.0058, so
    # 0.025 is more than 4 sd; KS and W1 of 1e4 vs 1e4 events stay below 0.03.
    assert rep.c2st_auc == pytest.approx(0.5, abs=0.025)
    assert rep.c2st_auc_err == pytest.approx(0.0058, abs=0.001)
    assert max(rep.ks.values()) < 0.03
    assert max(rep.wasserstein.values()) < 0.03
    assert rep.max_abs_corr_diff < 0.04


def test_a_shift_gives_the_known_mean_difference_distances_and_auc():
    ref, gen = normal(10_000, 1), normal(10_000, 2, shift=0.5)
    rep = fidelity.compare(ref, gen, FEATURES, slice_by=None, n_threads=1)
    row = rep.table[0]
    # Mean 10 shifted by 0.5: relative difference 0.05 (sd of the estimate 0.0014).
    assert row["relative_difference"] == pytest.approx(0.05, abs=0.006)
    # For two unit Gaussians 0.5 apart: W1 = 0.5, KS = 2 Phi(0.25) - 1 = 0.197, and
    # the optimal AUC is Phi(0.5 / sqrt 2) = 0.638; tolerances are about 4 sd.
    assert rep.wasserstein["x"] == pytest.approx(0.5, abs=0.03)
    assert rep.ks["x"] == pytest.approx(2 * special.ndtr(0.25) - 1, abs=0.025)
    # A trained classifier's AUC is at most the Bayes-optimal one, 0.638, and a
    # boosted-tree classifier on 5000 events per class gets within 0.04 of it.
    assert 0.6 < rep.c2st_auc < special.ndtr(0.5 / np.sqrt(2)) + 0.02
    assert rep.c2st_p_value < 1e-6


def test_correlation_difference_is_measured():
    rep = fidelity.compare(
        normal(10_000, 1, rho=0.5),
        normal(10_000, 2),
        FEATURES,
        slice_by=None,
        n_threads=1,
    )
    # Pearson estimates of 1e4 events have sd 0.01.
    assert rep.max_abs_corr_diff == pytest.approx(0.5, abs=0.04)


def test_slices_localise_a_mismodelling():
    ref, gen = normal(12_000, 1), normal(12_000, 2)
    # Shift y by 1 sd only where x (the scan variable here) is above 10.5.
    gen[gen[:, 0] > 10.5, 1] += 1.0
    rep = fidelity.compare(
        ref, gen, FEATURES, slice_by="x", slices=[0, 10.5, 20], n_threads=1
    )
    low, high = rep.slices
    assert (low["low"], low["high"], high["low"]) == (0.0, 10.5, 10.5)
    assert low["c2st_auc"] == pytest.approx(0.5, abs=0.03)
    assert high["c2st_auc"] > 0.7


def test_to_dict_is_json_ready_and_plot_writes_figures(tmp_path):
    rep = fidelity.compare(
        normal(1000, 1), normal(1000, 2), FEATURES, slice_by="x", slices=3, n_threads=1
    )
    data = json.loads(json.dumps(rep.to_dict()))
    assert data["c2st_auc"] == rep.c2st_auc and len(data["slices"]) == 3
    assert "| x |" in rep.format_table()
    paths = rep.plot(tmp_path)
    assert set(paths) == {"histograms", "cdfs", "correlations", "ratios", "c2st_slices"}
    assert all(p.stat().st_size > 1000 for p in paths.values())


def test_mismatched_columns_raise():
    with pytest.raises(ValueError, match="columns"):
        fidelity.compare(normal(100, 1), normal(100, 2)[:, :1])
