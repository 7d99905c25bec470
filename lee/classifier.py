"""Classifiers for weakly supervised (CWoLa) signal-region versus sideband training.

Classification without labels (Metodiev, Nachman and Thaler, arXiv:1708.02949)
trains a classifier between two mixed samples, here the events of a signal region
(label 1) and of its sidebands (label 0). If the features carry no information on
the scan variable, the optimal classifier for SR versus SB is a monotone function of
the signal-to-background likelihood ratio, so cutting on its score enriches any
localised signal (Collins, Howe and Nachman, arXiv:1805.02664 and 1902.02634).

Every event must be scored by a model that never saw it, otherwise the classifier's
memory of statistical fluctuations in the SR turns into a fake bump: the
:func:`out_of_fold_scores` here trains ``n_folds`` models with stratified k-fold
cross validation and scores each fold with the model that left it out.

Backends, by name (:func:`make_classifier`):

``"hgb"``
    scikit-learn's :class:`~sklearn.ensemble.HistGradientBoostingClassifier` with
    small trees and early stopping: fast, robust, no feature scaling needed.
``"mlp"``
    :class:`TorchMLPClassifier`, a small fully connected network in torch with an
    sklearn interface.

Any scikit-learn-compatible classifier (``fit``, ``predict_proba`` or
``decision_function``, cloneable) can be passed instead.
"""

from __future__ import annotations

import inspect
import logging
from contextlib import nullcontext

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from generators.base import check_random_state

__all__ = [
    "CLASSIFIERS",
    "HGB_DEFAULTS",
    "TorchMLPClassifier",
    "make_classifier",
    "out_of_fold_scores",
]

logger = logging.getLogger(__name__)

CLASSIFIERS = ("hgb", "mlp")

#: Settings of the default gradient-boosted classifier. Small trees (7 leaves), few
#: iterations and early stopping on a held-out fifth after 3 iterations without
#: improvement keep one fit near 10 ms for a few thousand events, which the toys
#: need, and stop the model from chasing noise when SR and SB are
#: indistinguishable (the background-only case, where fits stop after 3-4
#: iterations). Against 15 leaves and a patience of 5, a fit of 4,800 events took
#: about a fifth less CPU time, with and without a separable signal,
#: at the same held-out AUC (0.60 on a signal making up 15% of the SR).
HGB_DEFAULTS = {
    "max_iter": 100,
    "learning_rate": 0.1,
    "max_leaf_nodes": 7,
    "min_samples_leaf": 40,
    "max_bins": 63,
    "early_stopping": True,
    "validation_fraction": 0.2,
    "n_iter_no_change": 3,
}


def make_classifier(classifier="hgb", params: dict | None = None):
    """A fresh, unfitted classifier for a backend name or a template estimator.

    Parameters
    ----------
    classifier : {"hgb", "mlp"} or estimator
        A backend name, or any scikit-learn-compatible classifier (it is cloned).
    params : dict, optional
        Settings that override the backend's defaults (or, for an estimator, are
        passed to its ``set_params``).
    """
    params = dict(params or {})
    if isinstance(classifier, str):
        if classifier == "hgb":
            return HistGradientBoostingClassifier(**{**HGB_DEFAULTS, **params})
        if classifier == "mlp":
            return TorchMLPClassifier(**params)
        raise ValueError(
            f"classifier must be one of {CLASSIFIERS} or a scikit-learn classifier; "
            f"got {classifier!r}."
        )
    if not hasattr(classifier, "fit") or not (
        hasattr(classifier, "predict_proba") or hasattr(classifier, "decision_function")
    ):
        raise TypeError(
            "classifier must be 'hgb', 'mlp' or an estimator with fit and "
            f"predict_proba (or decision_function); got {type(classifier).__name__}."
        )
    estimator = clone(classifier)

    return estimator.set_params(**params) if params else estimator


def out_of_fold_scores(
    estimator,
    X,
    y,
    *,
    n_folds: int = 5,
    balance: bool = False,
    n_threads: int | None = 1,
    random_state=None,
) -> np.ndarray:
    """Score every event with a model trained on the other ``n_folds - 1`` folds.

    Parameters
    ----------
    estimator : estimator
        Template classifier, cloned for every fold; a ``random_state`` parameter,
        if it has one, is set from ``random_state`` so that folds are reproducible.
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
        1 for SR, 0 for SB.
    n_folds : int
        Number of stratified folds, >= 2.
    balance : bool
        Weight the classes to equal total weight, so that the SR/SB size ratio of
        a window does not set the classifier's working point (when the estimator's
        ``fit`` takes ``sample_weight``).
    n_threads : int or None
        BLAS and OpenMP threads during the fits (threadpoolctl); ``None`` leaves
        the limits as the caller set them, which saves the cost of setting them
        once per call inside a loop that sets them itself.
    random_state : int, SeedSequence or Generator, optional

    Returns
    -------
    ndarray of shape (n,)
        The out-of-fold score of every event (higher = more SR-like).

    Notes
    -----
    By default fits run with BLAS and OpenMP limited to one thread, so that
    parallel toys do not oversubscribe the cores.
    """
    y = np.asarray(y)
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)):
        raise TypeError(f"n_folds must be an int; got {n_folds!r}.")
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2 for out-of-fold scores; got {n_folds}.")
    n_min = int(min((y == 0).sum(), (y == 1).sum()))
    if n_min < n_folds:
        raise ValueError(
            f"out-of-fold scoring with n_folds={n_folds} needs at least {n_folds} "
            f"events of each class; the smaller class has {n_min}."
        )
    rng = check_random_state(random_state)
    split_seed, *fit_seeds = (int(s) for s in rng.integers(0, 2**31 - 1, n_folds + 1))
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=split_seed)

    weight = None
    if balance and _takes_sample_weight(estimator):
        n1 = max(int(y.sum()), 1)
        n0 = max(len(y) - n1, 1)
        weight = np.where(y == 1, 0.5 * len(y) / n1, 0.5 * len(y) / n0)

    scores = np.empty(len(y))
    limits = threadpool_limits(limits=n_threads) if n_threads else nullcontext()
    with limits:
        for (train, test), seed in zip(folds.split(X, y), fit_seeds, strict=True):
            model = clone(estimator)
            if "random_state" in model.get_params():
                model.set_params(random_state=seed)
            if weight is None:
                model.fit(X[train], y[train])
            else:
                model.fit(X[train], y[train], sample_weight=weight[train])
            scores[test] = _score(model, X[test])

    return scores


def _takes_sample_weight(estimator) -> bool:
    try:
        return "sample_weight" in inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False


def _score(model, X) -> np.ndarray:
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        column = list(model.classes_).index(1)
        return np.asarray(proba[:, column], dtype=float)

    return np.asarray(model.decision_function(X), dtype=float)


class TorchMLPClassifier(ClassifierMixin, BaseEstimator):
    """A small fully connected binary classifier in torch, with an sklearn interface.

    Inputs are standardised with the training mean and standard deviation; the
    network is ``hidden`` ReLU layers and one logit, trained with Adam on the
    (weighted) binary cross entropy. Training stops when the loss on a held-out
    ``validation_fraction`` has not improved for ``patience`` epochs, and the best
    weights are kept.

    Parameters
    ----------
    hidden : tuple of int
        Widths of the hidden layers.
    max_epochs : int
    batch_size : int
    learning_rate : float
    weight_decay : float
        Adam's L2 penalty.
    validation_fraction : float
        Share of the training events held out for early stopping; 0 disables it.
    patience : int
    n_threads : int
        Torch intra-op threads during ``fit`` and ``predict_proba`` (restored after).
    random_state : int, SeedSequence or Generator, optional
        Seeds the initial weights, the validation split and the batch order through
        private generators; torch's global RNG is never used.
    """

    def __init__(
        self,
        hidden=(32, 32),
        max_epochs: int = 40,
        batch_size: int = 256,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        validation_fraction: float = 0.2,
        patience: int = 5,
        n_threads: int = 1,
        random_state=None,
    ):
        self.hidden = hidden
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.n_threads = n_threads
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None) -> TorchMLPClassifier:
        import torch

        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError(
                f"TorchMLPClassifier is binary; y has classes {self.classes_.tolist()}."
            )
        target = (y == self.classes_[1]).astype(np.float32)
        weight = (
            np.ones(len(y), np.float32)
            if sample_weight is None
            else np.asarray(sample_weight, np.float32)
        )
        rng = check_random_state(self.random_state)
        gen = torch.Generator().manual_seed(int(rng.integers(0, 2**62)))

        # Standardise, then hold out a validation share for early stopping.
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0) + 1e-8
        Z = (X - self.mean_) / self.scale_
        order = rng.permutation(len(Z))
        n_val = round(self.validation_fraction * len(Z))
        val, train = order[:n_val], order[n_val:]

        threads = torch.get_num_threads()
        torch.set_num_threads(self.n_threads)
        try:
            self.model_ = _build_mlp(Z.shape[1], self.hidden, gen)
            self.n_epochs_ = self._train(Z, target, weight, train, val, gen)
        finally:
            torch.set_num_threads(threads)

        return self

    def _train(self, Z, target, weight, train, val, gen) -> int:
        import torch

        tensors = [
            torch.from_numpy(np.ascontiguousarray(a)) for a in (Z, target, weight)
        ]
        x, t, w = tensors
        loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
        opt = torch.optim.Adam(
            self.model_.parameters(),
            lr=self.learning_rate,
            weight_decay=self.weight_decay,
        )
        train = torch.from_numpy(train)
        val = torch.from_numpy(val)

        def loss_on(idx):
            out = self.model_(x[idx]).squeeze(1)
            return (loss_fn(out, t[idx]) * w[idx]).sum() / w[idx].sum()

        best, best_state, stale, n_epochs = np.inf, None, 0, 0
        for epoch in range(1, self.max_epochs + 1):
            n_epochs = epoch
            perm = train[torch.randperm(len(train), generator=gen)]
            self.model_.train()
            for start in range(0, len(perm), self.batch_size):
                opt.zero_grad()
                loss_on(perm[start : start + self.batch_size]).backward()
                opt.step()
            if len(val) == 0:
                continue

            self.model_.eval()
            with torch.no_grad():
                current = float(loss_on(val))
            if current < best - 1e-5:
                best, stale = current, 0
                best_state = {k: v.clone() for k, v in self.model_.state_dict().items()}
            else:
                stale += 1
                if stale >= self.patience:
                    break

        if best_state is not None:
            self.model_.load_state_dict(best_state)
        self.model_.eval()

        return n_epochs

    def predict_proba(self, X) -> np.ndarray:
        import torch

        Z = (np.asarray(X, dtype=np.float32) - self.mean_) / self.scale_
        threads = torch.get_num_threads()
        torch.set_num_threads(self.n_threads)
        try:
            with torch.no_grad():
                logit = self.model_(torch.from_numpy(np.ascontiguousarray(Z)))
            p = torch.sigmoid(logit).squeeze(1).numpy().astype(float)
        finally:
            torch.set_num_threads(threads)

        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]


def _build_mlp(n_in: int, hidden, gen):
    """ReLU network with He-uniform weights drawn from a private generator."""
    import torch

    layers, width = [], n_in
    for h in (*hidden, 1):
        # Built on the meta device so that torch's default initialisation, which
        # draws from the global RNG, never runs; the weights are drawn from `gen`.
        layer = torch.nn.Linear(width, h, device="meta").to_empty(device="cpu")
        with torch.no_grad():
            torch.nn.init.kaiming_uniform_(
                layer.weight, nonlinearity="relu", generator=gen
            )
            layer.bias.zero_()
        layers += [layer, torch.nn.ReLU()]
        width = h

    return torch.nn.Sequential(*layers[:-1])
