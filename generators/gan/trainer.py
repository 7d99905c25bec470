"""One training loop for every adversarial objective.

:class:`Trainer` owns the two networks, their optimisers, the weight average of the
generator and the random streams of training. It runs epochs (one pass of the critic
over the training events), and writes and restores its whole state as plain tensors
plus JSON, so an interrupted run resumes on the same trajectory.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import torch

from .networks import Critic, Generator

__all__ = ["Trainer"]

logger = logging.getLogger(__name__)


def _seeded(seed: int, device: torch.device) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator


def _flatten_optimizer(prefix: str, optimizer) -> tuple[dict, dict]:
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, entries in state["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{index}.{key}"] = value
            else:
                scalars[f"{index}.{key}"] = value

    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(prefix: str, tensors: dict, meta: dict) -> dict:
    state: dict[int, dict] = {}
    start = prefix + "."
    for name, value in tensors.items():
        if name.startswith(start):
            index, key = name[len(start) :].split(".", 1)
            state.setdefault(int(index), {})[key] = value
    for name, value in meta["scalars"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    groups = [
        dict(g, betas=tuple(g["betas"])) if "betas" in g else g
        for g in meta["param_groups"]
    ]

    return {"state": state, "param_groups": groups}


class Trainer:
    """Networks, optimisers and random streams of one adversarial training run.

    Parameters
    ----------
    config : dict
        Resolved hyper-parameters (see :mod:`generators.gan.presets`).
    objective : object
        One of :mod:`generators.gan.objectives`.
    n_out, n_condition : int
        Generated columns and condition columns (0 or 1).
    device : torch.device
    seeds : sequence of int
        Seeds of the initial weights, the batch order and the noise.
    """

    def __init__(self, config, objective, n_out, n_condition, device, seeds):
        self.config = config
        self.objective = objective
        self.device = device
        self.n_condition = n_condition

        init = _seeded(seeds[0], torch.device("cpu"))
        self.generator = Generator(
            config["latent_dim"],
            n_out,
            config["generator_layers"],
            config["generator_activation"],
            config["output"],
            n_condition,
            init,
        ).to(device)
        self.critic = Critic(
            n_out,
            config["critic_layers"],
            config["critic_activation"],
            n_condition,
            init,
        ).to(device)
        self.average = copy.deepcopy(self.generator).requires_grad_(False)

        self.opt_generator = self._optimizer(self.generator)
        self.opt_critic = self._optimizer(self.critic)
        self.batch_rng = _seeded(seeds[1], torch.device("cpu"))
        self.noise_rng = _seeded(seeds[2], device)
        self.n_generator_steps = 0

    def _optimizer(self, module):
        c = self.config
        if c["optimizer"] == "adam":
            return torch.optim.Adam(
                module.parameters(), lr=c["learning_rate"], betas=tuple(c["betas"])
            )
        return torch.optim.RMSprop(module.parameters(), lr=c["learning_rate"])

    def set_learning_rate(self, epoch: int) -> None:
        """Apply the learning-rate schedule for ``epoch`` (counted from 1)."""
        halflife = self.config.get("lr_halflife")
        if halflife is None:
            return
        lr = self.config["learning_rate"] * 0.5 ** ((epoch - 1) / halflife)
        for opt in (self.opt_generator, self.opt_critic):
            for group in opt.param_groups:
                group["lr"] = lr

    # -- one epoch --

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(
            (n, self.config["latent_dim"]), generator=self.noise_rng, device=self.device
        )

    def _average_generator(self) -> None:
        # Exponential moving average of the generator weights (Yazici et al.,
        # arXiv:1806.04498), with a warm-up so early steps are not frozen in.
        decay = self.config["ema_decay"]
        decay = min(
            decay, (1.0 + self.n_generator_steps) / (10.0 + self.n_generator_steps)
        )
        with torch.no_grad():
            for avg, live in zip(
                self.average.parameters(), self.generator.parameters(), strict=False
            ):
                avg.lerp_(live, 1.0 - decay)

    def epoch(self, Z, condition, weights) -> dict:
        """One pass of the critic over ``Z``; returns the mean losses."""
        n = len(Z)
        batch = min(self.config["batch_size"], n)
        order = torch.randperm(n, generator=self.batch_rng).to(self.device)
        n_critic = self.config["n_critic"]
        critic_losses, generator_losses = [], []

        for step in range(n // batch):
            index = order[step * batch : (step + 1) * batch]
            real, w = Z[index], weights[index]
            c = None if condition is None else condition[index]

            with torch.no_grad():
                fake = self.generator(self._noise(batch), c)
            loss = self.objective.critic_loss(
                self.critic, real, fake, w, c, self.noise_rng
            )
            self.opt_critic.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_critic.step()
            self.objective.after_critic_step(self.critic)
            critic_losses.append(loss.item())

            if (step + 1) % n_critic:
                continue
            self.critic.requires_grad_(False)
            loss = self.objective.generator_loss(
                self.critic, self.generator(self._noise(batch), c), c
            )
            self.opt_generator.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_generator.step()
            self.critic.requires_grad_(True)
            generator_losses.append(loss.item())

            self.n_generator_steps += 1
            if self.config["ema_decay"] > 0:
                self._average_generator()
            else:
                self.average.load_state_dict(self.generator.state_dict())

        return {
            "critic_loss": float(np.mean(critic_losses)) if critic_losses else np.nan,
            "generator_loss": (
                float(np.mean(generator_losses)) if generator_losses else np.nan
            ),
        }

    # -- state --

    def state(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """Everything needed to continue training: (JSON-ready dict, tensors)."""
        tensors = {}
        for name, module in (
            ("live", self.generator),
            ("critic", self.critic),
            ("average", self.average),
        ):
            tensors |= {f"{name}.{k}": v for k, v in module.state_dict().items()}
        meta = {"n_generator_steps": self.n_generator_steps}
        for name, opt in (
            ("opt_generator", self.opt_generator),
            ("opt_critic", self.opt_critic),
        ):
            t, m = _flatten_optimizer(name, opt)
            tensors |= t
            meta[name] = m
        tensors["rng.batch"] = self.batch_rng.get_state()
        tensors["rng.noise"] = self.noise_rng.get_state()

        return meta, tensors

    def load_state(self, meta: dict, tensors: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`state` wrote."""
        for name, module in (
            ("live", self.generator),
            ("critic", self.critic),
            ("average", self.average),
        ):
            prefix = name + "."
            module.load_state_dict(
                {
                    k[len(prefix) :]: v
                    for k, v in tensors.items()
                    if k.startswith(prefix)
                }
            )
        for name, opt in (
            ("opt_generator", self.opt_generator),
            ("opt_critic", self.opt_critic),
        ):
            opt.load_state_dict(_unflatten_optimizer(name, tensors, meta[name]))
        self.batch_rng.set_state(tensors["rng.batch"])
        self.noise_rng.set_state(tensors["rng.noise"])
        self.n_generator_steps = int(meta["n_generator_steps"])
