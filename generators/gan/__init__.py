"""The GAN family: vanilla GAN, WGAN, WGAN-GP and conditional WGAN-GP.

All four are :class:`~generators.Sampler` objects with one constructor, one trainer
and one checkpoint format; see :mod:`generators.gan.models` for the parameters and
:mod:`generators.gan.presets` for the ``"paper"`` and ``"default"`` settings.
"""

from .conditional import ConditionalWGANGP
from .models import GAN, WGAN, WGANGP, AdversarialSampler
from .networks import Swish
from .presets import PRESETS

__all__ = [
    "GAN",
    "PRESETS",
    "WGAN",
    "WGANGP",
    "AdversarialSampler",
    "ConditionalWGANGP",
    "Swish",
]
