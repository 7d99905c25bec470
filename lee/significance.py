"""Global significance of the largest local excess, from background-only toys.

The test statistic of a dataset is its largest local significance ``u``. The global
p-value is the probability that a background-only dataset, run through the same
scan, gives a largest local significance of ``u`` or more. Three estimates:

``"empirical"``
    The fraction of toys at or above ``u``, with a Clopper-Pearson interval
    (Clopper & Pearson 1934, Biometrika 26, 404). Exact, model-free, and limited
    to ``p >~ 1 / n_toys``: when no toy reaches ``u`` it gives an upper limit on
    ``p`` (a lower limit on ``Z``), flagged ``is_limit``.
``"gross-vitells"``
    The upcrossing extrapolation of Gross & Vitells, arXiv:1005.1891, eq. (4) with
    one degree of freedom, one-sided:
    ``p(u) ~ Phi_bar(u) + N(u0) exp(-(u^2 - u0^2) / 2)``, with ``N(u0)`` the mean
    number of upcrossings of the local significance through a low level ``u0``
    along the window order, counted in the toys. Few toys reach very small ``p``.
``"trials-factor"``
    A fitted effective number of independent trials ``N_eff`` with
    ``P(max Z <= z) = Phi(z)^N_eff``, fitted by unbinned maximum likelihood
    (iminuit) to the toys' maxima above zero.

Failed toys (and toys whose windows were all invalid) have no test statistic. They
cluster at fluctuations, so ``conservative=True`` counts each of them as a toy at
or above ``u``; the failure rate is always reported.

Z is converted from p one-sidedly, ``Z = Phi^-1(1 - p)``, and is 0 for
``p >= 0.5``, the same convention as the local significances.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
from iminuit import Minuit
from scipy import special, stats

__all__ = [
    "METHODS",
    "ExtrapolationWarning",
    "GlobalSignificance",
    "TrialsFactorFit",
    "fit_trials_factor",
    "global_p_curve",
    "global_significance",
    "upcrossings",
]

#: Names accepted by ``global_significance(method=...)``.
METHODS = ("empirical", "gross-vitells", "trials-factor")


class ExtrapolationWarning(UserWarning):
    """A global p-value was extrapolated far beyond the range the toys cover."""


@dataclasses.dataclass(frozen=True)
class GlobalSignificance:
    """A global p-value and significance with their intervals.

    Attributes
    ----------
    p_value : float
        Global p-value; the upper limit when ``is_limit``.
    p_interval : tuple of float
        ``(low, high)`` at confidence level ``cl``.
    z : float
        ``Phi^-1(1 - p_value)``, 0 for ``p_value >= 0.5``; a lower limit when
        ``is_limit``.
    z_interval : tuple of float
        ``(low, high)``; the high end is ``inf`` when ``is_limit`` (no toy bounds it).
    method : str
        One of :data:`METHODS`.
    is_limit : bool
        True when no toy reached the observed value (empirical) or no upcrossing was
        seen (Gross-Vitells): ``p_value`` is then an upper limit at ``cl``.
    observed : float
        The observed largest local significance.
    n_toys : int
        Toys used, failed ones included.
    n_failed : int
        Toys without a test statistic: failed, or all windows invalid.
    cl : float
        Confidence level of the intervals.
    conservative : bool
        Whether failed toys were counted as exceedances.
    details : dict
        Method-specific numbers: exceedance count, upcrossings, fitted ``N_eff``.
    """

    p_value: float
    p_interval: tuple[float, float]
    z: float
    z_interval: tuple[float, float]
    method: str
    is_limit: bool
    observed: float
    n_toys: int
    n_failed: int
    cl: float
    conservative: bool
    details: dict

    @property
    def failure_rate(self) -> float:
        """Fraction of toys without a test statistic."""
        return self.n_failed / self.n_toys if self.n_toys else math.nan

    def to_dict(self) -> dict:
        """JSON-ready dictionary of every field."""
        out = dataclasses.asdict(self)
        out["failure_rate"] = self.failure_rate
        return out

    def __str__(self) -> str:
        relation = "<" if self.is_limit else "="
        z_relation = ">" if self.is_limit else "="
        return (
            f"global p {relation} {self.p_value:.3g} "
            f"[{self.p_interval[0]:.3g}, {self.p_interval[1]:.3g}], "
            f"Z {z_relation} {self.z:.2f} "
            f"[{self.z_interval[0]:.2f}, {self.z_interval[1]:.2f}] "
            f"({self.method}, {self.cl:.2%} CL, {self.n_toys} toys, "
            f"{self.n_failed} failed)"
        )


@dataclasses.dataclass(frozen=True)
class TrialsFactorFit:
    """Fitted effective number of independent trials.

    Attributes
    ----------
    n_eff : float
        Maximum-likelihood ``N_eff``.
    error : float
        Its Hesse (parabolic) standard error.
    interval : tuple of float
        MINOS interval at the requested confidence level.
    n_fit : int
        Number of toy maxima above zero used in the fit.
    fit_range : tuple of float
        ``(0, largest toy maximum)``: where the model is tested by toys.
    """

    n_eff: float
    error: float
    interval: tuple[float, float]
    n_fit: int
    fit_range: tuple[float, float]

    def p_value(self, z, n_eff=None) -> np.ndarray:
        """``1 - Phi(z)^N_eff``, computed without cancellation."""
        n_eff = self.n_eff if n_eff is None else n_eff
        return -np.expm1(n_eff * special.log_ndtr(np.asarray(z, dtype=np.float64)))


def global_significance(
    observed,
    toys,
    method: str = "empirical",
    *,
    cl: float = 0.6827,
    conservative: bool = False,
    u0: float = 1.0,
) -> GlobalSignificance:
    """Global p-value and significance of an observed largest local significance.

    Parameters
    ----------
    observed : ScanResult or float
        The observed scan (its ``max_significance`` is used) or the value itself.
    toys : ToyResults or ndarray
        Background-only toys: a :class:`lee.ToyResults`, an array of the toys'
        maxima ``(n_toys,)``, or their full local-significance arrays
        ``(n_toys, n_windows[, n_efficiencies])``. ``"gross-vitells"`` needs the
        full arrays. Non-finite maxima count as failed toys.
    method : {"empirical", "gross-vitells", "trials-factor"}
        See the module documentation.
    cl : float
        Confidence level of the intervals, in (0, 1); 0.6827 is "one sigma".
    conservative : bool
        Count failed toys as exceedances: ``p -> f + (1 - f) p`` with ``f`` the
        failure rate (for ``"empirical"`` this is the count ``(k + n_failed) / n``).
    u0 : float
        Reference level for the Gross-Vitells upcrossings; ignored otherwise.

    Returns
    -------
    GlobalSignificance

    Warns
    -----
    ExtrapolationWarning
        ``"trials-factor"`` at an observed value more than one unit of Z above the
        largest toy maximum: the fitted tail shape is untested there.

    Warnings
    --------
    ``"gross-vitells"`` assumes that the local significance is a smooth, finely
    sampled Gaussian process in the window position with calibrated local Z. A
    coarse scan (windows that barely overlap) misses upcrossings between windows
    and its maximum lies below the continuous one, so the formula then
    overestimates the global p-value (it is conservative): at Z = 3 by 2-9% on a
    Gaussian process sampled every 0.2 correlation lengths, by 30-40% when sampled
    every 1.6 correlation lengths. Measure that bias against the empirical count at
    a moderate Z on your own scan before relying on the extrapolation. Efficiency
    columns are counted as separate curves and their contributions added, which is
    conservative when they are correlated.

    References
    ----------
    C. J. Clopper and E. S. Pearson, Biometrika 26 (1934) 404.
    E. Gross and O. Vitells, Eur. Phys. J. C 70 (2010) 525, arXiv:1005.1891.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> maxima = np.maximum(rng.standard_normal((2000, 10)).max(axis=1), 0)
    >>> glob = global_significance(2.5, maxima)
    >>> round(glob.p_value, 2), glob.is_limit
    (0.05, False)
    """
    u = _observed_value(observed)
    _check_cl(cl)
    maxima, significances = _toy_arrays(toys)
    n_toys = len(maxima)
    n_failed = int(np.count_nonzero(~np.isfinite(maxima)))

    p, low, high, is_limit, details = _curve(
        method, np.array([u]), maxima, significances, cl=cl, u0=u0
    )
    p, low, high = float(p[0]), float(low[0]), float(high[0])
    is_limit = bool(is_limit[0])
    details = {key: _scalar(value) for key, value in details.items()}

    if conservative and n_failed:
        p, low, high = _count_failed(
            method, u, maxima, (p, low, high), n_failed, n_toys, cl
        )
        is_limit = is_limit and method != "empirical"

    if method == "trials-factor":
        z_top = details["fit_range"][1]
        if u > z_top + 1.0:
            warnings.warn(
                f"the observed local significance {u:.2f} is {u - z_top:.1f} above the "
                f"largest toy maximum ({z_top:.2f}); the trials-factor p-value there "
                "extrapolates the independent-trials model beyond what the toys "
                "test. Run more toys or compare with method='gross-vitells'.",
                ExtrapolationWarning,
                stacklevel=2,
            )

    return GlobalSignificance(
        p_value=p,
        p_interval=(low, high),
        z=_z_from_p(p),
        z_interval=(_z_from_p(high), math.inf if low == 0 else _z_from_p(low)),
        method=method,
        is_limit=is_limit,
        observed=u,
        n_toys=n_toys,
        n_failed=n_failed,
        cl=cl,
        conservative=bool(conservative),
        details=details,
    )


def global_p_curve(
    z,
    toys,
    method: str = "empirical",
    *,
    cl: float = 0.6827,
    u0: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global p-value and its interval as functions of the local significance.

    Parameters are those of :func:`global_significance`; ``z`` is an array of
    largest local significances. Failed toys are left out (no conservative
    variant). Returns ``(p, p_low, p_high)``, arrays shaped like ``z``; where the
    empirical count is zero, ``p`` is the upper limit.
    """
    _check_cl(cl)
    z = np.asarray(z, dtype=np.float64)
    maxima, significances = _toy_arrays(toys)
    p, low, high, _, _ = _curve(method, z.ravel(), maxima, significances, cl=cl, u0=u0)

    return p.reshape(z.shape), low.reshape(z.shape), high.reshape(z.shape)


def upcrossings(significances, level: float) -> np.ndarray:
    """Number of upcrossings of ``level`` along the window order, per toy.

    An upcrossing is a pair of consecutive valid windows with the first below
    ``level`` and the second at or above it (Gross & Vitells, arXiv:1005.1891,
    section 2). Invalid (NaN) windows are skipped: their neighbours are compared.
    Each efficiency column is a separate curve and the counts of all columns are
    added.

    Parameters
    ----------
    significances : array_like, shape (n_toys, n_windows[, n_efficiencies])
    level : float

    Returns
    -------
    ndarray of int, shape (n_toys,)
    """
    sig = np.asarray(significances, dtype=np.float64)
    if sig.ndim == 2:
        sig = sig[:, :, None]
    if sig.ndim != 3:
        raise ValueError(
            "significances must have shape (n_toys, n_windows[, n_efficiencies]); "
            f"got {sig.shape}."
        )

    # Carry the last valid window forward over invalid ones, then count the
    # below -> above transitions between neighbours.
    valid = np.isfinite(sig)
    positions = np.where(valid, np.arange(sig.shape[1])[None, :, None], -1)
    last_valid = np.maximum.accumulate(positions, axis=1)
    filled = np.take_along_axis(sig, np.maximum(last_valid, 0), axis=1)
    filled[last_valid < 0] = np.nan

    before, after = filled[:, :-1], filled[:, 1:]
    with np.errstate(invalid="ignore"):
        crossing = (before < level) & (after >= level) & valid[:, 1:]

    return crossing.sum(axis=(1, 2))


def fit_trials_factor(maxima, *, cl: float = 0.6827) -> TrialsFactorFit:
    """Fit the effective number of independent trials to toy maxima.

    The model takes the largest local significance of a background-only dataset
    as the largest of ``N_eff`` independent one-sided significances,
    ``P(max Z <= z) = Phi(z)^N_eff`` for ``z >= 0``. Local significances are
    clipped at 0, so ``max Z = 0`` carries a point mass whose size depends on how
    deficits are treated; the fit therefore uses only maxima above 0, with the
    conditional density ``N_eff Phi(z)^(N_eff - 1) phi(z) / (1 - 2^-N_eff)``, and
    minimises the unbinned negative log-likelihood with iminuit (MIGRAD, then HESSE
    and MINOS for the uncertainty).

    Parameters
    ----------
    maxima : array_like, shape (n_toys,)
        Toy maxima; non-finite values are ignored.
    cl : float
        Confidence level of the MINOS interval.

    Returns
    -------
    TrialsFactorFit

    Notes
    -----
    Correlated windows behave like fewer independent ones, but the tail of their
    maximum need not follow ``Phi(z)^N_eff`` exactly; the fit is dominated by the
    bulk of the maxima, and its extrapolation to large ``z`` is a model assumption.
    """
    _check_cl(cl)
    maxima = np.asarray(maxima, dtype=np.float64).ravel()
    z = maxima[np.isfinite(maxima) & (maxima > 0)]
    if z.size < 10:
        raise ValueError(
            f"the trials-factor fit needs at least 10 toy maxima above 0; got "
            f"{z.size} of {maxima.size}. Run more toys or use method='empirical'."
        )

    log_cdf = special.log_ndtr(z)
    sum_log_cdf = float(log_cdf.sum())
    n = z.size

    def negative_log_likelihood(n_eff):
        # The density's phi(z) factor does not depend on N_eff and is dropped.
        log_norm = math.log(-math.expm1(-n_eff * math.log(2.0)))
        return -(n * math.log(n_eff) + (n_eff - 1.0) * sum_log_cdf - n * log_norm)

    start = max(-n / sum_log_cdf, 0.1)  # the MLE without the conditioning on z > 0
    minuit = Minuit(negative_log_likelihood, n_eff=start)
    minuit.errordef = Minuit.LIKELIHOOD
    minuit.limits["n_eff"] = (1e-6, None)
    minuit.migrad()
    if not minuit.valid:
        raise RuntimeError(
            f"the trials-factor fit did not converge on {n} toy maxima (start "
            f"N_eff = {start:.3g}); inspect the maxima with lee.plotting."
        )
    minuit.hesse()
    minuit.minos(cl=cl)
    merror = minuit.merrors["n_eff"]
    n_eff = float(minuit.values["n_eff"])

    return TrialsFactorFit(
        n_eff=n_eff,
        error=float(minuit.errors["n_eff"]),
        interval=(max(n_eff + merror.lower, 0.0), n_eff + merror.upper),
        n_fit=int(n),
        fit_range=(0.0, float(z.max())),
    )


# -- the three methods, vectorised over the observed value --------------------------


def _curve(method, u, maxima, significances, *, cl, u0):
    """``(p, low, high, is_limit, details)`` arrays over ``u`` for one method."""
    if method == "empirical":
        return _empirical(u, maxima, cl)
    if method == "gross-vitells":
        if significances is None:
            raise ValueError(
                "method='gross-vitells' counts upcrossings along the windows and needs "
                "the toys' full significance arrays; pass a ToyResults or an array of "
                "shape (n_toys, n_windows[, n_efficiencies]) instead of the maxima."
            )
        return _gross_vitells(u, significances, maxima, cl, u0)
    if method == "trials-factor":
        return _trials_factor(u, maxima, cl)
    raise ValueError(f"method must be one of {METHODS}; got {method!r}.")


def _empirical(u, maxima, cl):
    valid = maxima[np.isfinite(maxima)]
    n = valid.size
    if n == 0:
        raise ValueError(
            "no toy has a finite maximum significance (all failed or all windows "
            "invalid); look at ToyResults.errors before computing a p-value."
        )
    k = np.count_nonzero(valid[None, :] >= u[:, None], axis=1)
    low, high = _clopper_pearson(k, n, cl)

    # With no exceedance the central interval is replaced by the one-sided upper
    # limit at the same confidence level, 1 - (1 - cl)^(1/n).
    is_limit = k == 0
    upper_limit = -math.expm1(math.log1p(-cl) / n)
    high = np.where(is_limit, upper_limit, high)
    p = np.where(is_limit, upper_limit, k / n)

    details = {"n_exceeding": k, "n_used": n, "smallest_resolvable_p": 1 / n}

    return p, low, high, is_limit, details


def _gross_vitells(u, significances, maxima, cl, u0):
    if not (math.isfinite(u0) and u0 > 0):
        raise ValueError(
            f"u0 must be a positive finite level; got {u0}. Local significances are "
            "clipped at 0, so there are no upcrossings of levels <= 0; use u0 in "
            "[0.5, 1.5]."
        )
    usable = np.isfinite(maxima)
    if not usable.any():
        raise ValueError(
            "no toy has a finite significance array to count upcrossings in; look "
            "at ToyResults.errors."
        )
    counts = upcrossings(significances[usable], u0)
    n_toys, n_curves = int(usable.sum()), significances.shape[2]

    # Garwood (exact Poisson) interval on the total upcrossing count.
    total = int(counts.sum())
    alpha = 1.0 - cl
    total_low = stats.chi2.ppf(alpha / 2, 2 * total) / 2 if total > 0 else 0.0
    total_high = stats.chi2.ppf(1 - alpha / 2, 2 * total + 2) / 2

    # arXiv:1005.1891, eq. (4) for one degree of freedom and a one-sided Z: each
    # curve starts above u with probability Phi_bar(u); E[upcrossings of u] scales
    # as exp(-(u^2 - u0^2) / 2).
    def p_of(mean_crossings):
        scale = np.exp(-(u**2 - u0**2) / 2)
        return np.minimum(n_curves * stats.norm.sf(u) + mean_crossings * scale, 1.0)

    p = p_of(total / n_toys)
    low, high = p_of(total_low / n_toys), p_of(total_high / n_toys)
    is_limit = np.full(u.shape, total == 0)
    if total == 0:
        p = high
    details = {
        "u0": u0,
        "mean_upcrossings": total / n_toys,
        "n_upcrossings": total,
        "n_curves": n_curves,
        "n_used": n_toys,
        "valid_above": u0,
    }

    return p, low, high, is_limit, details


def _trials_factor(u, maxima, cl):
    fit = fit_trials_factor(maxima, cl=cl)
    p = fit.p_value(u)
    low, high = fit.p_value(u, fit.interval[0]), fit.p_value(u, fit.interval[1])
    details = {
        "n_eff": fit.n_eff,
        "n_eff_error": fit.error,
        "n_eff_interval": fit.interval,
        "n_fit": fit.n_fit,
        "fit_range": fit.fit_range,
    }

    return p, low, high, np.zeros(u.shape, dtype=bool), details


def _count_failed(method, u, maxima, estimate, n_failed, n_toys, cl):
    """Conservative variant: every toy without a statistic counts as exceeding."""
    if method == "empirical":
        valid = maxima[np.isfinite(maxima)]
        k = int(np.count_nonzero(valid >= u)) + n_failed
        low, high = _clopper_pearson(np.array([k]), n_toys, cl)
        return k / n_toys, float(low[0]), float(high[0])

    f = n_failed / n_toys
    return tuple(f + (1 - f) * value for value in estimate)


def _clopper_pearson(k, n, cl):
    """Central Clopper-Pearson interval from beta quantiles (Biometrika 26, 404)."""
    alpha = 1.0 - cl
    k = np.asarray(k)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
        high = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)

    return low, high


# -- inputs -----------------------------------------------------------------------


def _observed_value(observed) -> float:
    value = getattr(observed, "max_significance", observed)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(
            "observed must be a ScanResult or a number (the largest local "
            f"significance); got {type(observed).__name__}."
        ) from None
    if not math.isfinite(value):
        raise ValueError(
            f"the observed largest local significance is {value}; a scan whose "
            "windows are all invalid has no global significance. Check "
            "ScanResult.n_invalid."
        )
    return value


def _toy_arrays(toys):
    """``(maxima (n_toys,), significances (n_toys, n_windows, n_curves) or None)``."""
    if hasattr(toys, "max_significances") and hasattr(toys, "significances"):
        maxima = np.asarray(toys.max_significances, dtype=np.float64)
        significances = np.asarray(toys.significances, dtype=np.float64)
    else:
        maxima, significances = _arrays_from(np.asarray(toys, dtype=np.float64))

    if significances is not None and significances.ndim == 2:
        significances = significances[:, :, None]
    if len(maxima) == 0:
        raise ValueError("toys is empty; run some toys first (ToyRunner.run).")

    return maxima, significances


def _arrays_from(array):
    if array.ndim == 1:
        return array, None
    if array.ndim not in (2, 3):
        raise ValueError(
            "toys must be a ToyResults, an array of maxima (n_toys,) or of "
            f"significances (n_toys, n_windows[, n_efficiencies]); got shape "
            f"{array.shape}."
        )
    flat = array.reshape(len(array), -1)
    has_value = np.isfinite(flat).any(axis=1)
    maxima = np.full(len(array), np.nan)
    maxima[has_value] = np.nanmax(flat[has_value], axis=1)

    return maxima, array


def _check_cl(cl) -> None:
    if not (isinstance(cl, (float, int)) and 0 < cl < 1):
        raise ValueError(
            f"cl must be a confidence level strictly between 0 and 1; got {cl!r}. "
            "Use 0.6827 for one-sigma intervals or 0.95."
        )


def _z_from_p(p: float) -> float:
    """One-sided ``Z = Phi^-1(1 - p)``, 0 for ``p >= 0.5``, finite for ``p > 0``."""
    return max(float(stats.norm.isf(p)), 0.0)


def _scalar(value):
    """Single-element arrays of the vectorised curves back to plain numbers."""
    if isinstance(value, np.ndarray):
        return value.item() if value.size == 1 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
