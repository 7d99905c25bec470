"""The :class:`Sampler` interface shared by every event generator.

A sampler draws events as a ``(n, d)`` array whose columns are named by
:attr:`Sampler.features`. The toy engine in :mod:`lee` needs nothing else, so any
object with ``sample(n, random_state=...)`` can feed toys; the reference Monte Carlo,
the bootstrap baseline and the GAN family all implement this class.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import numpy as np

__all__ = ["RandomState", "Sampler", "check_events", "check_random_state"]

RandomState = int | np.random.SeedSequence | np.random.Generator | None


def check_random_state(random_state: RandomState) -> np.random.Generator:
    """Turn ``random_state`` into a fresh :class:`numpy.random.Generator`.

    ``None`` gives an unseeded generator; an int or a
    :class:`~numpy.random.SeedSequence` seeds a new one; a
    :class:`~numpy.random.Generator` is returned as it is, so that a caller can thread
    one stream through several calls. The global NumPy state is never used.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, (int, np.integer)) and not isinstance(
        random_state, bool
    ):
        if random_state < 0:
            raise ValueError(
                f"random_state must be a non-negative int; got {random_state}. "
                "Pass a seed >= 0, a numpy SeedSequence or a numpy Generator."
            )
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state must be None, an int, a numpy SeedSequence or a numpy "
        f"Generator; got {type(random_state).__name__}."
    )


def check_events(X, n_features: int | None = None, *, name: str = "X") -> np.ndarray:
    """Validate an event array: 2-D, finite, float, with ``n_features`` columns.

    Returns a float64 C-contiguous copy-free view where possible. Raises ValueError
    naming ``name``, the problem and the fix.
    """
    X = np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise TypeError(
            f"{name} must hold numbers; got dtype {X.dtype}. Convert the columns to "
            "float before passing them."
        )
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (n_events, n_features); got shape {X.shape}."
        )
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} columns but {n_features} features were declared; "
            "pass the columns in the order of `features`."
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} holds no events; pass at least one row.")
    bad = ~np.isfinite(X)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"{name} has {rows.size} rows with NaN or inf (first at row {rows[0]}); "
            "drop or repair them before fitting."
        )
    return np.ascontiguousarray(X, dtype=np.float64)


class Sampler(abc.ABC):
    """A source of events with named columns.

    Subclasses set :attr:`features` and implement :meth:`sample`. Trainable
    samplers also implement :meth:`fit` (returning ``self``, learned state in
    attributes ending in ``_``), and every sampler that can be saved implements
    :meth:`save` and :meth:`load`; :func:`generators.load` dispatches on the type
    recorded in the file.
    """

    #: Column names of the arrays that :meth:`sample` returns, in order.
    features: tuple[str, ...]

    def fit(self, X, weights=None) -> Sampler:
        """Learn the distribution of ``X`` (rows are events); returns ``self``."""
        raise NotImplementedError(
            f"{type(self).__name__} is not trainable; it samples from a fixed model."
        )

    @abc.abstractmethod
    def sample(
        self,
        n: int,
        *,
        random_state: RandomState = None,
        conditions: Sequence[float] | np.ndarray | None = None,
    ) -> np.ndarray:
        """Draw ``n`` events as an array of shape ``(n, len(features))``."""

    @property
    def n_features(self) -> int:
        return len(self.features)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(features={list(self.features)!r})"


def check_n(n) -> int:
    """Validate a number of events to draw."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative int; got {n!r}.")
    return int(n)
