"""Bootstrap resampling of the Monte Carlo itself: the baseline for every generator.

An :class:`EmpiricalSampler` draws events with replacement from the sample it was
fitted on. Its toys reproduce the MC exactly in distribution but repeat events, so
toys larger than a fraction of the MC sample are strongly correlated with each
other; a generative model is only worth its training if it beats this baseline on
that point while matching its fidelity.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from .base import RandomState, Sampler, check_n, check_random_state
from .checkpoint import load as _load
from .checkpoint import save as _save
from .validation import check_features, check_training_data, check_weights

__all__ = ["EmpiricalSampler"]

logger = logging.getLogger(__name__)

NEGATIVE_WEIGHTS = ("raise", "clip")


class EmpiricalSampler(Sampler):
    """Draw events with replacement from a fitted sample (a bootstrap).

    Parameters
    ----------
    features : sequence of str
        Column names of the events passed to :meth:`fit`.
    negative_weights : {"raise", "clip"}
        What :meth:`fit` does with negative event weights. A bootstrap returns
        unweighted events drawn with probability proportional to the weight, which
        cannot represent a negative weight: ``"raise"`` refuses them, ``"clip"``
        sets them to zero and logs the weight fraction removed (biased where the
        negative weights matter; the GAN family handles them without bias).

    Attributes
    ----------
    events_ : ndarray of shape (n_events, n_features), float32
    probabilities_ : ndarray of shape (n_events,) or None
        Draw probabilities; ``None`` for uniform.

    Examples
    --------
    >>> import numpy as np
    >>> from generators import EmpiricalSampler
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> s = EmpiricalSampler(features=("a", "b")).fit(X)
    >>> s.sample(4, random_state=0).shape
    (4, 2)
    """

    def __init__(self, features: Sequence[str], *, negative_weights: str = "raise"):
        self.features = features
        self.negative_weights = negative_weights

    def get_params(self) -> dict:
        return {
            "features": list(self.features),
            "negative_weights": self.negative_weights,
        }

    def fit(self, X, weights=None) -> EmpiricalSampler:
        """Store the events (and draw probabilities from ``weights``); returns self."""
        self.features = check_features(self.features)
        if self.negative_weights not in NEGATIVE_WEIGHTS:
            raise ValueError(
                f"negative_weights must be one of {NEGATIVE_WEIGHTS}; got "
                f"{self.negative_weights!r}."
            )
        X = check_training_data(X, self.features)
        w = check_weights(weights, len(X))

        if w is not None and (w < 0).any():
            if self.negative_weights == "raise":
                raise ValueError(
                    f"weights has {int((w < 0).sum())} negative values, which a "
                    "bootstrap cannot represent. Pass negative_weights='clip' to "
                    "drop them (biased), or use a GAN, whose loss takes them as they "
                    "are."
                )
            removed = -w[w < 0].sum() / np.abs(w).sum()
            logger.warning(
                "clipping %d negative weights (%.2f%% of the absolute weight)",
                int((w < 0).sum()),
                100 * removed,
            )
            w = np.clip(w, 0.0, None)

        self.events_ = X.astype(np.float32)
        self.probabilities_ = None if w is None else w / w.sum()

        return self

    def sample(
        self,
        n: int,
        *,
        random_state: RandomState = None,
        conditions=None,
    ) -> np.ndarray:
        """Draw ``n`` events with replacement, as float32 of shape ``(n, d)``."""
        n = check_n(n)
        if n == 0:
            raise ValueError("n must be positive; got 0.")
        if conditions is not None:
            raise ValueError(
                "EmpiricalSampler cannot sample at given conditions; pass "
                "conditions=None, or use ConditionalWGANGP."
            )
        if not hasattr(self, "events_"):
            raise ValueError("this EmpiricalSampler is not fitted; call fit(X) first.")
        rng = check_random_state(random_state)

        m = len(self.events_)
        if self.probabilities_ is None:
            index = rng.integers(0, m, size=n)
        else:
            index = rng.choice(m, size=n, p=self.probabilities_)

        return self.events_[index]

    def save(self, path) -> None:
        """Write the stored events and probabilities to ``path``."""
        _save(self, path)

    @classmethod
    def load(cls, path, *, features=None) -> EmpiricalSampler:
        """Read a sampler written by :meth:`save`."""
        return _load(path, features=features, expected_type=cls)

    def _checkpoint_state(self):
        if not hasattr(self, "events_"):
            raise ValueError("this EmpiricalSampler is not fitted; call fit(X) first.")
        tensors = {"events": torch.from_numpy(self.events_)}
        if self.probabilities_ is not None:
            tensors["probabilities"] = torch.from_numpy(self.probabilities_)

        return {"params": self.get_params()}, tensors

    @classmethod
    def _from_checkpoint_state(cls, state, tensors, device=None):
        sampler = cls(**state["params"])
        sampler.features = tuple(sampler.features)
        sampler.events_ = tensors["events"].numpy()
        p = tensors.get("probabilities")
        sampler.probabilities_ = None if p is None else p.numpy()

        return sampler
