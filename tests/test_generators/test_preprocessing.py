"""Invertible preprocessing: round trips, ranges, weights, saved state."""

import numpy as np
import pytest

from generators.preprocessing import (
    MinMaxScaler,
    QuantileTransformer,
    make_preprocessor,
    weighted_quantiles,
)


@pytest.fixture
def events():
    rng = np.random.default_rng(0)
    return np.column_stack(
        [rng.exponential(50.0, 5000) + 20.0, rng.uniform(0, np.pi, 5000)]
    )


@pytest.mark.parametrize("transform", [MinMaxScaler(), QuantileTransformer()])
def test_round_trip_is_exact_to_float_tolerance(events, transform):
    transform.fit(events)
    back = transform.inverse_transform(transform.transform(events))
    np.testing.assert_allclose(back, events, rtol=1e-9, atol=1e-9)


def test_minmax_maps_onto_unit_interval_and_clips_tails(events):
    scaler = MinMaxScaler(clip_quantiles=(0.01, 0.99)).fit(events)
    Z = scaler.transform(events)
    assert Z.min() == 0.0 and Z.max() == 1.0
    # 1 % of the events lie beyond each clip point (quantile interpolation aside).
    assert np.mean(Z[:, 0] == 1.0) == pytest.approx(0.01, abs=0.002)
    high = np.quantile(events[:, 0], 0.99)
    assert scaler.inverse_transform(Z)[:, 0].max() == pytest.approx(high)


def test_quantile_transform_gives_standard_normal_columns(events):
    Z = QuantileTransformer().fit(events).transform(events)
    # 5000 events: the standard error of the mean is 0.014, of the std 0.01.
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=0.06)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, atol=0.05)


def test_weight_two_acts_like_a_duplicated_event():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 1))
    w = rng.integers(1, 3, size=3000).astype(float)
    q = np.linspace(0.05, 0.95, 19)
    weighted = weighted_quantiles(x, q, w)
    duplicated = np.quantile(np.repeat(x, w.astype(int), axis=0), q, axis=0)
    # Interpolation conventions differ by at most one event spacing, < 0.005 here.
    np.testing.assert_allclose(weighted, duplicated, atol=0.005)


def test_negative_weights_still_give_increasing_knots(events):
    w = np.where(np.arange(len(events)) % 7 == 0, -0.5, 1.0)
    knots = QuantileTransformer().fit(events, w).knots_
    assert np.all(np.diff(knots, axis=0) > 0)


@pytest.mark.parametrize(
    "transform", [MinMaxScaler((0.001, 0.999)), QuantileTransformer(200)]
)
def test_state_round_trip_rebuilds_the_same_transform(events, transform):
    transform.fit(events)
    rebuilt = make_preprocessor(transform.get_config()).load_state_dict(
        transform.state_dict()
    )
    np.testing.assert_array_equal(
        rebuilt.transform(events), transform.transform(events)
    )


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: MinMaxScaler((0.5, 0.1)), "clip_quantiles"),
        (lambda: QuantileTransformer(n_quantiles=3), "n_quantiles"),
        (lambda: QuantileTransformer(tail=0.7), "tail"),
        (lambda: make_preprocessor({"kind": "zscore"}), "kind"),
    ],
)
def test_bad_settings_raise_naming_the_parameter(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()
