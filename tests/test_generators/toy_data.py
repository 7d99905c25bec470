"""Small data the GAN tests can train on fast, and the settings they share."""

import numpy as np


def gaussian_mixture(n: int, seed: int) -> np.ndarray:
    """2-D mixture of two correlated Gaussians (60/40), the toy target of the GANs."""
    rng = np.random.default_rng(seed)
    first = rng.random(n) < 0.6
    a = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.8], [0.8, 1.0]], size=n)
    b = rng.multivariate_normal([3.0, 1.0], [[0.5, -0.2], [-0.2, 0.5]], size=n)
    return np.where(first[:, None], a, b)


#: Small, fast settings shared by the GAN tests.
TINY = {
    "generator_layers": (64, 64),
    "critic_layers": (64, 64),
    "latent_dim": 8,
    "batch_size": 256,
    "n_threads": 1,
    "progress": False,
    "selection_metric": "ks",
    "n_eval": 2000,
}
