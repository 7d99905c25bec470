"""Event samplers for lee-toys: reference Monte Carlo, resampling and GANs.

``generators`` never imports :mod:`lee`; the statistics side sees samplers only
through :class:`Sampler`. The reference Monte Carlo lives in :mod:`generators.mc`
and needs the ``mc`` extra (Pythia 8).
"""

from . import fidelity
from .base import Sampler, check_random_state
from .checkpoint import load, pretrained
from .data import EventSample, available_samples, load_sample
from .empirical import EmpiricalSampler
from .gan import GAN, WGAN, WGANGP, ConditionalWGANGP
from .kinematics import FEATURES, UNITS

__all__ = [
    "FEATURES",
    "GAN",
    "UNITS",
    "WGAN",
    "WGANGP",
    "ConditionalWGANGP",
    "EmpiricalSampler",
    "EventSample",
    "Sampler",
    "available_samples",
    "check_random_state",
    "fidelity",
    "load",
    "load_sample",
    "pretrained",
]


def __getattr__(name):
    # The Pythia module is imported on first use so that `import generators` works
    # without the 'mc' extra.
    if name == "mc":
        from . import mc

        return mc
    raise AttributeError(f"module 'generators' has no attribute {name!r}")
