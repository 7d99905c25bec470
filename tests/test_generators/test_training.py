"""Training a user can trust: checkpoints, resume, best-epoch selection, budgets."""

import numpy as np
import pytest
from toy_data import TINY, gaussian_mixture

import generators
from generators import WGANGP

FEATURES = ("a", "b")


@pytest.fixture(scope="module")
def X():
    return gaussian_mixture(3000, seed=1)


def model(**kwargs):
    return WGANGP(FEATURES, random_state=0, **{**TINY, **kwargs})


def test_resume_continues_the_same_trajectory(X, tmp_path):
    straight = model(max_epochs=4, checkpoint_dir=tmp_path / "a").fit(X)

    model(max_epochs=2, checkpoint_dir=tmp_path / "b", checkpoint_interval=1).fit(X)
    resumed = model(max_epochs=4, checkpoint_dir=tmp_path / "b", resume=True).fit(X)

    assert [h["epoch"] for h in resumed.history_] == [1, 2, 3, 4]
    np.testing.assert_allclose(
        [h["critic_loss"] for h in resumed.history_],
        [h["critic_loss"] for h in straight.history_],
        rtol=1e-6,
    )
    np.testing.assert_array_equal(
        resumed.sample(300, random_state=1), straight.sample(300, random_state=1)
    )


def test_best_epoch_is_the_lowest_held_out_score(X, tmp_path):
    gen = model(max_epochs=5, checkpoint_dir=tmp_path).fit(X)
    scores = [h["score"] for h in gen.history_]
    assert gen.best_epoch_ == 1 + int(np.argmin(scores))
    assert gen.best_score_ == min(scores)
    # best.pt holds the same generator as the one the model samples from.
    best = generators.load(tmp_path / "best.pt")
    np.testing.assert_array_equal(
        best.sample(200, random_state=3), gen.sample(200, random_state=3)
    )


def test_c2st_selection_measures_auc_on_held_out_events(X):
    gen = model(max_epochs=2, selection_metric="c2st", n_eval=600).fit(X)
    assert all(0.0 <= h["score"] <= 1.0 for h in gen.history_)


def test_c2st_corr_selection_adds_the_largest_correlation_difference(X):
    gen = model(max_epochs=2, selection_metric="c2st+corr", n_eval=600).fit(X)
    for h in gen.history_:
        assert 0.0 <= h["c2st_auc"] <= 1.0 and 0.0 <= h["max_corr_diff"] <= 2.0
        assert h["score"] == pytest.approx(h["c2st_auc"] - 0.5 + h["max_corr_diff"])
    # An untrained-for-long generator misses the mixture's correlation of 0.6.
    assert max(h["max_corr_diff"] for h in gen.history_) > 0.01


def test_c2st_selection_refuses_negative_weights(X):
    w = np.ones(len(X))
    w[0] = -1.0
    with pytest.raises(ValueError, match=r"selection_metric='c2st\+corr'.*'ks'"):
        model(max_epochs=1, selection_metric="c2st+corr").fit(X, weights=w)


def test_time_budget_stops_after_the_current_epoch(X, tmp_path):
    gen = model(max_epochs=50, max_time=0.0, checkpoint_dir=tmp_path).fit(X)
    assert gen.n_epochs_ == 1 and (tmp_path / "last.pt").exists()


def test_resume_refuses_other_data_or_settings(X, tmp_path):
    model(max_epochs=1, checkpoint_dir=tmp_path).fit(X)
    with pytest.raises(ValueError, match="other events"):
        model(max_epochs=2, checkpoint_dir=tmp_path, resume=True).fit(X[:-1])
    with pytest.raises(ValueError, match="other hyper-parameters"):
        model(
            max_epochs=2, checkpoint_dir=tmp_path, resume=True, learning_rate=1e-2
        ).fit(X)


def test_last_checkpoint_is_itself_a_loadable_sampler(X, tmp_path):
    model(max_epochs=1, checkpoint_dir=tmp_path).fit(X)
    assert generators.load(tmp_path / "last.pt").sample(5).shape == (5, 2)


def test_progress_bar_runs(X, capsys):
    model(max_epochs=1, progress=True).fit(X)
    assert "WGANGP" in capsys.readouterr().err
