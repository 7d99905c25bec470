"""Event samplers for lee-toys: reference Monte Carlo, resampling and GANs.

``generators`` never imports :mod:`lee`; the statistics side sees samplers only
through :class:`Sampler`. The reference Monte Carlo lives in :mod:`generators.mc`
and needs the ``mc`` extra (Pythia 8).
"""

from .base import Sampler, check_random_state
from .data import EventSample, available_samples, load_sample
from .kinematics import FEATURES, UNITS

__all__ = [
    "FEATURES",
    "UNITS",
    "EventSample",
    "Sampler",
    "available_samples",
    "check_random_state",
    "load_sample",
]


def __getattr__(name):
    # The Pythia module is imported on first use so that `import generators` works
    # without the 'mc' extra.
    if name == "mc":
        from . import mc

        return mc
    raise AttributeError(f"module 'generators' has no attribute {name!r}")
