"""CWoLa classifiers: out-of-fold scoring, backends, seeding and thread limits."""

from typing import ClassVar

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_info

from lee.classifier import TorchMLPClassifier, make_classifier, out_of_fold_scores


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Remembers the event ids (column 0) it was trained on.

    Its score is 1 for an event it was trained on, otherwise the share of all events
    it was trained on, so a test can read both facts from the scores alone.
    """

    def __init__(self, n_total=0):
        self.n_total = n_total

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        self.seen_ = set(X[:, 0].astype(int).tolist())
        return self

    def predict_proba(self, X):
        seen = np.isin(X[:, 0].astype(int), list(self.seen_))
        p = np.where(seen, 1.0, len(self.seen_) / self.n_total)
        return np.column_stack([1 - p, p])


def separable(n=3000, shift=1.5, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    X = rng.normal(size=(n, 3))
    X[:, 0] += shift * y
    return X, y


def test_no_event_is_scored_by_a_model_that_saw_it():
    n, k = 1000, 5
    X = np.column_stack([np.arange(n), np.zeros(n)])
    y = np.arange(n) % 3 == 0

    scores = out_of_fold_scores(RecordingClassifier(n), X, y, n_folds=k, random_state=1)

    # Every score is the training share of a model that never saw the event.
    np.testing.assert_allclose(scores, (k - 1) / k, atol=2 / n)


class ThreadRecorder(RecordingClassifier):
    """Logs, at every fit, the thread limits of the loaded BLAS/OpenMP pools."""

    log: ClassVar[list] = []  # clones made inside the folds share it

    def fit(self, X, y):
        ThreadRecorder.log.append([i["num_threads"] for i in threadpool_info()])
        return super().fit(X, y)


def test_fits_run_single_threaded():
    X = np.column_stack([np.arange(200), np.zeros(200)])
    ThreadRecorder.log.clear()
    out_of_fold_scores(ThreadRecorder(200), X, np.arange(200) % 2, n_folds=4)

    assert len(ThreadRecorder.log) == 4
    assert all(n == 1 for fit in ThreadRecorder.log for n in fit)


def test_default_classifier_separates_a_separable_sample():
    X, y = separable()
    scores = out_of_fold_scores(make_classifier("hgb"), X, y, random_state=0)

    # Bayes AUC for a 1.5 sigma shift is Phi(1.5 / sqrt 2) = 0.856.
    assert roc_auc_score(y, scores) > 0.8


def test_shuffled_labels_give_chance_auc():
    X, y = separable()
    y = np.random.default_rng(5).permutation(y)
    scores = out_of_fold_scores(make_classifier("hgb"), X, y, random_state=0)

    # Null AUC sd: sqrt((n0 + n1 + 1) / (12 n0 n1)) = 0.011 here; 4 sd bounds give
    # a false-failure rate near 6e-5.
    n1, n0 = y.sum(), len(y) - y.sum()
    sd = np.sqrt((n0 + n1 + 1) / (12 * n0 * n1))
    assert abs(roc_auc_score(y, scores) - 0.5) < 4 * sd


def test_default_classifier_stops_early_without_separating_power():
    # Toys are background only, so this is the fit the toys pay for: with nothing
    # to learn, early stopping must end it after a few trees, not at max_iter=100.
    # 20 fixed seeds; chance improvements of the held-out loss can add a tree or
    # two (one seed takes 18), so the bounds leave room above the patience of 3.
    X, _ = separable(n=4000, shift=0.0, seed=3)
    rng = np.random.default_rng(8)
    n_iter = [
        make_classifier("hgb", {"random_state": k})
        .fit(X, (rng.random(len(X)) < 0.4).astype(int))
        .n_iter_
        for k in range(20)
    ]

    assert np.median(n_iter) <= 6
    assert max(n_iter) < 40


def test_scores_are_reproducible_for_a_fixed_random_state():
    X, y = separable(n=1500)
    a = out_of_fold_scores(make_classifier("hgb"), X, y, random_state=7)
    b = out_of_fold_scores(make_classifier("hgb"), X, y, random_state=7)
    c = out_of_fold_scores(make_classifier("hgb"), X, y, random_state=8)

    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_mlp_learns_and_leaves_global_rng_alone():
    X, y = separable(n=2000, shift=2.0)
    torch_state = torch.get_rng_state().clone()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the point)

    first = TorchMLPClassifier(max_epochs=15, random_state=3).fit(X, y)
    second = TorchMLPClassifier(max_epochs=15, random_state=3).fit(X, y)

    # Bayes AUC for a 2 sigma shift is 0.92.
    assert roc_auc_score(y, first.predict_proba(X)[:, 1]) > 0.85
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert torch.equal(torch_state, torch.get_rng_state())
    np.testing.assert_array_equal(numpy_state, np.random.get_state()[1])  # noqa: NPY002


def test_mlp_is_a_backend_name_and_works_out_of_fold():
    X, y = separable(n=1200, shift=2.0)
    model = make_classifier("mlp", {"hidden": (16,)})
    scores = out_of_fold_scores(model, X, y, n_folds=3, random_state=0)

    assert isinstance(model, TorchMLPClassifier)
    assert roc_auc_score(y, scores) > 0.8


def test_any_sklearn_classifier_can_be_passed():
    X, y = separable(n=1000)
    model = make_classifier(LogisticRegression(), {"C": 0.5})

    assert model.C == 0.5
    assert roc_auc_score(y, out_of_fold_scores(model, X, y, random_state=0)) > 0.8


def test_bad_classifiers_and_folds_are_rejected():
    X, y = separable(n=100)
    with pytest.raises(ValueError, match="classifier must be one of"):
        make_classifier("bdt")
    with pytest.raises(TypeError, match="estimator with fit and"):
        make_classifier(object())
    with pytest.raises(ValueError, match="n_folds must be >= 2"):
        out_of_fold_scores(make_classifier(), X, y, n_folds=1)
    with pytest.raises(ValueError, match="needs at least 5 events of each class"):
        out_of_fold_scores(make_classifier(), X[:6], np.r_[1, 1, 0, 0, 0, 0], n_folds=5)
