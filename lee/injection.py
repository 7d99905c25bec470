"""Signal injection: mix signal events into a background dataset.

Sensitivity studies add a known amount of signal, from the bundled ``hsh_signal``
sample for instance, to background-only pseudo-data and ask whether a scan finds it.
The amount is either a number of selected signal events or a cross-section times an
integrated luminosity, converted with the signal sample's selection efficiency:
``N = sigma * L * eff``.
"""

from __future__ import annotations

import numpy as np

from generators.base import check_random_state

__all__ = ["expected_signal_events", "inject_signal"]


def expected_signal_events(
    cross_section: float, luminosity: float, efficiency
) -> float:
    """Expected selected signal events ``sigma * L * eff``.

    Parameters
    ----------
    cross_section : float
        Production cross-section times branching ratio, in fb.
    luminosity : float
        Integrated luminosity, in fb^-1.
    efficiency : float or EventSample
        Selection efficiency, or a sample whose ``metadata`` records
        ``n_selected`` and ``n_generated``.
    """
    for name, value in (("cross_section", cross_section), ("luminosity", luminosity)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be finite and >= 0; got {value!r}.")
    efficiency = _efficiency(efficiency)

    return float(cross_section * luminosity * efficiency)


def inject_signal(
    background,
    signal,
    n_signal: int | None = None,
    *,
    cross_section: float | None = None,
    luminosity: float | None = None,
    efficiency: float | None = None,
    poisson: bool = True,
    return_labels: bool = False,
    random_state=None,
):
    """Add signal events, drawn without replacement, to a background dataset.

    Give either ``n_signal`` or ``cross_section`` and ``luminosity``.

    Parameters
    ----------
    background : array_like of shape (n_bkg, d) or EventSample
    signal : array_like of shape (n_sig_pool, d) or EventSample
        The pool to draw from; same columns as ``background``.
    n_signal : int, optional
        Number of signal events to inject.
    cross_section, luminosity : float, optional
        In fb and fb^-1; the injected count is ``sigma * L * eff``.
    efficiency : float, optional
        Selection efficiency of the signal; by default it is read from the
        signal sample's metadata (``n_selected / n_generated``).
    poisson : bool
        With a cross-section, draw the count from a Poisson distribution around
        ``sigma * L * eff`` (a real dataset's count fluctuates); otherwise round it.
    return_labels : bool
        Also return a boolean array marking the injected events.
    random_state : int, SeedSequence or Generator, optional

    Returns
    -------
    X : ndarray of shape (n_bkg + n_injected, d)
        Background and signal, shuffled together.
    is_signal : ndarray of bool, only with ``return_labels=True``

    Examples
    --------
    >>> import numpy as np
    >>> bkg, sig = np.zeros((100, 2)), np.ones((50, 2))
    >>> X, y = inject_signal(bkg, sig, 10, return_labels=True, random_state=0)
    >>> X.shape, int(y.sum()), float(X[y].mean())
    ((110, 2), 10, 1.0)
    """
    B, S = _array(background, "background"), _array(signal, "signal")
    if B.shape[1] != S.shape[1]:
        raise ValueError(
            f"background has {B.shape[1]} columns and signal {S.shape[1]}; pass "
            "samples with the same columns in the same order."
        )
    if (
        _features(background)
        and _features(signal)
        and (_features(background) != _features(signal))
    ):
        raise ValueError(
            "background and signal have different column names: "
            f"{_features(background)} vs {_features(signal)}."
        )
    rng = check_random_state(random_state)

    # How many events: a count, or sigma x L x efficiency.
    if (n_signal is None) == (cross_section is None):
        raise ValueError(
            "give exactly one of n_signal or cross_section (with luminosity); got "
            f"n_signal={n_signal!r}, cross_section={cross_section!r}."
        )
    if n_signal is None:
        if luminosity is None:
            raise ValueError("cross_section needs luminosity (fb^-1) as well.")
        eff = signal if efficiency is None else efficiency
        mean = expected_signal_events(cross_section, luminosity, eff)
        n_signal = int(rng.poisson(mean)) if poisson else round(mean)
    if isinstance(n_signal, bool) or not isinstance(n_signal, (int, np.integer)):
        raise TypeError(f"n_signal must be an int; got {n_signal!r}.")
    if not 0 <= n_signal <= len(S):
        raise ValueError(
            f"n_signal={n_signal} but the signal pool holds {len(S)} events (drawn "
            "without replacement); pass a larger signal sample or fewer events."
        )

    # Draw without replacement, then shuffle signal in among the background.
    picked = S[rng.choice(len(S), size=int(n_signal), replace=False)]
    X = np.concatenate([B, picked.astype(B.dtype, copy=False)])
    is_signal = np.r_[np.zeros(len(B), bool), np.ones(len(picked), bool)]
    order = rng.permutation(len(X))

    if return_labels:
        return X[order], is_signal[order]
    return X[order]


def _array(sample, name) -> np.ndarray:
    X = np.asarray(getattr(sample, "X", sample))
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_events, n_columns); got {X.shape}.")
    return X


def _features(sample):
    features = getattr(sample, "features", None)
    return None if features is None else tuple(features)


def _efficiency(efficiency) -> float:
    if hasattr(efficiency, "metadata"):
        meta = efficiency.metadata
        if not meta.get("n_generated") or "n_selected" not in meta:
            raise ValueError(
                "the signal sample's metadata lacks n_selected and n_generated; pass "
                "efficiency=... explicitly."
            )
        efficiency = meta["n_selected"] / meta["n_generated"]
    efficiency = float(efficiency)
    if not 0 < efficiency <= 1:
        raise ValueError(f"efficiency must be in (0, 1]; got {efficiency}.")
    return efficiency
