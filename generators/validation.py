"""Validation of what users pass to samplers: column names, events, weights.

Each check returns a clean array or raises a ValueError/TypeError that names the
parameter, what was received and what to do instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["check_features", "check_training_data", "check_weights"]


def check_features(features) -> tuple[str, ...]:
    """Validate column names: a non-empty sequence of distinct strings."""
    if isinstance(features, str) or not isinstance(features, Sequence):
        raise TypeError(
            f"features must be a sequence of column names; got {features!r}. Pass "
            "e.g. sample.features."
        )
    features = tuple(features)
    if not features or not all(isinstance(f, str) for f in features):
        raise ValueError(f"features must be non-empty strings; got {list(features)}.")
    if len(set(features)) != len(features):
        raise ValueError(f"features must be distinct; got {list(features)}.")

    return features


def check_training_data(X, features: tuple[str, ...]) -> np.ndarray:
    """2-D float64 array with one column per feature and no NaN or inf.

    The error for non-finite values names each offending column and its count.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != len(features):
        raise ValueError(
            f"X must have shape (n_events, {len(features)}) to match features "
            f"{list(features)}; got shape {X.shape}. Pass the columns in that order."
        )
    if X.dtype.kind not in "fiu":
        raise TypeError(f"X must hold numbers; got dtype {X.dtype}.")
    if len(X) == 0:
        raise ValueError("X holds no events; pass at least one row.")
    bad = ~np.isfinite(X)
    if bad.any():
        counts = {
            f: int(c) for f, c in zip(features, bad.sum(axis=0), strict=False) if c
        }
        raise ValueError(
            f"X has NaN or inf values (column: count) {counts}; drop or repair "
            "those events before fitting."
        )

    return np.ascontiguousarray(X, dtype=np.float64)


def check_weights(weights, n: int) -> np.ndarray | None:
    """``None`` or a finite float64 array of shape ``(n,)`` with a positive sum."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(
            f"weights must have shape ({n},), one per event; got shape {w.shape}."
        )
    if not np.isfinite(w).all():
        raise ValueError(
            f"weights has {int((~np.isfinite(w)).sum())} NaN or inf values; repair "
            "them before fitting."
        )
    if w.sum() <= 0:
        raise ValueError(
            f"weights must have a positive sum; got {w.sum():g}. Check the sign "
            "convention of the MC weights."
        )

    return w
