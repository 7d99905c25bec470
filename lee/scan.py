"""Bump hunts over sliding windows: weakly supervised (CWoLa) and plain.

:class:`CWoLaScan` is the CWoLa hunt of Collins, Howe and Nachman
(arXiv:1805.02664, 1902.02634). For every window it

1. labels the window's SR events 1 and its own SB events 0 and trains a classifier
   on the other features with k-fold cross validation, so that every event is scored
   by models that never saw it (:func:`lee.classifier.out_of_fold_scores`);
2. keeps, at each efficiency ``eff``, the ``eff`` fraction of the window's SR + SB
   events with the highest out-of-fold score (a cut at the ``1 - eff`` quantile of
   the pooled scores; ties broken at random), so the SR count is not fixed by the
   selection;
3. histograms the scan variable of the kept events, fits a smooth background to the
   sideband bins with the SR masked (:func:`lee.background.fit_background`) and
   tests the SR count against the prediction (:mod:`lee.pvalues`); selected
   sidebands too sparse to fit are used as an on/off count instead (see
   :class:`CWoLaScan`).

:class:`BumpScan` does step 3 alone on the full spectrum, against a sideband fit or
a reference histogram; :meth:`BumpScan.from_histogram` gives BumpHunter's window set
and statistic (G. Choudalakis, arXiv:1101.0390).

Both return a :class:`~lee.result.ScanResult`. Scans are picklable and never print;
they log to ``logging.getLogger("lee.scan")``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
from joblib import Parallel, delayed, parallel_config
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from generators.base import check_random_state

from .background import fit_background
from .classifier import make_classifier, out_of_fold_scores
from .pvalues import (
    P_VALUE_MODES,
    local_pvalue,
    onoff_binomial_pvalue,
    onoff_significance,
    p_to_z,
    z_to_p,
)
from .regions import SlidingWindows
from .result import ScanResult, Spectrum

__all__ = ["BumpScan", "CWoLaScan", "ScanResult", "SculptingWarning"]

logger = logging.getLogger(__name__)


class SculptingWarning(UserWarning):
    """A classifier separates SR from SB beyond what any signal could explain."""


class _WindowScan:
    """What both scans share: windows, the scan column, background fit and p-value."""

    def __init__(
        self,
        windows: SlidingWindows,
        scan_feature: str,
        p_value: str,
        fit_degree: int | None,
        min_degree: int,
        max_degree: int,
        min_sideband_events: int,
        random_state,
        progress: bool,
    ):
        if not isinstance(windows, SlidingWindows):
            raise TypeError(
                "windows must be a lee.SlidingWindows; got "
                f"{type(windows).__name__}. Build one with SlidingWindows(...) or "
                "SlidingWindows.from_edges(...)."
            )
        if not isinstance(scan_feature, str):
            raise TypeError(
                f"scan_feature must be a column name; got {scan_feature!r}."
            )
        if p_value not in P_VALUE_MODES:
            raise ValueError(
                f"p_value must be one of {P_VALUE_MODES}; got {p_value!r}."
            )
        if fit_degree is not None and (
            isinstance(fit_degree, bool)
            or not isinstance(fit_degree, int)
            or fit_degree < 0
        ):
            raise ValueError(
                f"fit_degree must be None or an int >= 0; got {fit_degree!r}."
            )
        if not isinstance(min_degree, int) or min_degree < 0:
            raise ValueError(f"min_degree must be an int >= 0; got {min_degree!r}.")
        if not isinstance(max_degree, int) or max_degree < min_degree:
            raise ValueError(
                f"max_degree must be an int >= min_degree={min_degree}; got "
                f"{max_degree!r}."
            )
        if not isinstance(min_sideband_events, int) or min_sideband_events < 1:
            raise ValueError(
                f"min_sideband_events must be an int >= 1; got {min_sideband_events!r}."
            )
        check_random_state(random_state)  # type and sign check only

        self.windows = windows
        self.scan_feature = scan_feature
        self.p_value = p_value
        self.fit_degree = fit_degree
        self.min_degree = min_degree
        self.max_degree = max_degree
        self.min_sideband_events = min_sideband_events
        self.random_state = random_state
        self.progress = progress

    # -- inputs ------------------------------------------------------------------------

    def _columns(self, X, features, needed: Sequence[str]) -> np.ndarray:
        """The ``needed`` columns of ``X`` as float64, after checking them."""
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(
                f"X must be a 2-D array (n_events, n_columns); got shape {X.shape}."
            )
        if X.dtype.kind not in "fiu":
            raise TypeError(f"X must hold numbers; got dtype {X.dtype}.")
        if features is None:
            raise ValueError(
                "features (the column names of X, in order) is required; pass e.g. "
                "features=sample.features."
            )
        features = [str(f) for f in features]
        if len(features) != X.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} columns but {len(features)} feature names were "
                "given; pass one name per column."
            )
        missing = [f for f in needed if f not in features]
        if missing:
            raise ValueError(
                f"columns {missing} are not in features={features}; pass the columns "
                "the scan uses or change scan_feature / features."
            )

        cols = np.ascontiguousarray(
            X[:, [features.index(f) for f in needed]], dtype=float
        )
        bad = ~np.isfinite(cols)
        if bad.any():
            names = [needed[k] for k in np.flatnonzero(bad.any(axis=0))]
            raise ValueError(
                f"NaN or inf in column(s) {names} ({int(bad.any(axis=1).sum())} "
                "events); drop or repair those events before scanning."
            )

        return cols

    def _fit_kwargs(self) -> dict:
        return {
            "degree": self.fit_degree,
            "min_degree": self.min_degree,
            "max_degree": self.max_degree,
        }

    def _test(
        self, counts, window, *, reference=None, reference_err=None, inclusive=None
    ):
        """Background prediction and local p-value of one window's histogram.

        ``inclusive``, when given, returns the sideband fit of the window before any
        selection; it is used when the selected sidebands are too sparse to fit.
        Returns (spectrum, observed, expected, expected_err, p, z, reason).
        """
        sr = window.sr_mask
        n_obs = float(counts[sr].sum())
        n_sb = int(counts[~sr].sum())
        nan = (np.nan,) * 4

        if reference is not None:
            spectrum = Spectrum(counts, reference, reference_err, method="reference")
            b = float(reference[sr].sum())
            sigma = (
                0.0
                if reference_err is None
                else float(np.hypot.reduce(reference_err[sr]))
            )
        elif n_sb >= self.min_sideband_events:
            fit = fit_background(counts, window.edges, sr, **self._fit_kwargs())
            if not fit.valid:
                return (Spectrum(counts, fit=fit), n_obs, *nan, fit.message)
            spectrum = Spectrum(counts, fit.expected(), fit.expected_err(), fit, "fit")
            b, sigma = fit.sr_yield, fit.sr_yield_err
        elif inclusive is not None and inclusive().valid:
            return self._transfer_test(counts, window, inclusive())
        else:
            reason = (
                f"{n_sb} sideband events, below min_sideband_events="
                f"{self.min_sideband_events}"
            )
            return (Spectrum(counts), n_obs, *nan, reason)

        if not b > 0:
            return (spectrum, n_obs, *nan, f"predicted SR background {b:g} is not > 0")
        p, z = local_pvalue(n_obs, b, sigma, mode=self.p_value)

        return spectrum, n_obs, b, sigma, float(p), float(z), ""

    def _transfer_test(self, counts, window, inclusive):
        """On/off test of sparse selected sidebands with the inclusive shape.

        If the selection does not depend on the scan variable inside the window (the
        CWoLa premise under background only), the selected SB and SR backgrounds
        keep the ratio ``tau`` of the unselected sideband fit; the selected SB count
        ``m`` then measures the SR background as ``m / tau`` with Poisson error,
        and the on/off tests of :mod:`lee.pvalues` need no fit of the sparse bins.
        """
        sr = window.sr_mask
        n, m = float(counts[sr].sum()), float(counts[~sr].sum())
        shape = inclusive.expected()
        tau = shape[~sr].sum() / shape[sr].sum()
        if self.p_value == "profile":
            z = float(onoff_significance(n, m, tau, signed=True))
            p, z = float(z_to_p(z)), max(z, 0.0)
        else:
            p = float(onoff_binomial_pvalue(n, m, tau))
            z = float(p_to_z(p))
        expected = shape * (m / shape[~sr].sum())
        spectrum = Spectrum(counts, expected, None, inclusive, "transfer")

        return spectrum, n, m / tau, np.sqrt(m) / tau, p, z, ""

    def _base_params(self) -> dict:
        return {
            "windows": self.windows.get_params(),
            "scan_feature": self.scan_feature,
            "p_value": self.p_value,
            "fit_degree": self.fit_degree,
            "min_degree": self.min_degree,
            "max_degree": self.max_degree,
            "min_sideband_events": self.min_sideband_events,
            "random_state": _json_random_state(self.random_state),
        }


class CWoLaScan(_WindowScan):
    """Weakly supervised bump hunt: classifier cut, then sideband fit, per window.

    Parameters
    ----------
    windows : SlidingWindows
        Signal regions and sidebands; every window needs sidebands.
    scan_feature : str
        The scan variable (e.g. ``"m_bb"``); never a classifier input.
    features : sequence of str, optional
        Classifier inputs; by default every column except ``scan_feature``.
    classifier : {"hgb", "mlp"} or estimator
        Backend (see :mod:`lee.classifier`) or a scikit-learn-compatible classifier.
    classifier_params : dict, optional
        Overrides of the backend's settings.
    n_folds : int
        Folds of the out-of-fold scoring (default 5, as in arXiv:1902.02634).
    efficiencies : sequence of float
        Fractions of each window's SR + SB events to keep, each in (0, 1].
    p_value : {"profile", "poisson"}
        Local p-value mode; ``"profile"`` accounts for the fit uncertainty.
    fit_degree : int, optional
        Fixed degree of the exponential-of-polynomial background; by default chosen
        per window by nested likelihood-ratio tests up to ``max_degree``.
    max_degree : int
    min_sideband_events : int
        Windows whose sidebands hold fewer events before any selection are
        invalid. After a tight selection with fewer selected sideband events than
        this, the SR background comes from the selected sideband count instead of
        a fit (see Notes).
    sculpting_z : float or None
        Threshold, in null standard deviations, above which an out-of-fold AUC is
        significant (default 3); ``None`` turns the sculpting check off. See Notes.
    random_state : int, SeedSequence or Generator, optional
        Default seed of :meth:`run`.
    progress : bool
        Show a progress bar over windows (off by default, and inside toys).
    n_jobs : int
        Worker processes (joblib's loky backend) that train the classifiers of
        different windows at once; -1 uses every core. The result does not depend
        on it: every window draws its seeds before any training starts, and the
        selection, fits and tests run in the calling process in window order. Keep
        the default 1 for scans inside toys, which are already parallel over toys
        (a :class:`~lee.ToyRunner` worker that nests more processes only
        oversubscribes the cores).

    Notes
    -----
    The sculpting check. With no separating power the out-of-fold AUC of ``n1`` SR
    and ``n0`` SB events has mean 1/2 and standard deviation
    ``sqrt((n0 + n1 + 1) / (12 n0 n1))`` (the Mann-Whitney null, Mann and Whitney
    1947). A signal that makes up a fraction ``f`` of the SR can raise the AUC by at
    most ``f / 2`` (the SR is a mixture: ``AUC = (1 - f) / 2 + f * AUC_sig``). A
    :class:`SculptingWarning` is issued for a window whose AUC exceeds 1/2 by more
    than ``sculpting_z`` null standard deviations *and* by more than half the
    inclusive signal fraction allowed at two sigma above the SR excess over the
    unselected sideband fit: such a window is background dominated, so the
    classifier learned background differences between SR and SB, which sculpt the
    selected spectrum and make fake bumps. Decorrelate the features from the scan
    variable, or calibrate with background-only toys.

    Sparse sidebands. A fit to a handful of selected sideband events is unstable,
    and an empty sideband (which a pure signal selection produces) cannot be fitted
    at all. If the selected sidebands hold fewer than ``min_sideband_events``
    events, the window is instead tested as an on/off count: the unselected
    window's sideband fit gives the SB-to-SR background ratio ``tau``, which a
    selection independent of the scan variable (the CWoLa premise under
    background only) preserves, so the ``m`` selected sideband events predict
    ``m / tau`` in the SR (:func:`lee.pvalues.onoff_significance` or
    :func:`lee.pvalues.onoff_binomial_pvalue`). Such entries have
    ``spectra[i][j].method == "transfer"``.

    Small selections. With ``p_value="profile"`` the local significance comes from
    the asymptotic formula, which overstates it when an efficiency keeps only a
    handful of events in a window. On 500 background-only datasets of 5,000
    events (``benchmarks/pvalue_coverage.py``), two had a window at the 1%
    efficiency, about 7 selected events, with a local Z of 5.2 and 8.8. The
    empirical global p-value is unaffected, because the toys run the same scan and
    show the same tail, but Gross-Vitells and the fitted trials factor assume
    standard-normal local significances. Keep ``eff * (events per window)`` above a
    few dozen, or quote the empirical global p-value.

    Speed. Training is most of the cost of a scan: ``n_folds`` fits per window, one
    fit serving every efficiency. With the default gradient-boosted classifier a
    scan of 20,000 events, 12 windows, 5 folds and two efficiencies takes about 0.6
    CPU seconds (``benchmarks/bench_scan.py``), of which the fits are three quarters
    and the sideband fits one tenth. ``n_jobs`` spreads the fits of different
    windows over cores; it pays off only with idle cores, since shipping the events
    to the workers costs about as much as it saves when one core is busy. A batched
    torch network that trains all windows and folds as one model (batched matrix
    products over a leading model axis) was measured and not adopted: one
    full-batch Adam step for 60 models of 4,800 events costs about 55 ms on one
    core, so the hundreds of steps a network needs cost several times the whole
    gradient-boosted scan.

    Examples
    --------
    >>> import numpy as np, lee
    >>> rng = np.random.default_rng(0)
    >>> m = rng.exponential(60, 4000) + 40
    >>> X = np.column_stack([m, rng.normal(size=(4000, 2))])
    >>> w = lee.SlidingWindows(
    ...     scan_range=(40, 280), width=40, step=40, sideband=40, bins=4
    ... )
    >>> scan = lee.CWoLaScan(w, scan_feature="m", random_state=0)
    >>> res = scan.run(X, features=["m", "a", "b"])
    >>> res.significances.shape
    (4, 2)
    """

    def __init__(
        self,
        windows: SlidingWindows,
        scan_feature: str,
        features: Sequence[str] | None = None,
        classifier="hgb",
        classifier_params: dict | None = None,
        n_folds: int = 5,
        efficiencies: Sequence[float] = (0.1, 0.01),
        p_value: str = "profile",
        fit_degree: int | None = None,
        min_degree: int = 2,
        max_degree: int = 3,
        min_sideband_events: int = 10,
        sculpting_z: float | None = 3.0,
        random_state=None,
        progress: bool = False,
        n_jobs: int = 1,
    ):
        super().__init__(
            windows,
            scan_feature,
            p_value,
            fit_degree,
            min_degree,
            max_degree,
            min_sideband_events,
            random_state,
            progress,
        )
        if features is not None:
            features = [str(f) for f in features]
            if scan_feature in features:
                raise ValueError(
                    f"features includes the scan variable {scan_feature!r}; a "
                    "classifier that sees it separates SR from SB trivially. Remove it."
                )
            if not features:
                raise ValueError(
                    "features is empty; give at least one classifier input."
                )
        effs = tuple(float(e) for e in np.atleast_1d(efficiencies))
        if not effs or any(not 0 < e <= 1 for e in effs):
            raise ValueError(
                f"efficiencies must be fractions in (0, 1]; got {efficiencies!r}."
            )
        if isinstance(n_folds, bool) or not isinstance(n_folds, int) or n_folds < 2:
            raise ValueError(f"n_folds must be an int >= 2; got {n_folds!r}.")
        if sculpting_z is not None and not sculpting_z > 0:
            raise ValueError(f"sculpting_z must be None or > 0; got {sculpting_z!r}.")
        if not all(w.has_sidebands for w in windows):
            raise ValueError(
                "every window of a CWoLaScan needs sidebands to train against; build "
                "the windows with sideband > 0 (or sideband_bins > 0)."
            )

        self.features = features
        self.classifier = classifier
        self.classifier_params = dict(classifier_params or {})
        self.estimator_ = make_classifier(classifier, self.classifier_params)
        self.n_folds = n_folds
        self.efficiencies = effs
        self.sculpting_z = sculpting_z
        self.n_jobs = _check_n_jobs(n_jobs)

    def get_params(self) -> dict:
        """JSON-ready description of the configuration that sets the result.

        ``n_jobs`` and ``progress`` are left out: they change how fast a scan runs,
        never what it returns.
        """
        name = self.classifier
        if not isinstance(name, str):
            name = f"{type(name).__module__}.{type(name).__qualname__}"
        settings = {
            k: _json_value(v) for k, v in sorted(self.estimator_.get_params().items())
        }
        return {
            "type": "CWoLaScan",
            **self._base_params(),
            "features": self.features,
            "classifier": name,
            "classifier_params": settings,
            "n_folds": self.n_folds,
            "efficiencies": list(self.efficiencies),
            "sculpting_z": self.sculpting_z,
        }

    def run(
        self,
        X,
        features: Sequence[str] | None = None,
        random_state=None,
        *,
        n_jobs: int | None = None,
    ) -> ScanResult:
        """Scan ``X`` and return the local significances.

        Parameters
        ----------
        X : array_like of shape (n_events, n_columns)
        features : sequence of str
            Column names of ``X``, in order.
        random_state : int, SeedSequence or Generator, optional
            Overrides the scan's ``random_state`` for this run (each toy passes its
            own); fold splits, classifier seeds and tie breaks all derive from it.
        n_jobs : int, optional
            Overrides the scan's ``n_jobs`` for this run; the result is the same.
        """
        n_jobs = self.n_jobs if n_jobs is None else _check_n_jobs(n_jobs)
        names = [str(f) for f in features] if features is not None else None
        inputs = self.features
        if inputs is None and names is not None:
            inputs = [f for f in names if f != self.scan_feature]
        cols = self._columns(X, names, [self.scan_feature, *(inputs or [])])
        m, Z = cols[:, 0], cols[:, 1:]
        if isinstance(self.estimator_, HistGradientBoostingClassifier):
            lo, hi = self.windows.extent
            Z = _quantile_codes(Z, (m >= lo) & (m < hi), self.estimator_.max_bins)
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        # Per window, one seed for the classifier fits and one for tie breaks, all
        # drawn before any training so that the order of the fits does not matter.
        seeds = rng.integers(0, 2**63 - 1, size=(len(self.windows), 2))

        # Sort once: every window's events are then one contiguous slice.
        order = np.argsort(m, kind="stable")
        m_sorted = m[order]
        slices = [
            order[slice(*np.searchsorted(m_sorted, w.extent))] for w in self.windows
        ]
        shape = (len(self.windows), len(self.efficiencies))
        out = _Arrays(shape)
        flagged = []

        with threadpool_limits(limits=1):
            scores = self._scores(m, Z, slices, seeds[:, 0], n_jobs)
            for i, window in enumerate(self.windows):
                idx = slices[i]
                flagged += self._window(i, window, m[idx], scores[i], seeds[i, 1], out)

        if flagged:
            warnings.warn(
                "background-dominated windows "
                + ", ".join(
                    f"{k} (SR {self.windows[k].sr}, AUC {a:.3f})" for k, a in flagged
                )
                + " have an out-of-fold SR-vs-SB AUC above 0.5 by more than "
                f"{self.sculpting_z:g} null sigma and more than any signal compatible "
                "with their SR counts explains: the features depend on the scan "
                "variable, so the selection sculpts the spectrum. Decorrelate them or "
                "calibrate the significance with background-only toys.",
                SculptingWarning,
                stacklevel=2,
            )
        result = out.result(
            self.windows, self.efficiencies, self.p_value, self.scan_feature
        )
        logger.info(
            "CWoLa scan of %d events: max local Z %.2f, %d invalid entries",
            len(m),
            result.max_significance,
            result.n_invalid,
        )

        return result

    def _scores(self, m, Z, slices, seeds, n_jobs) -> list:
        """Out-of-fold scores of every window: an array, or why there are none.

        Windows whose sidebands are below ``min_sideband_events`` get no training.
        With ``n_jobs != 1`` the windows are trained in worker processes, each
        limited to one thread; the scores are those of the sequential loop.
        """
        tasks, skipped = [], {}
        for i, window in enumerate(self.windows):
            in_sr = window.in_sr(m[slices[i]])
            n0 = len(in_sr) - int(in_sr.sum())
            if n0 < self.min_sideband_events:
                skipped[i] = (
                    f"{n0} sideband events, below min_sideband_events="
                    f"{self.min_sideband_events}"
                )
                continue
            tasks.append((i, Z[slices[i]], in_sr.astype(int), seeds[i]))

        if n_jobs == 1 or len(tasks) < 2:
            bar = tqdm(tasks, desc="CWoLa windows", disable=not self.progress)
            done = [
                _window_scores(self.estimator_, z, y, self.n_folds, seed, None)
                for _, z, y, seed in bar
            ]
        else:
            with parallel_config(backend="loky", inner_max_num_threads=1):
                done = Parallel(n_jobs=n_jobs)(
                    delayed(_window_scores)(self.estimator_, z, y, self.n_folds, s, 1)
                    for _, z, y, s in tasks
                )
        scores = [skipped.get(i) for i in range(len(self.windows))]
        for (i, *_), result in zip(tasks, done, strict=True):
            scores[i] = result

        return scores

    def _window(self, i, window, m, scores, seed, out) -> list:
        """Select and test one window; returns [(i, auc)] if it sculpts."""
        in_sr = window.in_sr(m)
        n1 = int(in_sr.sum())
        n0 = len(m) - n1
        out.n_sr[i], out.n_sb[i] = n1, n0
        rng = np.random.default_rng(seed)
        bins = np.searchsorted(window.edges, m, side="right") - 1
        if isinstance(scores, str):
            out.invalid(i, scores)
            logger.debug("window %d invalid: %s", i, scores)
            return []

        # The unselected window's sideband fit, made only if something needs it.
        cache = {}

        def inclusive():
            if "fit" not in cache:
                counts = np.bincount(bins, minlength=window.n_bins)
                cache["fit"] = fit_background(
                    counts, window.edges, window.sr_mask, **self._fit_kwargs()
                )
            return cache["fit"]

        # Out-of-fold AUC by the Mann-Whitney rank sum, and its null spread.
        ranks = _ranks(scores)
        auc = (ranks[in_sr].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
        out.auc[i] = auc
        out.auc_null_sd[i] = np.sqrt((n0 + n1 + 1) / (12 * n0 * n1))

        # Keep the top eff fraction by score; random keys break ties fairly.
        by_score = np.lexsort((rng.random(len(scores)), scores))
        for j, eff in enumerate(self.efficiencies):
            keep = by_score[len(by_score) - max(1, round(eff * len(by_score))) :]
            counts = np.bincount(bins[keep], minlength=window.n_bins)
            out.store(i, j, *self._test(counts, window, inclusive=inclusive))

        if self._sculpts(window, auc, out.auc_null_sd[i], bins, inclusive):
            return [(i, auc)]
        return []

    def _sculpts(self, window, auc, null_sd, bins, inclusive) -> bool:
        """Whether the AUC excess is significant and beyond any allowed signal."""
        if self.sculpting_z is None or not auc - 0.5 > self.sculpting_z * null_sd:
            return False
        counts = np.bincount(bins, minlength=window.n_bins)
        fit = inclusive()
        if not fit.valid:
            return False

        # Two-sigma upper bound on the SR signal fraction from the inclusive counts.
        n, b, sigma = counts[window.sr_mask].sum(), fit.sr_yield, fit.sr_yield_err
        f_max = min(1.0, max(0.0, n - b + 2 * np.sqrt(n + sigma**2)) / max(n, 1))

        return bool(auc - 0.5 > f_max / 2)


class BumpScan(_WindowScan):
    """Plain bump hunt over windows, without a classifier.

    Tests each SR count of the full spectrum against a sideband fit (the default)
    or against a reference histogram. The result has one efficiency column (1.0).

    Parameters
    ----------
    windows : SlidingWindows
    scan_feature : str
    p_value : {"profile", "poisson"}
    reference : array_like, optional
        Expected counts per bin of the histogram the windows were built from
        (:meth:`SlidingWindows.from_edges`); when given, it replaces the sideband
        fit and is treated as known (use ``p_value="poisson"``).
    reference_err : array_like, optional
        Per-bin uncertainty of ``reference`` (used by ``"profile"``).
    normalize_reference : bool
        Scale the reference to the observed total in the histogram range.
    fit_degree, max_degree, min_sideband_events, random_state, progress
        As for :class:`CWoLaScan`; nothing in a plain scan is random, the
        ``random_state`` is accepted so that toys can treat all scans alike.

    Examples
    --------
    >>> import numpy as np, lee
    >>> edges = np.linspace(0, 10, 21)
    >>> ref = np.full(20, 50.0)
    >>> scan = lee.BumpScan.from_histogram(
    ...     edges, ref, width_min=1, width_max=3, scan_feature="x"
    ... )
    >>> x = np.random.default_rng(1).uniform(0, 10, 1000)
    >>> res = scan.run(x[:, None], features=["x"])
    >>> res.significances.shape
    (57, 1)
    """

    def __init__(
        self,
        windows: SlidingWindows,
        scan_feature: str = "m_bb",
        p_value: str = "profile",
        reference=None,
        reference_err=None,
        normalize_reference: bool = False,
        fit_degree: int | None = None,
        min_degree: int = 2,
        max_degree: int = 3,
        min_sideband_events: int = 10,
        random_state=None,
        progress: bool = False,
    ):
        super().__init__(
            windows,
            scan_feature,
            p_value,
            fit_degree,
            min_degree,
            max_degree,
            min_sideband_events,
            random_state,
            progress,
        )
        self.normalize_reference = bool(normalize_reference)
        self.reference = self.reference_err = None
        if reference is None:
            if not all(w.has_sidebands for w in windows):
                raise ValueError(
                    "without a reference histogram every window needs sidebands for "
                    "the background fit; pass reference=... or build windows with "
                    "sidebands."
                )
            return

        params = windows.get_params()
        if params["kind"] != "edges":
            raise ValueError(
                "a reference histogram needs windows built from its edges; use "
                "BumpScan.from_histogram(edges, reference, ...) or "
                "SlidingWindows.from_edges(edges, ...)."
            )
        n_bins = len(params["edges"]) - 1
        self.reference = _check_histogram("reference", reference, n_bins)
        if reference_err is not None:
            self.reference_err = _check_histogram(
                "reference_err", reference_err, n_bins
            )

    @classmethod
    def from_histogram(
        cls,
        edges,
        reference,
        width_min: int = 1,
        width_max: int | None = None,
        *,
        scan_feature: str = "m_bb",
        p_value: str = "poisson",
        step: int = 1,
        **kwargs,
    ) -> BumpScan:
        """BumpHunter: every window of ``width_min`` to ``width_max`` bins.

        Each window's count is tested against the ``reference`` histogram with the
        exact Poisson tail (arXiv:1101.0390, section 2); the largest local
        significance over windows is BumpHunter's test statistic.

        Parameters
        ----------
        edges : array_like
            Histogram bin edges.
        reference : array_like
            Expected counts per bin.
        width_min, width_max : int
            SR widths in bins.
        """
        windows = SlidingWindows.from_edges(edges, width_min, width_max, step=step)
        return cls(
            windows,
            scan_feature=scan_feature,
            p_value=p_value,
            reference=reference,
            **kwargs,
        )

    def get_params(self) -> dict:
        """JSON-ready description of the whole configuration."""
        return {
            "type": "BumpScan",
            **self._base_params(),
            "reference": None if self.reference is None else self.reference.tolist(),
            "reference_err": (
                None if self.reference_err is None else self.reference_err.tolist()
            ),
            "normalize_reference": self.normalize_reference,
            "efficiencies": [1.0],
        }

    def run(
        self, X, features: Sequence[str] | None = None, random_state=None
    ) -> ScanResult:
        """Scan the spectrum of ``scan_feature`` in ``X``.

        ``X`` may also be 1-D, the scan variable itself (then ``features`` is not
        needed). ``random_state`` is accepted for symmetry with :class:`CWoLaScan`.
        """
        X = np.asarray(X)
        if X.ndim == 1:
            X, features = X[:, None], [self.scan_feature]
        m = self._columns(X, features, [self.scan_feature])[:, 0]
        out = _Arrays((len(self.windows), 1))
        reference = reference_err = None
        if self.reference is not None:
            edges = np.asarray(self.windows.get_params()["edges"])
            total = np.histogram(m, edges)[0]
            reference, reference_err = self.reference, self.reference_err
            if self.normalize_reference:
                scale = total.sum() / reference.sum()
                reference = reference * scale
                reference_err = None if reference_err is None else reference_err * scale

        bar = tqdm(self.windows, desc="bump windows", disable=not self.progress)
        for i, window in enumerate(bar):
            inside = m[(m >= window.edges[0]) & (m < window.edges[-1])]
            counts = np.bincount(
                np.searchsorted(window.edges, inside, side="right") - 1,
                minlength=window.n_bins,
            )
            sr = window.in_sr(inside)
            out.n_sr[i], out.n_sb[i] = sr.sum(), (~sr).sum()
            ref = ref_err = None
            if reference is not None:
                start = int(np.searchsorted(edges, window.edges[0]))
                ref = reference[start : start + window.n_bins]
                ref_err = (
                    None
                    if reference_err is None
                    else reference_err[start : start + window.n_bins]
                )
            out.store(
                i, 0, *self._test(counts, window, reference=ref, reference_err=ref_err)
            )

        result = out.result(self.windows, (1.0,), self.p_value, self.scan_feature)
        logger.info("bump scan: max local Z %.2f", result.max_significance)

        return result


class _Arrays:
    """Per-window, per-efficiency arrays filled while scanning."""

    def __init__(self, shape):
        n = shape[0]
        self.z, self.p = np.full(shape, np.nan), np.full(shape, np.nan)
        self.obs, self.exp, self.err = (np.full(shape, np.nan) for _ in range(3))
        self.auc, self.auc_null_sd = np.full(n, np.nan), np.full(n, np.nan)
        self.n_sr, self.n_sb = np.zeros(n, int), np.zeros(n, int)
        self.reasons = [[""] * shape[1] for _ in range(n)]
        self.spectra = [[Spectrum(np.zeros(0, int))] * shape[1] for _ in range(n)]

    def store(self, i, j, spectrum, n_obs, b, sigma, p, z, reason):
        self.spectra[i][j] = spectrum
        self.obs[i, j], self.exp[i, j], self.err[i, j] = n_obs, b, sigma
        self.p[i, j], self.z[i, j] = p, z
        self.reasons[i][j] = reason

    def invalid(self, i, reason):
        self.reasons[i] = [reason] * len(self.reasons[i])

    def result(self, windows, efficiencies, mode, scan_feature) -> ScanResult:
        return ScanResult(
            windows=windows,
            efficiencies=tuple(efficiencies),
            p_value=mode,
            significances=self.z,
            p_values=self.p,
            observed=self.obs,
            expected=self.exp,
            expected_err=self.err,
            auc=self.auc,
            auc_null_sd=self.auc_null_sd,
            n_sr=self.n_sr,
            n_sb=self.n_sb,
            reasons=self.reasons,
            spectra=self.spectra,
            scan_feature=scan_feature,
        )


def _window_scores(estimator, Z, y, n_folds, seed, n_threads):
    """Out-of-fold scores of one window, or the reason it could not be trained."""
    try:
        return out_of_fold_scores(
            estimator,
            Z,
            y,
            n_folds=n_folds,
            n_threads=n_threads,
            random_state=np.random.default_rng(seed),
        )
    except ValueError as err:
        return f"classifier not trained: {err}"


def _check_n_jobs(n_jobs) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)):
        raise TypeError(f"n_jobs must be an int; got {type(n_jobs).__name__}.")
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(
            f"n_jobs must be a positive int or -1 (all cores); got {n_jobs}."
        )

    return int(n_jobs)


def _quantile_codes(Z, inside, max_bins: int) -> np.ndarray:
    """Replace every column by its quantile-bin index over the scanned events.

    Gradient boosting bins its inputs into at most ``max_bins`` quantiles at every
    fit; binning once per dataset instead makes each fit's own binning trivial
    (a column with fewer distinct values than ``max_bins`` is binned exactly), which
    is most of the cost of a small fit. Thresholds then come from all events inside
    the scanned range (``inside``; events outside every window change nothing)
    rather than from one fold of one window: a monotone relabelling that the trees,
    which only compare values, barely notice.
    """
    quantiles = np.linspace(0, 1, max_bins + 1)[1:-1]
    codes = np.empty_like(Z)
    if not inside.any():
        return codes
    for k in range(Z.shape[1]):
        thresholds = np.unique(np.quantile(Z[inside, k], quantiles))
        codes[:, k] = np.searchsorted(thresholds, Z[:, k], side="right")

    return codes


def _ranks(x) -> np.ndarray:
    """Average ranks (1-based) with ties shared, as the Mann-Whitney U needs."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    first = np.r_[True, xs[1:] != xs[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(xs)]
    ranks = np.empty(len(x))
    ranks[order] = (0.5 * (starts + ends + 1))[group]

    return ranks


def _check_histogram(name, values, n_bins) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if values.shape != (n_bins,):
        raise ValueError(
            f"{name} must have one entry per histogram bin ({n_bins}); got shape "
            f"{values.shape}."
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{name} must be finite and >= 0 in every bin.")
    return values


def _json_random_state(random_state):
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return None if random_state is None else int(random_state)
    if isinstance(random_state, np.random.SeedSequence):
        return {
            "entropy": _json_value(random_state.entropy),
            "spawn_key": list(random_state.spawn_key),
        }
    return repr(random_state)


def _json_value(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return repr(value)
