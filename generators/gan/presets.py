"""Named hyper-parameter sets for the GAN family.

``"paper"``
    The seed paper's WGAN-GP (its section 4.3): latent size 128; a generator of six
    dense hidden layers of growing width with trainable Swish activations and a
    Sigmoid output; a critic of dense layers with LeakyReLU and a linear output, no
    batch normalisation; Adam with learning rate 2e-4 and ``beta1 = 0.5``; batches
    of 1024; one critic update per generator update; gradient penalty 10; every
    column min-max scaled to ``[0, 1]`` after clipping its tails. The paper gives
    neither the layer widths nor the clip points: the widths used here double from
    32 to 1024 (and halve from 512 to 16 in the critic), and tails are clipped at
    the 0.1 % and 99.9 % quantiles. Its "10 % of the tails" would pile a tenth of
    the events on the clip points, which no fidelity metric could pass.
``"default"``
    What trained best on two CPU cores within an hour (see docs/generators.md and
    benchmarks/results/generators.json): three hidden layers of 256 in both networks,
    LeakyReLU, latent size 32, columns Gaussianised through their empirical
    quantiles (:class:`~generators.preprocessing.QuantileTransformer`) and a linear
    generator output; Adam 2e-4 with ``betas = (0.5, 0.9)``; batches of 512; two
    critic updates per generator update; an exponential moving average of the
    generator weights (decay 0.999) is what is sampled and saved. The learning
    rate is constant (``lr_halflife=None``) in both presets.

The shipped checkpoint ``ttbar_dilepton_wgangp`` is the default preset with these
overrides: the dilepton coordinates in ``preprocessing``, a gradient-penalty weight
of 1, a weight average with decay 0.9998 and the ``"c2st+corr"`` selection metric
(each measured to help, see docs/generators.md), and ``lr_halflife=50`` (not
measured on its own); the exact settings are in
``examples/train_reference_wgangp.py``.

A preset gives every hyper-parameter left at ``None`` in the constructor; an explicit
argument always wins. Variant-specific values (the clip value of WGAN, RMSProp for
it as in arXiv:1701.07875) are filled in by each class.
"""

from __future__ import annotations

__all__ = ["PRESETS"]

PRESETS: dict[str, dict] = {
    "paper": {
        "latent_dim": 128,
        "generator_layers": (32, 64, 128, 256, 512, 1024),
        "critic_layers": (512, 256, 128, 64, 32, 16),
        "generator_activation": "swish",
        "critic_activation": "leaky_relu",
        "output": "sigmoid",
        "preprocessing": {"kind": "minmax", "clip_quantiles": [0.001, 0.999]},
        "optimizer": "adam",
        "learning_rate": 2e-4,
        "betas": (0.5, 0.999),
        "batch_size": 1024,
        "n_critic": 1,
        "ema_decay": 0.0,
        "lr_halflife": None,
    },
    "default": {
        "latent_dim": 32,
        "generator_layers": (256, 256, 256),
        "critic_layers": (256, 256, 256),
        "generator_activation": "leaky_relu",
        "critic_activation": "leaky_relu",
        "output": "linear",
        "preprocessing": {"kind": "quantile", "n_quantiles": 1000, "tail": 1e-4},
        "optimizer": "adam",
        "learning_rate": 2e-4,
        "betas": (0.5, 0.9),
        "batch_size": 512,
        "n_critic": 2,
        "ema_decay": 0.999,
        "lr_halflife": None,
    },
}
