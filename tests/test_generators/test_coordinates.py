"""Kinematic coordinates: exact round trip, physical images, use inside a GAN."""

import numpy as np
import pytest
import torch
from toy_data import TINY

from generators import FEATURES, WGANGP, ConditionalWGANGP
from generators.coordinates import DileptonCoordinates
from generators.gan.objectives import WassersteinGP
from generators.gan.presets import PRESETS
from generators.gan.trainer import Trainer
from generators.kinematics import dilepton_features
from generators.preprocessing import CoordinateTransform, make_preprocessor


def massless(pt, eta, phi):
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return np.column_stack([px, py, pz, np.sqrt(px**2 + py**2 + pz**2)])


def dilepton_events(n, seed, features=FEATURES):
    """Events built from massless four-vectors, with the columns in ``features``."""
    rng = np.random.default_rng(seed)
    pts = np.sort(rng.exponential(40.0, size=(n, 2)) + 20.0, axis=1)[:, ::-1]
    leptons = [
        massless(pts[:, k], rng.uniform(-2.5, 2.5, n), rng.uniform(-np.pi, np.pi, n))
        for k in range(2)
    ]
    met_xy = rng.normal(0.0, 50.0, size=(n, 2))
    columns = dilepton_features(*leptons, met_xy) | {"m_bb": rng.uniform(20, 400, n)}
    return np.column_stack([columns[f] for f in features])


def identities_hold(X, features=FEATURES, rtol=1e-9):
    c = {f: X[:, i] for i, f in enumerate(features)}
    pt_ll = np.sqrt(
        c["pt_l0"] ** 2
        + c["pt_l1"] ** 2
        + 2 * c["pt_l0"] * c["pt_l1"] * np.cos(c["dphi_ll"])
    )
    return (
        np.allclose(pt_ll, c["pt_ll"], rtol=rtol, atol=1e-9)
        and np.all(c["dr_ll"] >= c["dphi_ll"] - 1e-12)
        and np.all(c["pt_l1"] <= c["pt_l0"])
        and np.all((c["dphi_ll"] >= 0) & (c["dphi_ll"] <= np.pi))
    )


def test_round_trip_of_physical_events_is_exact():
    X = dilepton_events(5000, seed=0)
    coords = DileptonCoordinates(FEATURES).fit(X)
    assert coords.pt_l1_min_ == X[:, 1].min()
    Y = coords.transform(X)
    assert Y.shape == (5000, 7)
    np.testing.assert_allclose(coords.inverse_transform(Y), X, rtol=1e-8, atol=1e-8)


def test_other_column_orders_and_passthrough_columns_round_trip():
    order = ("m_bb", "dr_ll", "met", "pt_l1", "mt", "m_ll", "pt_l0", "dphi_ll", "pt_ll")
    X = dilepton_events(2000, seed=1, features=order)
    coords = DileptonCoordinates(order).fit(X)
    assert coords.columns[-1] == "m_bb"
    Y = coords.transform(X)
    np.testing.assert_array_equal(Y[:, -1], X[:, 0])
    np.testing.assert_allclose(coords.inverse_transform(Y), X, rtol=1e-8, atol=1e-8)


def test_any_point_in_coordinate_space_is_a_physical_event():
    # Arbitrary network outputs, out-of-range values included, map onto events that
    # obey every identity and the subleading threshold, and those events map back to
    # the clipped point.
    rng = np.random.default_rng(2)
    Y = np.column_stack(
        [
            rng.uniform(0, 300, 3000),
            rng.uniform(-0.5, 1.5, 3000),
            rng.uniform(-1, 4, 3000),
            rng.uniform(-1, 4, 3000),
            rng.uniform(-10, 300, 3000),
            rng.uniform(-1, 4, 3000),
            rng.uniform(20, 400, 3000),
        ]
    )
    coords = DileptonCoordinates(FEATURES).fit(dilepton_events(1000, seed=6))
    X = coords.inverse_transform(Y)
    assert np.isfinite(X).all() and identities_hold(X)
    assert X[:, 1].min() >= coords.pt_l1_min_ > 20.0
    inside = (Y[:, 0] > coords.pt_l1_min_ + 1) & (Y[:, 1] > 0.01) & (Y[:, 4] > 1)
    inside &= (Y[:, 2] > 0.01) & (Y[:, 2] < 3.1) & (Y[:, 3] > 0.01)
    inside &= (Y[:, 5] > 0.01) & (Y[:, 5] < 3.1) & (Y[:, 1] < 1)
    np.testing.assert_allclose(
        coords.transform(X)[inside], Y[inside], rtol=1e-6, atol=1e-6
    )


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match=r"\['mt'\] are not among the features"):
        DileptonCoordinates([f for f in FEATURES if f != "mt"])


def test_config_round_trip_rebuilds_the_same_transform():
    X = dilepton_events(3000, seed=3)
    config = {"kind": "quantile", "n_quantiles": 200, "coordinates": "dilepton"}
    transform = make_preprocessor(config, FEATURES).fit(X)
    assert isinstance(transform, CoordinateTransform)
    assert set(transform.state_dict()) == {"knots", "coordinates.pt_l1_min"}
    assert transform.n_columns(9) == 7 and transform.get_config() == {
        "kind": "quantile",
        "n_quantiles": 200,
        "tail": 1e-4,
        "coordinates": "dilepton",
    }
    rebuilt = make_preprocessor(transform.get_config(), FEATURES)
    rebuilt.load_state_dict(transform.state_dict())
    np.testing.assert_array_equal(rebuilt.transform(X), transform.transform(X))
    np.testing.assert_allclose(
        transform.inverse_transform(transform.transform(X)), X, rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize(
    ("config", "features", "match"),
    [
        ({"kind": "quantile", "coordinates": "polar"}, FEATURES, "coordinates"),
        ({"kind": "quantile", "coordinates": "dilepton"}, None, "features"),
    ],
)
def test_bad_coordinate_settings_are_named(config, features, match):
    with pytest.raises(ValueError, match=match):
        make_preprocessor(config, features)


TINY_COORDS = TINY | {
    "preprocessing": {
        "kind": "quantile",
        "n_quantiles": 200,
        "coordinates": "dilepton",
    },
}


def test_a_gan_in_coordinates_only_generates_physical_events(tmp_path):
    X = dilepton_events(3000, seed=4)
    gen = WGANGP(FEATURES, max_epochs=2, random_state=0, **TINY_COORDS).fit(X)
    x = gen.sample(2000, random_state=1)
    assert x.shape == (2000, 9) and identities_hold(x.astype(np.float64), rtol=1e-4)
    # Two epochs are far from converged, yet no event falls below the threshold.
    assert x[:, 1].min() >= np.float32(X[:, 1].min())

    gen.save(tmp_path / "g.pt")
    again = WGANGP.load(tmp_path / "g.pt")
    np.testing.assert_array_equal(
        again.sample(500, random_state=2), gen.sample(500, random_state=2)
    )


def test_conditional_model_refuses_coordinates():
    X = dilepton_events(1000, seed=5)
    gen = ConditionalWGANGP(FEATURES, condition="m_bb", max_epochs=1, **TINY_COORDS)
    with pytest.raises(ValueError, match="coordinates"):
        gen.fit(X)


def test_learning_rate_halves_every_halflife():
    config = dict(PRESETS["default"]) | {"lr_halflife": 10, "learning_rate": 1e-3}
    trainer = Trainer(config, WassersteinGP(10.0), 2, 0, torch.device("cpu"), [0, 1, 2])
    for epoch, expected in ((1, 1e-3), (11, 5e-4), (31, 1.25e-4)):
        trainer.set_learning_rate(epoch)
        for opt in (trainer.opt_generator, trainer.opt_critic):
            assert opt.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("halflife", [0, -3.0, True, "10"])
def test_bad_learning_rate_halflife_is_named(halflife):
    gen = WGANGP(("a", "b"), lr_halflife=halflife, max_epochs=1)
    with pytest.raises(ValueError, match="lr_halflife"):
        gen.fit(np.random.default_rng(0).normal(size=(500, 2)))
