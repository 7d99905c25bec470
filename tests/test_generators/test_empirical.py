"""EmpiricalSampler: the bootstrap baseline."""

import numpy as np
import pytest

from generators import EmpiricalSampler, Sampler

FEATURES = ("a", "b", "c")


@pytest.fixture
def events():
    return np.random.default_rng(0).normal(size=(500, 3)) + np.array([0.0, 10.0, 100.0])


def test_is_a_sampler_and_fit_returns_self(events):
    sampler = EmpiricalSampler(FEATURES)
    assert isinstance(sampler, Sampler)
    assert sampler.fit(events) is sampler


def test_samples_are_rows_of_the_fitted_events_in_column_order(events):
    x = EmpiricalSampler(FEATURES).fit(events).sample(100, random_state=0)
    assert x.shape == (100, 3) and x.dtype == np.float32
    rows = {tuple(r) for r in events.astype(np.float32)}
    assert all(tuple(r) in rows for r in x)


def test_fixed_random_state_reproduces_and_seeds_differ(events):
    sampler = EmpiricalSampler(FEATURES).fit(events)
    np.testing.assert_array_equal(
        sampler.sample(50, random_state=3), sampler.sample(50, random_state=3)
    )
    assert not np.array_equal(
        sampler.sample(50, random_state=3), sampler.sample(50, random_state=4)
    )


def test_weights_set_draw_probabilities():
    X = np.array([[0.0], [1.0]])
    x = (
        EmpiricalSampler(("a",))
        .fit(X, weights=[1.0, 3.0])
        .sample(20_000, random_state=0)
    )
    # Binomial fraction 0.75 with sd 0.0031; 5 sd tolerance.
    assert x.mean() == pytest.approx(0.75, abs=0.016)


def test_negative_weights_raise_unless_clipped(events):
    w = np.ones(len(events))
    w[:10] = -1.0
    with pytest.raises(ValueError, match="negative"):
        EmpiricalSampler(FEATURES).fit(events, w)
    sampler = EmpiricalSampler(FEATURES, negative_weights="clip").fit(events, w)
    assert sampler.probabilities_[:10].sum() == 0.0


def test_nan_error_names_column_and_count(events):
    events = events.copy()
    events[[1, 2], 1] = np.nan
    with pytest.raises(ValueError, match=r"'b': 2"):
        EmpiricalSampler(FEATURES).fit(events)


def test_wrong_column_count_raises(events):
    with pytest.raises(ValueError, match="shape"):
        EmpiricalSampler(("a", "b")).fit(events)


def test_sampling_before_fit_and_bad_n_raise(events):
    with pytest.raises(ValueError, match="not fitted"):
        EmpiricalSampler(FEATURES).sample(3)
    sampler = EmpiricalSampler(FEATURES).fit(events)
    for n in (0, -1):
        with pytest.raises(ValueError, match="n must"):
            sampler.sample(n)
    with pytest.raises(ValueError, match="conditions"):
        sampler.sample(3, conditions=np.zeros(3))
