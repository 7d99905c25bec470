"""Invertible per-feature transforms between physics units and network space.

A GAN learns faster when every column lives on the same scale. Two transforms are
provided, both fitted column by column, both exactly invertible on the range they
were fitted on, and both stored with a model as plain arrays
(:meth:`state_dict` / :meth:`from_state_dict`):

:class:`MinMaxScaler`
    The seed paper's choice (its sections 4.2 and 4.3): clip each column's tails at
    two quantiles, then scale linearly to ``[0, 1]`` so that the generator's Sigmoid
    output covers it.
:class:`QuantileTransformer`
    Map each column through its empirical cumulative distribution and then through
    the inverse standard-normal CDF, so every column is close to ``N(0, 1)``. The
    inverse interpolates linearly between stored quantiles, so the marginals of a
    well-trained generator are reproduced up to the quantile grid. This is what the
    default preset uses: heavy tails (``met``, ``mt``) and bounded columns
    (``dphi_ll`` in ``[0, pi]``) become plain Gaussians and the network only has to
    learn the dependence between columns.

Both accept per-event weights, negative ones included: quantiles come from the
weighted empirical CDF, made monotone where negative weights would make it decrease.

Either can be preceded by a change to kinematic coordinates
(:mod:`generators.coordinates`), named by the ``"coordinates"`` key of the config:
:class:`CoordinateTransform` chains the two, and the network then works in fewer
columns than the events have.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .coordinates import COORDINATES

__all__ = [
    "CoordinateTransform",
    "MinMaxScaler",
    "QuantileTransformer",
    "make_preprocessor",
]


def weighted_quantiles(x: np.ndarray, q: np.ndarray, weights=None) -> np.ndarray:
    """Quantiles ``q`` of the columns of ``x`` under per-row ``weights``.

    Negative weights are allowed; the cumulative weight is made non-decreasing
    (running maximum) before it is inverted, so the result is always sorted.
    """
    x = np.asarray(x, dtype=np.float64)
    if weights is None:
        return np.quantile(x, q, axis=0)

    out = np.empty((len(q), x.shape[1]))
    for j in range(x.shape[1]):
        order = np.argsort(x[:, j], kind="stable")
        cdf = np.maximum.accumulate(np.cumsum(weights[order]))
        cdf = np.clip(cdf / cdf[-1], 0.0, 1.0)
        out[:, j] = np.interp(q, cdf, x[order, j])

    return out


def _strictly_increasing(knots: np.ndarray) -> np.ndarray:
    # Repeated values (ties, or flat stretches of a weighted CDF) would make the
    # inverse ambiguous; nudge each repeat up by a relative spacing of 1e-9.
    knots = knots.copy()
    scale = np.maximum(np.abs(knots).max(axis=0), 1.0) * 1e-9
    for i in range(1, len(knots)):
        knots[i] = np.maximum(knots[i], knots[i - 1] + scale)

    return knots


class MinMaxScaler:
    """Clip tails at two quantiles and scale each column linearly to ``[0, 1]``.

    Parameters
    ----------
    clip_quantiles : tuple of float
        Lower and upper quantile at which each column is clipped before scaling.
        ``(0, 1)`` keeps the full range. Values beyond the clip points are moved onto
        them ("re-bucketed to the last bin", as the seed paper describes it), so the
        transform is invertible only between the clip points.
    """

    kind = "minmax"

    def __init__(self, clip_quantiles: tuple[float, float] = (0.0, 1.0)):
        lo, hi = clip_quantiles
        if not 0.0 <= lo < hi <= 1.0:
            raise ValueError(
                "clip_quantiles must satisfy 0 <= low < high <= 1; got "
                f"{clip_quantiles!r}. Pass e.g. (0.001, 0.999)."
            )
        self.clip_quantiles = (float(lo), float(hi))

    def fit(self, X, weights=None) -> MinMaxScaler:
        """Learn the clip points ``low_`` and ``high_`` of every column."""
        X = np.asarray(X, dtype=np.float64)
        low, high = weighted_quantiles(X, np.array(self.clip_quantiles), weights)
        self.low_ = low
        self.high_ = np.where(high > low, high, low + 1.0)

        return self

    def transform(self, X) -> np.ndarray:
        X = np.clip(np.asarray(X, dtype=np.float64), self.low_, self.high_)
        return (X - self.low_) / (self.high_ - self.low_)

    def inverse_transform(self, Z) -> np.ndarray:
        Z = np.clip(np.asarray(Z, dtype=np.float64), 0.0, 1.0)
        return self.low_ + Z * (self.high_ - self.low_)

    def n_columns(self, n_features: int) -> int:
        """Columns of the transformed events: the same as the events'."""
        return n_features

    def get_config(self) -> dict:
        return {"kind": self.kind, "clip_quantiles": list(self.clip_quantiles)}

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"low": self.low_, "high": self.high_}

    def load_state_dict(self, state: dict) -> MinMaxScaler:
        self.low_ = np.asarray(state["low"], dtype=np.float64)
        self.high_ = np.asarray(state["high"], dtype=np.float64)
        return self


class QuantileTransformer:
    """Map each column to a standard normal through its empirical CDF.

    Parameters
    ----------
    n_quantiles : int
        Number of stored quantiles per column; the inverse interpolates linearly
        between them. 1000 knots keep the interpolation error of a mean well below
        0.1 % for the bundled samples.
    tail : float
        Probability kept out of each end of the normal scale: the first knot maps to
        ``Phi^-1(tail)`` and the last to ``Phi^-1(1 - tail)``, so network outputs
        beyond these land on the smallest and largest value seen in training.
    """

    kind = "quantile"

    def __init__(self, n_quantiles: int = 1000, tail: float = 1e-4):
        if isinstance(n_quantiles, bool) or not isinstance(n_quantiles, int):
            raise TypeError(f"n_quantiles must be an int; got {n_quantiles!r}.")
        if n_quantiles < 10:
            raise ValueError(
                f"n_quantiles must be at least 10; got {n_quantiles}. Use 1000 "
                "unless the sample is tiny."
            )
        if not 0.0 < tail < 0.5:
            raise ValueError(f"tail must lie in (0, 0.5); got {tail!r}. Try 1e-4.")
        self.n_quantiles = n_quantiles
        self.tail = float(tail)

    def fit(self, X, weights=None) -> QuantileTransformer:
        """Learn the quantile knots ``knots_`` (n_quantiles, n_features)."""
        X = np.asarray(X, dtype=np.float64)
        n_knots = min(self.n_quantiles, len(X))
        self.knots_ = _strictly_increasing(
            weighted_quantiles(X, np.linspace(0.0, 1.0, n_knots), weights)
        )

        return self

    @property
    def _normal_grid(self) -> np.ndarray:
        u = np.linspace(self.tail, 1.0 - self.tail, len(self.knots_))
        return special.ndtri(u)

    def transform(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        grid = self._normal_grid
        Z = np.empty_like(X)
        for j in range(X.shape[1]):
            Z[:, j] = np.interp(X[:, j], self.knots_[:, j], grid)

        return Z

    def inverse_transform(self, Z) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float64)
        grid = self._normal_grid
        X = np.empty_like(Z)
        for j in range(Z.shape[1]):
            X[:, j] = np.interp(Z[:, j], grid, self.knots_[:, j])

        return X

    def n_columns(self, n_features: int) -> int:
        """Columns of the transformed events: the same as the events'."""
        return n_features

    def get_config(self) -> dict:
        return {"kind": self.kind, "n_quantiles": self.n_quantiles, "tail": self.tail}

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"knots": self.knots_}

    def load_state_dict(self, state: dict) -> QuantileTransformer:
        self.knots_ = np.asarray(state["knots"], dtype=np.float64)
        return self


class CoordinateTransform:
    """Kinematic coordinates first, then a per-column transform of them.

    Parameters
    ----------
    coordinates : DileptonCoordinates
        The change of variables (:mod:`generators.coordinates`).
    inner : MinMaxScaler or QuantileTransformer
        Fitted on the coordinates, not on the original columns.
    """

    def __init__(self, coordinates, inner):
        self.coordinates = coordinates
        self.inner = inner

    @property
    def kind(self) -> str:
        return self.inner.kind

    def fit(self, X, weights=None) -> CoordinateTransform:
        self.coordinates.fit(X)
        self.inner.fit(self.coordinates.transform(X), weights)
        return self

    def transform(self, X) -> np.ndarray:
        return self.inner.transform(self.coordinates.transform(X))

    def inverse_transform(self, Z) -> np.ndarray:
        return self.coordinates.inverse_transform(self.inner.inverse_transform(Z))

    def n_columns(self, n_features: int) -> int:
        """Columns of the transformed events: those of the coordinates."""
        return len(self.coordinates.columns)

    def get_config(self) -> dict:
        return self.inner.get_config() | {"coordinates": self.coordinates.name}

    def state_dict(self) -> dict[str, np.ndarray]:
        coordinates = {
            f"coordinates.{k}": v for k, v in self.coordinates.state_dict().items()
        }
        return self.inner.state_dict() | coordinates

    def load_state_dict(self, state: dict) -> CoordinateTransform:
        prefix = "coordinates."
        self.inner.load_state_dict(
            {k: v for k, v in state.items() if not k.startswith(prefix)}
        )
        self.coordinates.load_state_dict(
            {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        )
        return self


_KINDS = {"minmax": MinMaxScaler, "quantile": QuantileTransformer}


def make_preprocessor(config: dict, features=None):
    """Build an unfitted transform from ``get_config()`` output.

    ``features`` (the event columns) is needed when the config names
    ``"coordinates"``.
    """
    config = dict(config)
    kind = config.pop("kind", None)
    coordinates = config.pop("coordinates", None)
    if kind not in _KINDS:
        raise ValueError(
            f"preprocessing kind must be one of {sorted(_KINDS)}; got {kind!r}."
        )
    if coordinates is not None and coordinates not in COORDINATES:
        raise ValueError(
            f"preprocessing coordinates must be one of {sorted(COORDINATES)} or "
            f"absent; got {coordinates!r}."
        )
    if "clip_quantiles" in config:
        config["clip_quantiles"] = tuple(config["clip_quantiles"])
    inner = _KINDS[kind](**config)
    if coordinates is None:
        return inner
    if features is None:
        raise ValueError(
            f"preprocessing coordinates={coordinates!r} needs the event columns; "
            "pass features to make_preprocessor."
        )

    return CoordinateTransform(COORDINATES[coordinates](features), inner)
