"""Local p-values of a signal-region count against a background prediction.

Two modes, both one-sided (an excess is evidence, a deficit is not):

``"poisson"``
    The exact tail probability ``P(N >= n | b)`` of a Poisson count with known
    mean ``b``. It ignores any uncertainty on ``b``: this is BumpHunter's statistic
    for a reference histogram (G. Choudalakis, arXiv:1101.0390, Eq. 1).
``"profile"``
    The profile-likelihood test of an on/off counting model. The SR count is
    ``n ~ Pois(s + b)``; the sideband fit that predicts ``b_hat +- sigma_b`` is
    replaced by an equivalent Poisson auxiliary measurement ``m ~ Pois(tau b)``
    with ``tau = b_hat / sigma_b**2`` and ``m = tau * b_hat``, which has the same
    mean and variance (Cousins, Linnemann and Tucker, NIM A 595 (2008) 480,
    arXiv:physics/0702156, section 4). The discovery statistic ``q0`` of this model
    is closed form (Li and Ma, ApJ 272 (1983) 317, Eq. 17), and ``Z = sqrt(q0)``
    by Wilks' theorem in the asymptotic form of Cowan, Cranmer, Gross and Vitells
    (arXiv:1007.1727, Eqs. 12 and 52-53). With ``sigma_b -> 0`` it becomes
    ``Z = sqrt(2 (n ln(n / b) - (n - b)))``, the Asimov formula (ibid., Eq. 97) at
    ``n = s + b``. ``tests/test_lee/test_pvalues.py`` checks it against pyhf.

In both modes a deficit (``n <= b``) reports ``p >= 0.5`` and ``Z = 0``, and
``Z = Phi^-1(1 - p)`` otherwise. In the ``"profile"`` mode the p-value of a deficit
is ``1 - Phi(-sqrt(q))``, from the likelihood ratio ``q`` of the unconstrained fit
with the sign of ``n - b``: the p-values then stay uniform over their whole range
under the background-only hypothesis (the asymptotic ``q0`` of Cowan et al. puts
half the probability at ``p = 0.5`` exactly instead), while ``Z`` is clipped at 0.

When the background is instead measured by a raw sideband count ``m`` with a known
ratio ``tau`` of sideband to SR expectations (a transfer factor), the same two modes
become :func:`onoff_significance` (Li-Ma, the ``"profile"`` mode) and
:func:`onoff_binomial_pvalue` (the exact conditional binomial test, ``Z_Bi`` of
Cousins, Linnemann and Tucker, Eq. 15, the ``"poisson"`` mode).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

__all__ = [
    "P_VALUE_MODES",
    "local_pvalue",
    "onoff_binomial_pvalue",
    "onoff_significance",
    "p_to_z",
    "poisson_pvalue",
    "profile_significance",
    "z_to_p",
]

P_VALUE_MODES = ("poisson", "profile")


def p_to_z(p):
    """One-sided significance ``Z = Phi^-1(1 - p)``, clipped at 0 for ``p >= 0.5``."""
    p = np.asarray(p, dtype=float)
    z = stats.norm.isf(p)

    return np.where(p >= 0.5, 0.0, z)


def z_to_p(z):
    """One-sided p-value ``1 - Phi(Z)``."""
    return stats.norm.sf(np.asarray(z, dtype=float))


def poisson_pvalue(n, b):
    """Exact tail ``P(N >= n | b)`` of a Poisson count with known mean ``b``.

    Uses ``P(N >= n | b) = P(n, b)``, the regularised lower incomplete gamma
    function, which keeps full relative precision deep in the tail. For a deficit
    (``n <= b``) the result is at least 0.5.

    Parameters
    ----------
    n : array_like
        Observed counts (non-negative integers).
    b : array_like
        Expected background, > 0.
    """
    n, b = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(b, dtype=float))
    p = np.ones(n.shape)
    pos = n > 0
    p[pos] = special.gammainc(n[pos], b[pos])

    return np.where(n <= b, np.maximum(p, 0.5), p)


def profile_significance(n, b, sigma_b, signed: bool = False):
    """Closed-form one-sided profile-likelihood significance of an SR excess.

    The on/off model with ``tau = b / sigma_b**2`` and ``m = tau * b`` (see the
    module docstring) gives Li and Ma's Eq. 17,

    .. math::

        Z^2 = 2 \\left[ n \\ln\\frac{(1 + \\tau) n}{n + m}
              + m \\ln\\frac{(1 + \\tau) m}{\\tau (n + m)} \\right],

    for ``n > b`` and ``Z = 0`` otherwise; ``sigma_b = 0`` takes the known-background
    limit ``Z^2 = 2 (n \\ln(n / b) - (n - b))``.

    Parameters
    ----------
    n : array_like
        Observed SR counts.
    b : array_like
        Predicted background, > 0.
    sigma_b : array_like
        Its uncertainty, >= 0.
    signed : bool
        Return ``-sqrt(q)`` for deficits instead of 0.

    Returns
    -------
    ndarray
        ``Z >= 0`` (or signed); the p-value is ``1 - Phi(Z)``.
    """
    n, b, sigma_b = np.broadcast_arrays(
        np.asarray(n, dtype=float),
        np.asarray(b, dtype=float),
        np.asarray(sigma_b, dtype=float),
    )
    q = np.zeros(n.shape)

    # Known background: the limit tau -> infinity.
    exact = sigma_b <= 0
    ne, be = n[exact], b[exact]
    q[exact] = 2 * (special.xlogy(ne, ne / be) - (ne - be))

    # On/off with a Poisson-equivalent auxiliary count (Li and Ma 1983, Eq. 17).
    onoff = ~exact
    tau = b[onoff] / sigma_b[onoff] ** 2
    q[onoff] = _li_ma_q0(n[onoff], tau * b[onoff], tau)

    return _signed_root(q, n > b, signed)


def _signed_root(q, excess, signed):
    z = np.sqrt(np.maximum(q, 0.0))
    if signed:
        return np.where(excess, z, -z)
    return np.where(excess, z, 0.0)


def _li_ma_q0(n, m, tau):
    total = n + m
    return 2 * (
        special.xlogy(n, (1 + tau) * n / total)
        + special.xlogy(m, (1 + tau) * m / (tau * total))
    )


def onoff_significance(n, m, tau, signed: bool = False):
    """Profile-likelihood Z of ``n`` SR events against ``m`` sideband events.

    The sideband expectation is ``tau`` times the SR background (Li and Ma 1983,
    Eq. 17, with their ``alpha = 1 / tau``; Cowan et al., arXiv:1007.1727). Unlike
    :func:`profile_significance` it stays defined for ``m = 0``, where
    ``Z^2 = 2 n ln(1 + tau)``. ``Z = 0`` when ``n <= m / tau`` (``-sqrt(q)`` with
    ``signed=True``).
    """
    n, m, tau = np.broadcast_arrays(
        np.asarray(n, dtype=float),
        np.asarray(m, dtype=float),
        np.asarray(tau, dtype=float),
    )
    return _signed_root(_li_ma_q0(n, m, tau), n * tau > m, signed)


def onoff_binomial_pvalue(n, m, tau):
    """Exact conditional p-value of ``n`` SR events against ``m`` sideband events.

    Given ``n + m``, the SR count is binomial with success probability
    ``1 / (1 + tau)`` under the background-only hypothesis, so
    ``p = P(N >= n) = I_{1/(1+tau)}(n, m + 1)``, the regularised incomplete beta
    function (Cousins, Linnemann and Tucker, arXiv:physics/0702156, Eq. 15; the
    ``Z_Bi`` of that paper). Deficits (``n <= m / tau``) have ``p >= 0.5``.
    """
    n, m, tau = np.broadcast_arrays(
        np.asarray(n, dtype=float),
        np.asarray(m, dtype=float),
        np.asarray(tau, dtype=float),
    )
    p = np.ones(n.shape)
    pos = n > 0
    p[pos] = special.betainc(n[pos], m[pos] + 1, 1 / (1 + tau[pos]))

    return np.where(n * tau <= m, np.maximum(p, 0.5), p)


def local_pvalue(n, b, sigma_b=0.0, mode: str = "profile"):
    """Local p-value and significance of SR counts in one of the two modes.

    Parameters
    ----------
    n, b, sigma_b : array_like
        Observed count, predicted background and its uncertainty (ignored by
        ``"poisson"``).
    mode : {"poisson", "profile"}

    Returns
    -------
    p, z : ndarray
        ``p >= 0.5`` and ``z = 0`` for deficits (see the module docstring).
    """
    if mode == "poisson":
        p = poisson_pvalue(n, b)
        return p, p_to_z(p)
    if mode == "profile":
        z = profile_significance(n, b, sigma_b, signed=True)
        return z_to_p(z), np.maximum(z, 0.0)
    raise ValueError(
        f"p_value mode must be one of {P_VALUE_MODES}; got {mode!r}. Use 'poisson' "
        "for a known background (reference histogram) and 'profile' for a fitted one."
    )
