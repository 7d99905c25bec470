"""The three adversarial objectives behind GAN, WGAN and WGAN-GP.

Each objective gives the critic's loss on a batch of real and generated events and
the generator's loss on generated events; WGAN also constrains the critic after each
of its updates. Real events carry per-event weights normalised to mean one over the
training set, so every real-data expectation is a weighted mean: an unbiased
estimate of the weighted MC expectation, negative weights included.
"""

from __future__ import annotations

import torch
from torch.nn import functional

__all__ = ["BinaryCrossEntropy", "Wasserstein", "WassersteinGP", "gradient_penalty"]


def gradient_penalty(
    critic,
    real: torch.Tensor,
    fake: torch.Tensor,
    t: torch.Tensor,
    condition: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean of ``(||grad_x D(x_hat)||_2 - 1)^2`` on ``x_hat = t fake + (1 - t) real``.

    Gulrajani et al., arXiv:1704.00028, eq. (3) without the factor lambda. ``t`` has
    shape ``(n, 1)``, uniform in ``[0, 1]``; the condition columns are not
    interpolated.
    """
    x_hat = (t * fake + (1.0 - t) * real).detach().requires_grad_(True)
    score = critic(x_hat, condition)
    (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=True)

    return ((grad.norm(2, dim=1) - 1.0) ** 2).mean()


class BinaryCrossEntropy:
    """Vanilla GAN, Goodfellow et al., arXiv:1406.2661, eq. (1).

    The critic outputs a logit. The generator minimises ``-log D(G(z))`` (the
    non-saturating form of section 3 of that paper) rather than
    ``log(1 - D(G(z)))``, whose gradient vanishes early in training.
    """

    name = "bce"

    def critic_loss(self, critic, real, fake, weights, condition, generator):
        real_term = weights * functional.softplus(-critic(real, condition))
        fake_term = functional.softplus(critic(fake, condition))
        return real_term.mean() + fake_term.mean()

    def generator_loss(self, critic, fake, condition):
        return functional.softplus(-critic(fake, condition)).mean()

    def after_critic_step(self, critic):
        pass


class Wasserstein:
    """WGAN with weight clipping, Arjovsky, Chintala and Bottou, arXiv:1701.07875.

    The critic maximises ``E_real[D] - E_fake[D]`` (eq. 3 of that paper); after each
    update every critic parameter is clipped to ``[-clip_value, clip_value]``
    (Algorithm 1, line 7), which keeps the critic K-Lipschitz.
    """

    name = "wasserstein"

    def __init__(self, clip_value: float):
        self.clip_value = clip_value

    def critic_loss(self, critic, real, fake, weights, condition, generator):
        return (
            critic(fake, condition).mean() - (weights * critic(real, condition)).mean()
        )

    def generator_loss(self, critic, fake, condition):
        return -critic(fake, condition).mean()

    def after_critic_step(self, critic):
        with torch.no_grad():
            for p in critic.parameters():
                p.clamp_(-self.clip_value, self.clip_value)


class WassersteinGP(Wasserstein):
    """WGAN-GP, Gulrajani et al., arXiv:1704.00028, Algorithm 1.

    The Wasserstein critic loss plus ``gp_lambda`` times :func:`gradient_penalty`
    (eq. 3); the penalty is not weighted, it is a constraint on the critic, not an
    expectation under the data.
    """

    name = "wasserstein-gp"

    def __init__(self, gp_lambda: float):
        self.gp_lambda = gp_lambda

    def critic_loss(self, critic, real, fake, weights, condition, generator):
        t = torch.rand(
            (len(real), 1), generator=generator, device=real.device, dtype=real.dtype
        )
        penalty = gradient_penalty(critic, real, fake, t, condition)
        wasserstein = super().critic_loss(
            critic, real, fake, weights, condition, generator
        )
        return wasserstein + self.gp_lambda * penalty

    def after_critic_step(self, critic):
        pass
