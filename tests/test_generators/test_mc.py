"""The Pythia reference generator: reproducibility, selection and detector response."""

import pickle
import sys

import numpy as np
import pytest

pytest.importorskip("pythia8mc")

from generators.kinematics import FEATURES
from generators.mc import (
    DetectorResponse,
    PartonBatch,
    PythiaGenerator,
    Selection,
    reconstruct,
)

# A detector that measures everything perfectly and tags only b quarks, so that the
# selection can be checked event by event.
PERFECT = DetectorResponse(
    electron_efficiency=(1.0, 1.0),
    muon_efficiency=(1.0, 1.0),
    electron_resolution=(0.0, 0.0),
    muon_resolution=(0.0, 0.0),
    jet_resolution=(0.0, 0.0, 0.0),
    btag_efficiency=(1.0, 0.0, 0.0),
    met_soft_resolution=0.0,
)


def massless(pt_, eta_, phi_):
    px, py, pz = pt_ * np.cos(phi_), pt_ * np.sin(phi_), pt_ * np.sinh(eta_)
    return (px, py, pz, np.sqrt(px**2 + py**2 + pz**2))


def event_batch(events):
    """A PartonBatch from a list of (leptons, jets) with (pdg id, pt, eta, phi)."""
    batch = PartonBatch.empty(len(events))
    for i, (leptons, jets) in enumerate(events):
        for k, (pid, *kin) in enumerate(leptons):
            batch.leptons[i, k] = massless(*kin)
            batch.lepton_id[i, k] = pid
        for k, (flavour, *kin) in enumerate(jets):
            batch.jets[i, k] = massless(*kin)
            batch.jet_flavour[i, k] = flavour
        batch.sum_et[i] = 100.0
    return batch


GOOD_LEPTONS = [(11, 40.0, 0.1, 0.0), (-13, 30.0, -0.5, 2.0)]
GOOD_JETS = [(5, 60.0, 0.3, 1.0), (5, 50.0, -1.0, -2.0)]


@pytest.mark.parametrize(
    ("leptons", "jets", "passes"),
    [
        (GOOD_LEPTONS, GOOD_JETS, True),
        ([(11, 40.0, 0.1, 0.0), (13, 30.0, -0.5, 2.0)], GOOD_JETS, False),  # same sign
        ([*GOOD_LEPTONS, (11, 22.0, 0.0, 1.0)], GOOD_JETS, False),  # three leptons
        ([(11, 24.0, 0.1, 0.0), (-13, 21.0, 0.0, 2.0)], GOOD_JETS, False),  # lead < 25
        ([(11, 40.0, 0.1, 0.0), (-13, 19.0, 0.0, 2.0)], GOOD_JETS, False),  # sub < 20
        ([(11, 40.0, 2.6, 0.0), (-13, 30.0, 0.0, 2.0)], GOOD_JETS, False),  # |eta| cut
        (GOOD_LEPTONS, [(5, 60.0, 0.3, 1.0), (21, 50.0, 0.0, -2.0)], False),  # 1 tag
        (GOOD_LEPTONS, [(5, 60.0, 0.3, 1.0), (5, 24.0, 0.0, -2.0)], False),  # jet pT
        (GOOD_LEPTONS, [(5, 60.0, 0.3, 1.0), (5, 50.0, 2.6, -2.0)], False),  # jet eta
        # a third lepton below 20 GeV is not counted
        ([*GOOD_LEPTONS, (13, 15.0, 0.0, 1.0)], GOOD_JETS, True),
    ],
)
def test_selection_is_applied_as_stated(leptons, jets, passes):
    X = reconstruct(
        event_batch([(leptons, jets)]), np.random.default_rng(0), PERFECT, Selection()
    )
    assert len(X) == int(passes)


def test_m_bb_uses_the_two_leading_tagged_jets():
    jets = [(21, 90.0, 0.0, 0.5), (5, 60.0, 0.3, 1.0), (5, 50.0, -1.0, -2.0)]
    X = reconstruct(
        event_batch([(GOOD_LEPTONS, jets)]),
        np.random.default_rng(0),
        PERFECT,
        Selection(),
    )
    b0, b1 = np.array(massless(60.0, 0.3, 1.0)), np.array(massless(50.0, -1.0, -2.0))
    s = b0 + b1
    m_bb = np.sqrt(s[3] ** 2 - s[0] ** 2 - s[1] ** 2 - s[2] ** 2)
    assert X[0, FEATURES.index("m_bb")] == pytest.approx(m_bb, rel=1e-9)


def test_perfect_detector_leaves_leptons_unchanged_and_sorted_by_pt():
    leptons = [(-13, 30.0, -0.5, 2.0), (11, 40.0, 0.1, 0.0)]
    X = reconstruct(
        event_batch([(leptons, GOOD_JETS)]),
        np.random.default_rng(0),
        PERFECT,
        Selection(),
    )
    assert X[0, 0] == pytest.approx(40.0)
    assert X[0, 1] == pytest.approx(30.0)


def test_lepton_efficiency_loses_the_stated_fraction():
    # Central electrons with efficiency 0.95 each: both found in 0.9025 of events.
    # With 20,000 events the binomial sd is 0.0021; the 0.01 tolerance is ~5 sd.
    detector = DetectorResponse(
        electron_efficiency=(0.95, 0.85), btag_efficiency=(1, 0, 0)
    )
    n = 20_000
    batch = event_batch(
        [([(11, 40.0, 0.1, 0.0), (-11, 30.0, 0.0, 2.0)], GOOD_JETS)] * n
    )
    X = reconstruct(batch, np.random.default_rng(1), detector, Selection())
    assert len(X) / n == pytest.approx(0.95**2, abs=0.01)


@pytest.fixture(scope="module")
def small_run():
    gen = PythiaGenerator("ttbar", seed=7, batch_size=300)
    return gen, gen.sample(20)


def test_tiny_pythia_run_is_reproducible_for_a_fixed_seed(small_run):
    _, X = small_run
    again = PythiaGenerator("ttbar", seed=7, batch_size=300).sample(20)
    np.testing.assert_array_equal(X, again)
    assert X.shape == (20, 9)
    assert X.dtype == np.float32


def test_own_stream_continues_between_calls(small_run):
    gen = PythiaGenerator("ttbar", seed=7, batch_size=300)
    first = gen.sample(20)
    second = gen.sample(20)
    np.testing.assert_array_equal(first, small_run[1])
    assert not np.array_equal(first, second)


def test_random_state_gives_reproducible_independent_streams():
    gen = PythiaGenerator("ttbar", seed=7, batch_size=300)
    a = gen.sample(10, random_state=11)
    b = gen.sample(10, random_state=11)
    c = gen.sample(10, random_state=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_selection_efficiency_is_tracked(small_run):
    gen, _ = small_run
    assert gen.n_selected_ >= 20
    assert 0.02 < gen.selection_efficiency < 0.5


def test_signal_process_runs_and_peaks_near_the_higgs_mass():
    X = PythiaGenerator("hsh", seed=3, batch_size=500).sample(60)
    median = np.median(X[:, FEATURES.index("m_bb")])
    assert 100.0 < median < 150.0


def test_generator_pickles_without_its_pythia_instance(small_run):
    gen, _ = small_run
    clone = pickle.loads(pickle.dumps(gen))
    assert clone.get_params() == gen.get_params()


def test_params_round_trip():
    gen = PythiaGenerator("hsh", seed=5, detector=PERFECT, settings=("Tune:pp = 14",))
    clone = PythiaGenerator.from_params(gen.get_params())
    assert clone.get_params() == gen.get_params()
    assert clone.detector == PERFECT


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"process": "zjets"}, "process must be one of"),
        ({"seed": 0}, r"seed must lie in \[1, 900000000\]"),
        ({"seed": 1.5}, "seed must be an int"),
        ({"batch_size": 0}, "batch_size must be a positive int"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        PythiaGenerator(**kwargs)


def test_rejected_pythia_setting_is_reported():
    with pytest.raises(ValueError, match="NotASetting"):
        PythiaGenerator("ttbar", settings=("NotASetting:foo = 3",)).sample(1)


def test_missing_pythia_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pythia8mc", None)
    with pytest.raises(ImportError, match=r"lee-toys\[mc\]"):
        PythiaGenerator("ttbar")
