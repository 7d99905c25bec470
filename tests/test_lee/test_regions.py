"""Signal-region windows: placement, binning, validation and the sequence protocol."""

import pickle

import numpy as np
import pytest

from lee.regions import SlidingWindows, Window


@pytest.fixture
def linear():
    return SlidingWindows(scan_range=(40, 400), width=40, step=20, sideband=30, bins=8)


def test_linear_windows_match_the_documented_example(linear):
    first = linear[0]

    assert first.sr == (70.0, 110.0)
    assert first.sb_low == (40.0, 70.0)
    assert first.sb_high == (110.0, 140.0)
    assert len(linear) == 14  # SR low edges 70, 90, ..., 330


def test_linear_windows_step_by_step_and_stay_in_range(linear):
    lows = np.array([w.sr[0] for w in linear])

    np.testing.assert_allclose(np.diff(lows), 20.0)
    assert all(w.extent[0] >= 40 and w.extent[1] <= 400 for w in linear)
    assert linear.extent == (40.0, 400.0)


def test_sidebands_use_the_sr_bin_width(linear):
    for w in linear:
        np.testing.assert_allclose(np.diff(w.edges), 5.0)
        assert w.sr_bins == slice(6, 14)
        assert w.sr_mask.sum() == 8


def test_log_windows_grow_with_their_centre():
    w = SlidingWindows(
        (40, 400), width=0.2, step=0.1, sideband=0.15, bins=4, spacing="log"
    )
    centres = w.centers
    widths = np.array([win.sr[1] - win.sr[0] for win in w])

    np.testing.assert_allclose(widths / centres, 0.2)
    np.testing.assert_allclose(centres[1:] / centres[:-1], 1.1)
    for win in w:
        assert win.extent[0] >= 40 - 1e-9 and win.extent[1] <= 400 + 1e-9
        np.testing.assert_allclose(win.sb_low[1] - win.sb_low[0], 0.15 * win.center)
        np.testing.assert_allclose(np.diff(win.edges), 0.05 * win.center)


def test_sideband_must_hold_whole_bins():
    with pytest.raises(
        ValueError, match="sideband=27 is not a whole number of SR bins"
    ):
        SlidingWindows((40, 400), width=40, step=20, sideband=27, bins=8)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scan_range": (40, 100)}, "no window fits in scan_range"),
        ({"scan_range": (400, 40)}, "lo < hi"),
        ({"width": -1}, "width must be finite and > 0"),
        ({"step": 0}, "step must be finite and > 0"),
        ({"bins": 0}, "bins must be an int >= 1"),
        ({"spacing": "sqrt"}, "spacing must be 'linear' or 'log'"),
    ],
)
def test_invalid_arguments_say_what_to_change(kwargs, message):
    args = {"scan_range": (40, 400), "width": 40, "step": 20, "sideband": 30, "bins": 8}
    with pytest.raises(ValueError, match=message):
        SlidingWindows(**{**args, **kwargs})


def test_log_fractions_must_leave_room():
    with pytest.raises(ValueError, match="width/2 \\+ sideband must be below 1"):
        SlidingWindows(
            (40, 400), width=1.0, step=0.1, sideband=0.5, bins=2, spacing="log"
        )


def test_regions_are_half_open_and_disjoint(linear):
    w = linear[0]
    x = np.array([40.0, 69.999, 70.0, 109.999, 110.0, 139.999, 140.0])

    np.testing.assert_array_equal(w.in_sr(x), [0, 0, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(w.in_sidebands(x), [1, 1, 0, 0, 1, 1, 0])


def test_from_edges_builds_every_width_at_every_position():
    edges = np.linspace(0, 10, 11)
    w = SlidingWindows.from_edges(edges, width_min=1, width_max=3)

    assert len(w) == 10 + 9 + 8
    assert w[0].sr == (0.0, 1.0) and not w[0].has_sidebands
    assert w[-1].sr == (7.0, 10.0)


def test_from_edges_with_sidebands_drops_windows_that_leave_the_histogram():
    w = SlidingWindows.from_edges(
        np.arange(11.0), width_min=2, width_max=2, sideband_bins=2
    )

    assert len(w) == 10 - 2 - 4 + 1
    assert all(win.sb_low[1] - win.sb_low[0] == 2 for win in w)


def test_from_edges_rejects_unordered_edges():
    with pytest.raises(ValueError, match="strictly increasing"):
        SlidingWindows.from_edges([0, 1, 1, 2])
    with pytest.raises(ValueError, match="width_max=1 is below width_min=2"):
        SlidingWindows.from_edges(np.arange(5.0), width_min=2, width_max=1)


def test_sequence_protocol(linear):
    assert isinstance(linear[3], Window)
    assert [w.index for w in linear] == list(range(len(linear)))
    assert len(linear[2:5]) == 3


def test_params_round_trip_and_pickle(linear):
    again = SlidingWindows.from_params(linear.get_params())
    edges = SlidingWindows.from_edges(np.arange(6.0), 1, 2)

    assert again == linear
    assert SlidingWindows.from_params(edges.get_params()) == edges
    assert pickle.loads(pickle.dumps(linear)) == linear
    assert linear.to_dict()["windows"][0]["sr"] == [70.0, 110.0]
