"""Samplers and scans shared by the toy tests and the subprocess they kill.

They live in a module, not in a test file, so that loky workers and the killed
subprocess can import them by name.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from generators.base import Sampler, check_random_state
from lee.scan import BumpScan

N_BINS = 10
LOW, HIGH = 0.0, 10.0


class UniformSampler(Sampler):
    """Known background: ``m`` uniform on [LOW, HIGH), ``x`` standard normal.

    With ``N ~ Poisson(n_events)`` events, the counts in the ``N_BINS`` equal bins
    of ``m`` are independent Poisson variables of mean ``n_events / N_BINS``.
    """

    features = ("m", "x")

    def sample(self, n, *, random_state=None, conditions=None):
        rng = check_random_state(random_state)
        m = rng.uniform(LOW, HIGH, n)
        x = rng.standard_normal(n)

        return np.column_stack([m, x])


def bump_scan(n_events: float) -> BumpScan:
    """BumpHunter scan of ``N_BINS`` single-bin, non-overlapping windows."""
    edges = np.linspace(LOW, HIGH, N_BINS + 1)
    reference = np.full(N_BINS, n_events / N_BINS)

    return BumpScan.from_histogram(
        edges, reference, width_min=1, width_max=1, scan_feature="m"
    )


class SeededScan:
    """A real bump scan plus a jitter drawn from the toy's ``random_state``.

    Bookkeeping fixture: makes every toy's result depend on the seed the runner
    hands to the scan, which a plain bump scan ignores.
    """

    def __init__(self, n_events: float, pause: float = 0.0):
        self.scan = bump_scan(n_events)
        self.pause = pause

    def get_params(self) -> dict:
        return {"scan": self.scan.get_params(), "pause": self.pause}

    def run(self, X, features=None, random_state=None):
        time.sleep(self.pause)
        result = self.scan.run(X, features=features)
        jitter = np.random.default_rng(random_state).uniform(0, 1e-3)

        return dataclasses.replace(result, significances=result.significances + jitter)


class FailingScan(SeededScan):
    """Raises for toys whose first event has ``m`` below ``threshold``."""

    def __init__(self, n_events: float, threshold: float):
        super().__init__(n_events)
        self.threshold = threshold

    def get_params(self) -> dict:
        return {**super().get_params(), "threshold": self.threshold}

    def run(self, X, features=None, random_state=None):
        if X[0, 0] < self.threshold:
            raise ValueError(f"first event at m = {X[0, 0]:.3f}")
        return super().run(X, features=features, random_state=random_state)


class InterruptingScan(SeededScan):
    """Raises KeyboardInterrupt on its ``n_calls``-th call, as Ctrl-C would."""

    def __init__(self, n_events: float, n_calls: int):
        super().__init__(n_events)
        self.n_calls = n_calls
        self.calls = 0

    def get_params(self) -> dict:
        return super().get_params()

    def run(self, X, features=None, random_state=None):
        self.calls += 1
        if self.calls == self.n_calls:
            raise KeyboardInterrupt
        return super().run(X, features=features, random_state=random_state)


class SculptingSampler(UniformSampler):
    """Like :class:`UniformSampler`, but ``x`` measures ``m``: every window sculpts."""

    def sample(self, n, *, random_state=None, conditions=None):
        X = super().sample(n, random_state=random_state)
        X[:, 1] = X[:, 0] + 0.3 * X[:, 1]

        return X
