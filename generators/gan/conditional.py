"""WGAN-GP conditioned on one column, the scan variable.

A CWoLa search compares signal region and sidebands of the scan variable, so the toys
must get ``p(features | m_bb)`` right, not only the marginals. The conditional model
learns exactly that: the generator and the critic both see the (preprocessed)
condition value next to the other columns (Mirza and Osindero, arXiv:1411.1784,
applied to the WGAN-GP objective of arXiv:1704.00028).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..base import RandomState, check_n, check_random_state
from .models import WGANGP

__all__ = ["ConditionalWGANGP"]


class ConditionalWGANGP(WGANGP):
    """WGAN-GP that generates the other columns given the ``condition`` column.

    Parameters
    ----------
    features : sequence of str
    condition : str
        Name of the conditioning column; default ``"m_bb"``, the scan variable.
    **kwargs
        As for :class:`WGANGP`.

    Notes
    -----
    During training the fake events of a batch are generated at the condition
    values of that batch's real events, so the critic compares like with like.
    ``sample(n)`` without ``conditions`` first draws the condition from its training
    distribution, stored as 2001 quantiles and inverted with linear interpolation.

    Examples
    --------
    >>> import numpy as np
    >>> from generators import ConditionalWGANGP
    >>> X = np.random.default_rng(0).normal(size=(2000, 2))
    >>> cg = ConditionalWGANGP(features=("x", "m"), condition="m", max_epochs=1,
    ...                        progress=False, selection_metric="ks",
    ...                        random_state=0).fit(X)
    >>> cg.sample(3, conditions=[0.0, 0.5, 1.0], random_state=0)[:, 1]
    array([0. , 0.5, 1. ], dtype=float32)
    """

    n_condition = 1

    def __init__(self, features, *, condition: str = "m_bb", **kwargs):
        super().__init__(features, **kwargs)
        self.condition = condition

    def _variant_params(self):
        return super()._variant_params() | {"condition": self.condition}

    def _config(self):
        config = super()._config()
        if "coordinates" in config["preprocessing"]:
            raise ValueError(
                "ConditionalWGANGP does not take preprocessing 'coordinates' yet: it "
                "locates the condition column by its position among the features, "
                "which a change of coordinates moves. Drop the 'coordinates' key."
            )

        return config

    def _condition_index(self) -> int:
        if self.condition not in self.features:
            raise ValueError(
                f"condition {self.condition!r} is not one of the features "
                f"{list(self.features)}; pass the name of the scan column."
            )
        if len(self.features) < 2:
            raise ValueError(
                "a conditional model needs at least one column besides the condition."
            )
        return list(self.features).index(self.condition)

    def _split_columns(self, Z):
        j = self._condition_index()
        return np.delete(Z, j, axis=1), Z[:, [j]]

    def _generate(self, network, n, values, rng, device) -> np.ndarray:
        j = self._condition_index()
        if values is None:
            knots = self.condition_quantiles_
            values = np.interp(rng.random(n), np.linspace(0, 1, len(knots)), knots)

        # The preprocessing acts column by column, so the condition column of an
        # otherwise empty array transforms on its own.
        full = np.zeros((n, len(self.features)))
        full[:, j] = values
        condition = self.preprocessor_.transform(full)[:, j]

        noise = torch.Generator(device=device)
        noise.manual_seed(int(rng.integers(0, 2**62)))
        out = []
        with torch.no_grad():
            for start in range(0, n, 65536):
                stop = min(start + 65536, n)
                z = torch.randn(
                    (stop - start, network.latent_dim), generator=noise, device=device
                )
                c = torch.as_tensor(
                    condition[start:stop, None], dtype=torch.float32, device=device
                )
                out.append(network(z, c).cpu().numpy())
        full[:, np.arange(full.shape[1]) != j] = np.concatenate(out)
        full[:, j] = condition

        X = self.preprocessor_.inverse_transform(full)
        X[:, j] = values

        return X

    def sample(
        self,
        n: int,
        *,
        random_state: RandomState = None,
        conditions=None,
    ) -> np.ndarray:
        """Draw ``n`` events, optionally at given values of the condition column.

        Parameters
        ----------
        n : int
        random_state : int, SeedSequence or Generator, optional
        conditions : array of shape (n,), optional
            Values of the condition column, one per event; returned unchanged in
            that column. Without them the condition is drawn from its training
            distribution.
        """
        n = check_n(n)
        if n == 0:
            raise ValueError("n must be positive; got 0.")
        self._check_fitted()
        rng = check_random_state(random_state)

        if conditions is not None:
            conditions = np.asarray(conditions, dtype=np.float64)
            if conditions.shape != (n,):
                raise ValueError(
                    f"conditions must have shape ({n},), one {self.condition} value "
                    f"per event; got shape {conditions.shape}."
                )
            if not np.isfinite(conditions).all():
                raise ValueError("conditions has NaN or inf values.")
            lo, hi = self.condition_quantiles_[[0, -1]]
            outside = int(((conditions < lo) | (conditions > hi)).sum())
            if outside:
                warnings.warn(
                    f"{outside} of {n} conditions lie outside the training range "
                    f"[{lo:.4g}, {hi:.4g}] of {self.condition}; the model treats "
                    "them as the nearest edge.",
                    stacklevel=2,
                )

        device = next(self.generator_.parameters()).device
        return self._generate(self.generator_, n, conditions, rng, device).astype(
            np.float32
        )
