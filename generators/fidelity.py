"""How close are generated events to the reference Monte Carlo?

:func:`compare` measures it the ways the seed paper does (mean table, histograms
with mean lines, CDFs, correlation matrices: its Table 1 and Figures 3-5) and adds
distances a reader can put a number on:

- per-feature Kolmogorov-Smirnov statistic and Wasserstein-1 distance, the latter
  divided by the reference standard deviation so columns compare;
- the largest absolute difference between the two Pearson correlation matrices;
- a classifier two-sample test (C2ST, Lopez-Paz and Oquab, arXiv:1610.06545): a
  gradient-boosted classifier learns to tell reference from generated events and its
  ROC AUC on held-out events is reported with its statistical uncertainty. 0.5 means
  the classifier cannot tell them apart in any combination of columns;
- all of the above again in slices of one column, the scan variable: a CWoLa search
  is calibrated only by toys whose ``p(features | m_bb)`` is right, and a model can
  match every marginal while getting that wrong.

Examples
--------
>>> import numpy as np
>>> from generators import fidelity
>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=(4000, 2)), rng.normal(size=(4000, 2))
>>> rep = fidelity.compare(a, b, features=("x", "y"), slice_by=None)
>>> abs(rep.c2st_auc - 0.5) < 0.05
True
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import special, stats
from threadpoolctl import threadpool_limits

from .base import RandomState, check_random_state

__all__ = [
    "FidelityReport",
    "c2st",
    "compare",
    "correlation_difference",
    "ks_statistics",
    "wasserstein_distances",
]


def _as_events(X, name: str) -> tuple[np.ndarray, tuple[str, ...] | None]:
    features = getattr(X, "features", None)
    X = np.asarray(getattr(X, "X", X), dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(
            f"{name} must be a 2-D array of at least two events; got shape {X.shape}."
        )
    if not np.isfinite(X).all():
        raise ValueError(f"{name} has NaN or inf values; remove those events first.")

    return X, (tuple(features) if features is not None else None)


def ks_statistics(reference, generated) -> tuple[np.ndarray, np.ndarray]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value of every column."""
    ks = [stats.ks_2samp(r, g) for r, g in zip(reference.T, generated.T, strict=False)]
    return np.array([k.statistic for k in ks]), np.array([k.pvalue for k in ks])


def wasserstein_distances(reference, generated) -> np.ndarray:
    """Wasserstein-1 distance of every column, in units of the reference std."""
    scale = reference.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return (
        np.array(
            [
                stats.wasserstein_distance(r, g)
                for r, g in zip(reference.T, generated.T, strict=False)
            ]
        )
        / scale
    )


def correlation_difference(reference, generated):
    """Pearson correlation matrices of both samples and their largest |difference|."""
    c_ref = np.corrcoef(reference, rowvar=False)
    c_gen = np.corrcoef(generated, rowvar=False)
    return c_ref, c_gen, float(np.nanmax(np.abs(c_gen - c_ref)))


def _auc_error(auc: float, n_pos: int, n_neg: int) -> float:
    # Hanley and McNeil, Radiology 143 (1982) 29, eqs. (1)-(2).
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc**2 / (1.0 + auc)
    var = (
        auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)
    ) / (n_pos * n_neg)
    return float(np.sqrt(max(var, 0.0)))


def c2st(
    reference,
    generated,
    *,
    max_events: int | None = 200_000,
    test_fraction: float = 0.5,
    max_iter: int = 200,
    n_threads: int | None = None,
    random_state: RandomState = 0,
) -> dict:
    """Classifier two-sample test with a histogram gradient-boosted classifier.

    Equal numbers of events are taken from both samples (at most ``max_events``
    each), ``test_fraction`` of them are held out, the classifier is trained on the
    rest and the ROC AUC is measured on the held-out events. ``n_threads`` caps the
    classifier's OpenMP threads (default: all cores); on a busy machine one or two
    threads are much faster than oversubscription.

    Returns
    -------
    dict
        ``auc``; ``auc_err``, its standard error (Hanley-McNeil); ``p_value`` of
        AUC >= observed if both samples came from one distribution (Mann-Whitney
        normal approximation); ``n_test`` events per class.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    rng = check_random_state(random_state)
    n = min(len(reference), len(generated))
    if max_events is not None:
        n = min(n, int(max_events))
    if n < 20:
        raise ValueError(
            f"the C2ST needs at least 20 events per sample; got {n}. Pass more events."
        )

    ref = reference[rng.permutation(len(reference))[:n]]
    gen = generated[rng.permutation(len(generated))[:n]]
    n_test = max(round(test_fraction * n), 1)
    X_train = np.concatenate([ref[n_test:], gen[n_test:]])
    y_train = np.r_[np.zeros(n - n_test), np.ones(n - n_test)]
    X_test = np.concatenate([ref[:n_test], gen[:n_test]])
    y_test = np.r_[np.zeros(n_test), np.ones(n_test)]

    clf = HistGradientBoostingClassifier(
        max_iter=max_iter, random_state=int(rng.integers(2**31 - 1))
    )
    with threadpool_limits(n_threads, user_api="openmp"):
        clf.fit(X_train, y_train)
        score = clf.predict_proba(X_test)[:, 1]
    auc = float(roc_auc_score(y_test, score))

    null_sd = np.sqrt((2 * n_test + 1) / (12.0 * n_test * n_test))
    return {
        "auc": auc,
        "auc_err": _auc_error(auc, n_test, n_test),
        "p_value": float(special.ndtr(-(auc - 0.5) / null_sd)),
        "n_test": int(n_test),
    }


@dataclasses.dataclass
class FidelityReport:
    """Result of :func:`compare`; every number is also in :meth:`to_dict`.

    Attributes
    ----------
    features : tuple of str
    table : list of dict
        The seed paper's Table 1: per feature ``feature``, ``reference_mean``,
        ``generated_mean`` and ``relative_difference`` = (generated - reference) /
        |reference|.
    ks, ks_pvalue, wasserstein : dict of str to float
        Per-feature KS statistic, its p-value, and Wasserstein-1 / reference std.
    corr_reference, corr_generated : ndarray of shape (d, d)
    max_abs_corr_diff : float
    c2st_auc, c2st_auc_err, c2st_p_value : float
    slices : list of dict
        Per slice of ``slice_by``: its edges, event counts, C2ST AUC and error,
        largest relative mean difference, KS statistics and correlation difference.
    """

    features: tuple[str, ...]
    n_reference: int
    n_generated: int
    table: list[dict]
    ks: dict[str, float]
    ks_pvalue: dict[str, float]
    wasserstein: dict[str, float]
    corr_reference: np.ndarray
    corr_generated: np.ndarray
    max_abs_corr_diff: float
    c2st_auc: float
    c2st_auc_err: float
    c2st_p_value: float
    slice_by: str | None = None
    slices: list[dict] = dataclasses.field(default_factory=list)
    _reference: np.ndarray | None = dataclasses.field(default=None, repr=False)
    _generated: np.ndarray | None = dataclasses.field(default=None, repr=False)

    @property
    def max_rel_mean_diff(self) -> float:
        """Largest |relative mean difference| over all features."""
        return max(abs(row["relative_difference"]) for row in self.table)

    def to_dict(self) -> dict:
        """Every number of the report, JSON-ready (no arrays, no NaN)."""
        out = {
            "features": list(self.features),
            "n_reference": self.n_reference,
            "n_generated": self.n_generated,
            "table": self.table,
            "max_rel_mean_diff": self.max_rel_mean_diff,
            "ks": self.ks,
            "ks_pvalue": self.ks_pvalue,
            "wasserstein": self.wasserstein,
            "corr_reference": self.corr_reference.tolist(),
            "corr_generated": self.corr_generated.tolist(),
            "max_abs_corr_diff": self.max_abs_corr_diff,
            "c2st_auc": self.c2st_auc,
            "c2st_auc_err": self.c2st_auc_err,
            "c2st_p_value": self.c2st_p_value,
            "slice_by": self.slice_by,
            "slices": self.slices,
        }
        return json.loads(json.dumps(out, default=_json_default), parse_constant=str)

    def format_table(self) -> str:
        """Table 1 as Markdown."""
        lines = [
            "| feature | MC mean | generated mean | relative difference |",
            "|---|---:|---:|---:|",
        ]
        for row in self.table:
            lines.append(
                f"| {row['feature']} | {row['reference_mean']:.4g} | "
                f"{row['generated_mean']:.4g} | {row['relative_difference']:+.4f} |"
            )
        return "\n".join(lines)

    def plot(self, outdir, *, labels=("MC", "generated")) -> dict[str, Path]:
        """Write the figures to ``outdir`` (PNG); returns name -> path.

        ``histograms`` (with mean lines), ``cdfs``, ``correlations`` (both matrices
        and their difference), ``ratios`` (generated / reference per bin, with
        Poisson errors) and, with slices, ``c2st_slices``.
        """
        from . import fidelity_plots

        if self._reference is None:
            raise ValueError(
                "this report holds no events (it was rebuilt from a dict); run "
                "fidelity.compare again to plot."
            )
        return fidelity_plots.plot_report(self, Path(outdir), labels)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _summary(ref: np.ndarray, gen: np.ndarray, features, c2st_kwargs) -> dict:
    ref_mean, gen_mean = ref.mean(axis=0), gen.mean(axis=0)
    denom = np.where(ref_mean != 0, np.abs(ref_mean), 1.0)
    rel = (gen_mean - ref_mean) / denom
    ks, ks_p = ks_statistics(ref, gen)
    c_ref, c_gen, corr_diff = correlation_difference(ref, gen)

    return {
        "table": [
            {
                "feature": f,
                "reference_mean": float(m_r),
                "generated_mean": float(m_g),
                "relative_difference": float(r),
            }
            for f, m_r, m_g, r in zip(features, ref_mean, gen_mean, rel, strict=False)
        ],
        "ks": dict(zip(features, ks.tolist(), strict=False)),
        "ks_pvalue": dict(zip(features, ks_p.tolist(), strict=False)),
        "wasserstein": dict(
            zip(features, wasserstein_distances(ref, gen).tolist(), strict=False)
        ),
        "corr_reference": c_ref,
        "corr_generated": c_gen,
        "max_abs_corr_diff": corr_diff,
        "c2st": c2st(ref, gen, **c2st_kwargs),
    }


def compare(
    reference,
    generated,
    features: Sequence[str] | None = None,
    *,
    slice_by: str | None = "m_bb",
    slices: int | Sequence[float] = 5,
    max_c2st_events: int | None = 200_000,
    n_threads: int | None = None,
    random_state: RandomState = 0,
) -> FidelityReport:
    """Compare generated events with reference events, column by column and jointly.

    Parameters
    ----------
    reference, generated : array of shape (n, d) or EventSample
        Reference (held-out MC) and generated events, same columns in the same
        order. Use MC events the generator never saw in training.
    features : sequence of str, optional
        Column names; taken from ``reference.features`` when it is an
        :class:`~generators.EventSample`.
    slice_by : str or None
        Column whose slices get their own metrics (the scan variable). Ignored with
        a ``None`` or when the column is absent.
    slices : int or sequence of float
        Number of equal-population slices of the reference in ``slice_by``, or the
        slice edges.
    max_c2st_events : int or None
        Events per sample used by the global C2ST (half of them held out).
    n_threads : int, optional
        OpenMP threads of the C2ST classifier; default all cores.
    random_state : int, SeedSequence or Generator
        Seeds the C2ST subsampling and classifier.

    Returns
    -------
    FidelityReport
    """
    ref, ref_features = _as_events(reference, "reference")
    gen, _ = _as_events(generated, "generated")
    if ref.shape[1] != gen.shape[1]:
        raise ValueError(
            f"reference has {ref.shape[1]} columns but generated has {gen.shape[1]}; "
            "pass the same columns in the same order."
        )
    if features is None:
        features = ref_features or tuple(f"x{j}" for j in range(ref.shape[1]))
    features = tuple(features)
    if len(features) != ref.shape[1]:
        raise ValueError(
            f"features names {len(features)} columns but the events have "
            f"{ref.shape[1]}; pass one name per column."
        )
    rng = check_random_state(random_state)

    whole = _summary(
        ref,
        gen,
        features,
        {"max_events": max_c2st_events, "n_threads": n_threads, "random_state": rng},
    )
    report = FidelityReport(
        features=features,
        n_reference=len(ref),
        n_generated=len(gen),
        table=whole["table"],
        ks=whole["ks"],
        ks_pvalue=whole["ks_pvalue"],
        wasserstein=whole["wasserstein"],
        corr_reference=whole["corr_reference"],
        corr_generated=whole["corr_generated"],
        max_abs_corr_diff=whole["max_abs_corr_diff"],
        c2st_auc=whole["c2st"]["auc"],
        c2st_auc_err=whole["c2st"]["auc_err"],
        c2st_p_value=whole["c2st"]["p_value"],
        _reference=ref,
        _generated=gen,
    )
    if slice_by is None or slice_by not in features:
        return report

    # Per slice of the scan variable: equal-population edges of the reference
    # unless given.
    j = features.index(slice_by)
    if isinstance(slices, (int, np.integer)):
        if slices < 1:
            raise ValueError(f"slices must be at least 1; got {slices}.")
        edges = np.quantile(ref[:, j], np.linspace(0, 1, int(slices) + 1))
        edges[-1] = np.nextafter(edges[-1], np.inf)
    else:
        edges = np.asarray(slices, dtype=np.float64)
        if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError(
                f"slices must be an int or increasing edges; got {slices!r}."
            )

    report.slice_by = slice_by
    for lo, hi in itertools.pairwise(edges):
        in_ref = (ref[:, j] >= lo) & (ref[:, j] < hi)
        in_gen = (gen[:, j] >= lo) & (gen[:, j] < hi)
        entry = {
            "low": float(lo),
            "high": float(hi),
            "n_reference": int(in_ref.sum()),
            "n_generated": int(in_gen.sum()),
            "reference_fraction": float(in_ref.mean()),
            "generated_fraction": float(in_gen.mean()),
        }
        if min(entry["n_reference"], entry["n_generated"]) >= 40:
            s = _summary(
                ref[in_ref],
                gen[in_gen],
                features,
                {
                    "max_events": max_c2st_events,
                    "n_threads": n_threads,
                    "random_state": rng,
                },
            )
            entry |= {
                "c2st_auc": s["c2st"]["auc"],
                "c2st_auc_err": s["c2st"]["auc_err"],
                "max_rel_mean_diff": max(
                    abs(r["relative_difference"]) for r in s["table"]
                ),
                "ks": s["ks"],
                "max_abs_corr_diff": s["max_abs_corr_diff"],
            }
        report.slices.append(entry)

    return report
