"""Scans end to end: finding signals, finding nothing, validity, robustness, output."""

import json
import pickle

import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from lee.classifier import make_classifier
from lee.regions import SlidingWindows
from lee.result import ScanResult
from lee.scan import BumpScan, CWoLaScan, SculptingWarning

COLUMNS = ["m", "a", "b", "c", "truth"]
FEATURES = ["a", "b", "c"]
WINDOWS = SlidingWindows((50, 290), width=30, step=30, sideband=30, bins=6)
SIGNAL_MASS = 155.0  # inside the SR (140, 170) of window 2


def make_events(n_bkg=20_000, n_sig=0, seed=0, shift=3.0):
    """Exponential background in m with normal features; a Gaussian signal at 155
    whose first two features sit ``shift`` standard deviations away. The last
    column is the truth label, for the oracle."""
    rng = np.random.default_rng(seed)
    m = np.r_[50 + rng.exponential(60, n_bkg), rng.normal(SIGNAL_MASS, 5, n_sig)]
    f = rng.normal(size=(n_bkg + n_sig, 3))
    f[n_bkg:, :2] = rng.normal(shift, 0.5, size=(n_sig, 2))
    truth = np.r_[np.zeros(n_bkg), np.ones(n_sig)]
    return np.column_stack([m, f, truth])


class Oracle(ClassifierMixin, BaseEstimator):
    """Scores each event by its true label: the ideal CWoLa classifier."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return np.column_stack([1 - X[:, 0], X[:, 0]])


class ShuffledLabels(ClassifierMixin, BaseEstimator):
    """Gradient boosting trained on randomly permuted SR/SB labels."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        rng = np.random.default_rng(self.random_state)
        self.model_ = clone(make_classifier("hgb")).set_params(random_state=0)
        self.model_.fit(X, rng.permutation(y))
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


@pytest.fixture(scope="module")
def signal_events():
    return make_events(n_sig=100, seed=1)


@pytest.fixture(scope="module")
def signal_scan():
    return CWoLaScan(WINDOWS, "m", features=FEATURES, random_state=0)


@pytest.fixture(scope="module")
def signal_result(signal_scan, signal_events):
    return signal_scan.run(signal_events, COLUMNS)


# -- finding signals -------------------------------------------------------------------


def test_oracle_classifier_finds_the_injected_signal_in_its_window(signal_events):
    scan = CWoLaScan(WINDOWS, "m", features=["truth"], classifier=Oracle())
    res = scan.run(signal_events, COLUMNS, random_state=0)

    lo, hi = res.best_window.sr
    assert lo <= SIGNAL_MASS < hi
    # 100 signal events over ~20 background events at eff = 0.01: far beyond 5.
    assert res.max_significance > 8
    # A pure-signal selection leaves the sidebands (nearly) empty: the window is
    # then tested as an on/off count, not declared invalid.
    best = res.spectra[res.best_index[0]][res.best_index[1]]
    assert best.method == "transfer"


def test_default_classifier_finds_a_signal_separable_in_the_features(
    signal_result, signal_events
):
    lo, hi = signal_result.best_window.sr
    plain = BumpScan(WINDOWS, "m").run(signal_events, COLUMNS)

    assert lo <= SIGNAL_MASS < hi
    assert signal_result.max_significance > 5
    # The plain bump hunt barely sees the same 100 events under ~1500 in the SR.
    assert plain.max_significance < 3


def test_shuffled_labels_find_nothing(signal_events):
    scan = CWoLaScan(WINDOWS, "m", features=FEATURES, classifier=ShuffledLabels())
    res = scan.run(signal_events, COLUMNS, random_state=0)

    # Chance AUCs: all within 4 null standard deviations of 0.5 (six windows, two-
    # sided 4 sd: false-failure rate 4e-4).
    assert np.all(np.abs(res.auc - 0.5) < 4 * res.auc_null_sd)
    # 12 local tests under (nearly) no signal: P(max Z > 3.5) is about 12 * 2.3e-4.
    assert res.max_significance < 3.5


def test_mlp_backend_runs_a_scan():
    events = make_events(8000, n_sig=80, seed=1)
    small = SlidingWindows((110, 200), width=30, step=30, sideband=30, bins=3)
    scan = CWoLaScan(
        small,
        "m",
        features=FEATURES,
        classifier="mlp",
        classifier_params={"hidden": (16,), "max_epochs": 10},
        n_folds=3,
        random_state=0,
    )
    res = scan.run(events, COLUMNS)

    assert res.best_window.sr == (140.0, 170.0)
    assert res.max_significance > 4


# -- validity under background only --------------------------------------------------

# Non-overlapping windows, so that p-values from one dataset are independent.
SPARSE = SlidingWindows((50, 290), width=20, step=80, sideband=30, bins=4)
ALPHAS = (0.01, 0.05, 0.1, 0.5)


def assert_valid(p, alphas=ALPHAS):
    """P(p <= alpha) <= alpha + 3 binomial standard errors, for every alpha.

    For exactly valid p-values each check fails with probability 0.13%, so the
    four together with under 0.6%; discreteness only lowers the rates.
    """
    for alpha in alphas:
        se = np.sqrt(alpha * (1 - alpha) / len(p))
        assert np.mean(p <= alpha) <= alpha + 3 * se, alpha


def test_plain_scan_p_values_are_valid_under_background_only():
    scan = BumpScan(SPARSE, "m", p_value="profile")
    p = np.concatenate(
        [
            scan.run(make_events(2000, seed=s)[:, :1], ["m"]).p_values.ravel()
            for s in range(200)
        ]
    )

    assert_valid(p[np.isfinite(p)])
    assert np.isfinite(p).mean() > 0.99


def test_poisson_p_values_against_a_known_reference_are_valid():
    edges = np.linspace(0, 10, 11)
    reference = np.full(10, 20.0)
    scan = BumpScan.from_histogram(edges, reference, width_min=1, width_max=1)
    rng = np.random.default_rng(4)
    p = np.concatenate(
        [
            scan.run(rng.uniform(0, 10, rng.poisson(200))).p_values.ravel()
            for _ in range(300)
        ]
    )

    assert_valid(p)


@pytest.mark.slow
def test_cwola_p_values_are_valid_under_background_only():
    scan = CWoLaScan(SPARSE, "m", features=FEATURES, n_folds=3, efficiencies=(0.2,))
    p = np.concatenate(
        [
            scan.run(
                make_events(6000, seed=s), COLUMNS, random_state=s
            ).p_values.ravel()
            for s in range(100)
        ]
    )

    assert_valid(p[np.isfinite(p)])


# -- statistics and reference values ---------------------------------------------------


def test_bumphunter_windows_use_the_exact_poisson_tail():
    edges = np.linspace(0, 10, 11)
    reference = np.linspace(30, 10, 10)
    scan = BumpScan.from_histogram(edges, reference, width_min=1, width_max=3)
    x = np.random.default_rng(2).uniform(0, 10, 250)
    res = scan.run(x)

    counts = np.histogram(x, edges)[0]
    for w, p in zip(scan.windows, res.p_values[:, 0], strict=True):
        lo = int(w.sr[0])
        hi = int(w.sr[1])
        n, b = counts[lo:hi].sum(), reference[lo:hi].sum()
        assert p == pytest.approx(max(stats.poisson.sf(n - 1, b), 0.5 if n <= b else 0))


def test_known_background_gives_the_asimov_significance():
    # SR bin 5 holds s + b = 130 events over a reference of b = 100.
    edges = np.arange(11.0)
    reference = np.full(10, 100.0)
    x = np.repeat(np.arange(10) + 0.5, 100)
    x = np.r_[x, np.full(30, 5.5)]
    scan = BumpScan.from_histogram(edges, reference, 1, 1, p_value="profile")
    z = scan.run(x).significances[5, 0]

    asimov = np.sqrt(2 * (130 * np.log(1 + 30 / 100) - 30))
    assert z == pytest.approx(asimov, rel=1e-12)


def test_sculpting_features_raise_a_warning():
    rng = np.random.default_rng(3)
    X = make_events(8000, seed=3)
    X[:, 1] = X[:, 0] + rng.normal(0, 10, len(X))  # a feature that measures m
    scan = CWoLaScan(WINDOWS, "m", features=FEATURES, n_folds=3, random_state=0)

    with pytest.warns(SculptingWarning, match="background-dominated windows"):
        res = scan.run(X, COLUMNS)
    assert np.nanmin(res.auc) > 0.6


# -- determinism, configuration, pickling ----------------------------------------------


def test_fixed_random_state_is_reproducible(signal_scan, signal_events, signal_result):
    again = signal_scan.run(signal_events, COLUMNS)
    other = signal_scan.run(signal_events, COLUMNS, random_state=1)

    np.testing.assert_array_equal(again.significances, signal_result.significances)
    np.testing.assert_array_equal(again.auc, signal_result.auc)
    assert not np.array_equal(other.auc, signal_result.auc)


def test_run_random_state_overrides_the_scan_default(signal_events):
    a = CWoLaScan(WINDOWS, "m", features=FEATURES, n_folds=3)
    b = CWoLaScan(WINDOWS, "m", features=FEATURES, n_folds=3, random_state=7)
    seeds = np.random.SeedSequence(7)

    ra = a.run(signal_events, COLUMNS, random_state=7)
    rb = b.run(signal_events, COLUMNS)
    rc = a.run(signal_events, COLUMNS, random_state=seeds)
    rd = a.run(signal_events, COLUMNS, random_state=np.random.SeedSequence(7))

    np.testing.assert_array_equal(ra.significances, rb.significances)
    np.testing.assert_array_equal(rc.significances, rd.significances)


def test_scan_is_picklable_and_its_params_are_json(signal_scan, signal_events):
    clone_ = pickle.loads(pickle.dumps(signal_scan))
    params = json.loads(json.dumps(signal_scan.get_params()))

    assert params == clone_.get_params()
    assert params["classifier"] == "hgb"
    assert params["efficiencies"] == [0.1, 0.01]
    assert params["windows"]["width"] == 30
    assert params["random_state"] == 0
    changed = CWoLaScan(WINDOWS, "m", features=FEATURES, n_folds=4, random_state=0)
    assert changed.get_params() != params


def test_windows_trained_in_parallel_give_the_sequential_result(
    signal_scan, signal_events, signal_result
):
    # Two worker processes train the windows; every number must be identical,
    # because seeds are drawn per window before any training.
    res = signal_scan.run(signal_events, COLUMNS, n_jobs=2)

    for name in ("significances", "p_values", "observed", "expected", "auc"):
        np.testing.assert_array_equal(
            getattr(res, name), getattr(signal_result, name), err_msg=name
        )
    assert res.reasons == signal_result.reasons
    assert signal_scan.n_jobs == 1


def test_parallel_training_keeps_invalid_windows_and_their_reasons():
    wide = SlidingWindows((50, 650), width=60, step=60, sideband=60, bins=6)
    X = make_events(3000, seed=5)
    scan = CWoLaScan(wide, "m", features=FEATURES, n_folds=3, n_jobs=2)
    parallel = scan.run(X, COLUMNS, random_state=0)
    sequential = scan.run(X, COLUMNS, random_state=0, n_jobs=1)

    assert parallel.n_invalid > 0
    assert parallel.reasons == sequential.reasons
    np.testing.assert_array_equal(parallel.significances, sequential.significances)


def test_n_jobs_does_not_change_the_parameters(signal_scan):
    parallel = CWoLaScan(WINDOWS, "m", features=FEATURES, random_state=0, n_jobs=-1)

    assert parallel.get_params() == signal_scan.get_params()


# -- robustness ------------------------------------------------------------------------


def test_sparse_windows_are_invalid_counted_and_never_significant():
    wide = SlidingWindows((50, 650), width=60, step=60, sideband=60, bins=6)
    X = make_events(3000, seed=5)
    res = CWoLaScan(wide, "m", features=FEATURES, n_folds=3).run(
        X, COLUMNS, random_state=0
    )

    invalid = ~res.valid
    assert 0 < res.n_invalid == invalid.sum()
    assert all(res.reasons[i][j] for i, j in zip(*np.nonzero(invalid), strict=True))
    assert np.all(np.isnan(res.p_values[invalid]))
    assert res.max_significance == np.max(res.significances[res.valid])


def test_all_windows_invalid_gives_nan_statistic():
    X = make_events(200, seed=6)
    X[:, 0] = 1000.0  # every event outside every window
    res = BumpScan(WINDOWS, "m").run(X, COLUMNS)

    assert np.isnan(res.max_significance)
    assert res.best_window is None
    assert res.n_invalid == len(WINDOWS)


def test_events_outside_the_range_are_ignored(
    signal_scan, signal_events, signal_result
):
    far = make_events(500, seed=9)
    far[:, 0] = np.r_[np.full(250, 10.0), np.full(250, 900.0)]
    res = signal_scan.run(np.r_[signal_events, far], COLUMNS)

    np.testing.assert_array_equal(res.significances, signal_result.significances)


def test_nan_or_inf_inputs_name_the_column():
    X = make_events(500, seed=7)
    X[3, 2] = np.nan
    X[8, 2] = np.inf
    with pytest.raises(ValueError, match=r"NaN or inf in column\(s\) \['b'\]"):
        CWoLaScan(WINDOWS, "m", features=FEATURES).run(X, COLUMNS)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"features": ["m", "a"]}, ValueError, "includes the scan variable"),
        ({"efficiencies": (0.1, 1.5)}, ValueError, "efficiencies must be fractions"),
        ({"n_folds": 1}, ValueError, "n_folds must be an int >= 2"),
        ({"p_value": "gauss"}, ValueError, "p_value must be one of"),
        ({"windows": [(0, 1)]}, TypeError, "windows must be a lee.SlidingWindows"),
        ({"n_jobs": 0}, ValueError, "n_jobs must be a positive int or -1"),
        ({"n_jobs": 1.5}, TypeError, "n_jobs must be an int"),
    ],
)
def test_bad_configuration_is_rejected(kwargs, error, message):
    args = {"windows": WINDOWS, "scan_feature": "m"}
    with pytest.raises(error, match=message):
        CWoLaScan(**{**args, **kwargs})


def test_unknown_columns_are_rejected():
    with pytest.raises(ValueError, match=r"columns \['z'\] are not in features"):
        CWoLaScan(WINDOWS, "m", features=["z"]).run(make_events(100), COLUMNS)


# -- output ----------------------------------------------------------------------------


def test_result_shapes_and_counts(signal_result):
    shape = (len(WINDOWS), 2)

    assert isinstance(signal_result, ScanResult)
    for name in ("significances", "p_values", "observed", "expected", "expected_err"):
        assert getattr(signal_result, name).shape == shape
    assert signal_result.auc.shape == (len(WINDOWS),)
    assert np.all(signal_result.observed <= signal_result.n_sr[:, None])
    excess = signal_result.significances > 0
    np.testing.assert_allclose(
        signal_result.p_values[excess],
        stats.norm.sf(signal_result.significances[excess]),
        rtol=1e-9,
    )
    assert np.all(signal_result.p_values[signal_result.significances == 0] >= 0.5)


def test_to_dict_is_strict_json(signal_result):
    text = json.dumps(signal_result.to_dict(), allow_nan=False)
    back = json.loads(text)

    assert back["max_significance"] == pytest.approx(signal_result.max_significance)
    assert len(back["spectra"]) == len(WINDOWS)


def test_plot_returns_a_figure(signal_result, tmp_path):
    fig = signal_result.plot()
    fig.savefig(tmp_path / "scan.png")

    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3  # one spectrum per efficiency + the Z curve
    assert (tmp_path / "scan.png").stat().st_size > 0
