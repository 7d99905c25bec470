"""Signal injection by count and by cross-section x luminosity."""

import numpy as np
import pytest

from generators.data import EventSample
from lee.injection import expected_signal_events, inject_signal


def sample(value, n, efficiency=None):
    metadata = (
        {}
        if efficiency is None
        else {"n_selected": efficiency * 1e6, "n_generated": 1e6}
    )
    return EventSample(
        X=np.full((n, 2), value, np.float32),
        features=("x", "m"),
        units=("", "GeV"),
        metadata=metadata,
    )


def test_injects_the_requested_number_of_distinct_signal_events():
    signal = np.column_stack([np.arange(50.0), np.ones(50)])
    X, is_signal = inject_signal(
        np.zeros((200, 2)), signal, 20, return_labels=True, random_state=0
    )

    assert X.shape == (220, 2)
    assert is_signal.sum() == 20
    assert len(np.unique(X[is_signal, 0])) == 20  # drawn without replacement
    assert np.all(X[~is_signal] == 0)


def test_signal_is_shuffled_in_and_inputs_are_untouched():
    bkg = np.zeros((1000, 2))
    sig = np.ones((100, 2))
    _, is_signal = inject_signal(bkg, sig, 100, return_labels=True, random_state=1)

    # 100 signal events in 1100 slots: the first 1000 slots hold ~91 of them.
    assert 60 < is_signal[:1000].sum() < 100
    assert np.all(bkg == 0) and np.all(sig == 1)


def test_cross_section_uses_the_sample_efficiency():
    signal = sample(1.0, 5000, efficiency=0.06)
    # 10 fb x 139 fb^-1 x 0.06 = 83.4 events.
    assert expected_signal_events(10.0, 139.0, signal) == pytest.approx(83.4)

    _, is_signal = inject_signal(
        sample(0.0, 1000),
        signal,
        cross_section=10.0,
        luminosity=139.0,
        poisson=False,
        return_labels=True,
        random_state=0,
    )
    assert is_signal.sum() == 83


def test_poisson_counts_fluctuate_around_the_expectation():
    signal = sample(1.0, 5000, efficiency=0.06)
    counts = [
        inject_signal(
            np.zeros((10, 2)),
            signal,
            cross_section=10.0,
            luminosity=139.0,
            random_state=s,
        ).shape[0]
        - 10
        for s in range(400)
    ]

    # Mean 83.4, sd 9.1: the mean of 400 has an error of 0.46; 4 errors allowed.
    assert np.mean(counts) == pytest.approx(83.4, abs=1.9)
    assert np.std(counts) == pytest.approx(np.sqrt(83.4), rel=0.15)


def test_same_random_state_same_dataset():
    sig = np.random.default_rng(0).normal(size=(300, 3))
    a = inject_signal(np.zeros((50, 3)), sig, 30, random_state=4)
    b = inject_signal(np.zeros((50, 3)), sig, 30, random_state=4)

    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, "give exactly one of n_signal or cross_section"),
        ({"n_signal": 11}, ValueError, "the signal pool holds 10 events"),
        ({"n_signal": 2.5}, TypeError, "n_signal must be an int"),
        ({"cross_section": 1.0}, ValueError, "needs luminosity"),
        (
            {"cross_section": 1.0, "luminosity": 1.0},
            ValueError,
            "lacks n_selected and n_generated",
        ),
    ],
)
def test_bad_requests_say_what_to_do(kwargs, error, message):
    with pytest.raises(error, match=message):
        inject_signal(sample(0.0, 5), sample(1.0, 10), **kwargs)


def test_columns_must_match():
    other = EventSample(np.ones((10, 2), np.float32), ("y", "m"), ("", "GeV"), {})
    with pytest.raises(ValueError, match="different column names"):
        inject_signal(sample(0.0, 5), other, 2)
