"""Dense generator and critic networks, initialised from an explicit random stream.

Layers are created without PyTorch's default initialisation (which draws from the
global random state) and then filled from a :class:`torch.Generator`, so building a
network never touches global state and the same seed gives the same weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["Critic", "Generator", "Swish"]


class Swish(nn.Module):
    """Swish activation ``x * sigmoid(beta * x)`` with a trainable ``beta``.

    Ramachandran, Zoph and Le, arXiv:1710.05941, eq. (1) with ``beta`` learned; one
    ``beta`` per layer, starting at 1 (where Swish equals SiLU).
    """

    def __init__(self):
        super().__init__()
        self.beta = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.beta * x)


def _activation(name: str) -> nn.Module:
    if name == "swish":
        return Swish()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    if name == "relu":
        return nn.ReLU()
    raise ValueError(
        f"activation must be 'swish', 'leaky_relu' or 'relu'; got {name!r}."
    )


def _linear(n_in: int, n_out: int, generator: torch.Generator) -> nn.Linear:
    # PyTorch's default scheme (uniform in +-1/sqrt(fan_in) for weight and bias),
    # drawn from `generator` instead of the global stream.
    layer = nn.utils.skip_init(nn.Linear, n_in, n_out)
    bound = 1.0 / math.sqrt(n_in)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)

    return layer


def _mlp(
    n_in: int,
    hidden: Sequence[int],
    n_out: int,
    activation: str,
    generator: torch.Generator,
) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [_linear(n_in, width, generator), _activation(activation)]
        n_in = width
    layers.append(_linear(n_in, n_out, generator))

    return nn.Sequential(*layers)


class Generator(nn.Module):
    """Map latent noise (and an optional condition) to events in network space.

    Parameters
    ----------
    latent_dim : int
    n_out : int
        Number of generated columns.
    hidden : sequence of int
        Widths of the hidden layers.
    activation : {"swish", "leaky_relu", "relu"}
    output : {"sigmoid", "linear"}
        Sigmoid for data scaled to ``[0, 1]`` (the seed paper), linear for
        Gaussianised data.
    n_condition : int
        Number of condition columns appended to the noise (0 or 1).
    generator : torch.Generator
        Source of the initial weights.
    """

    def __init__(
        self,
        latent_dim: int,
        n_out: int,
        hidden: Sequence[int],
        activation: str,
        output: str,
        n_condition: int,
        generator: torch.Generator,
    ):
        super().__init__()
        if output not in ("sigmoid", "linear"):
            raise ValueError(f"output must be 'sigmoid' or 'linear'; got {output!r}.")
        self.latent_dim = latent_dim
        self.net = _mlp(latent_dim + n_condition, hidden, n_out, activation, generator)
        self.output = nn.Sigmoid() if output == "sigmoid" else nn.Identity()

    def forward(self, z: torch.Tensor, condition: torch.Tensor | None = None):
        if condition is not None:
            z = torch.cat([z, condition], dim=1)
        return self.output(self.net(z))


class Critic(nn.Module):
    """Score events (with an optional condition); linear output, no batch norm.

    Batch normalisation would couple the events of a batch and break the
    per-event gradient penalty (Gulrajani et al., arXiv:1704.00028, section 4).
    """

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int],
        activation: str,
        n_condition: int,
        generator: torch.Generator,
    ):
        super().__init__()
        self.net = _mlp(n_in + n_condition, hidden, 1, activation, generator)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None):
        if condition is not None:
            x = torch.cat([x, condition], dim=1)
        return self.net(x).squeeze(1)
