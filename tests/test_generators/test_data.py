"""Loading the bundled samples and the sample file format."""

import json

import numpy as np
import pytest

import generators
from generators.data import read_sample, write_sample
from generators.kinematics import FEATURES, UNITS


@pytest.fixture(scope="module")
def ttbar():
    return generators.load_sample("ttbar_dilepton")


def test_bundled_samples_are_listed():
    assert generators.available_samples() == ["hsh_signal", "ttbar_dilepton"]


def test_ttbar_sample_has_the_promised_size_columns_and_dtype(ttbar):
    assert len(ttbar) >= 500_000
    assert ttbar.features == FEATURES
    assert ttbar.units == UNITS
    assert ttbar.X.dtype == np.float32
    assert ttbar.X.shape == (len(ttbar), 9)
    assert np.isfinite(ttbar.X).all()


def test_signal_sample_has_the_promised_size():
    assert len(generators.load_sample("hsh_signal")) >= 50_000


def test_train_and_test_split_the_sample_70_30_without_overlap(ttbar):
    train = generators.load_sample("ttbar_dilepton", split="train")
    test = generators.load_sample("ttbar_dilepton", split="test")
    assert len(train) + len(test) == len(ttbar)
    assert len(train) / len(ttbar) == pytest.approx(0.7, abs=1e-5)
    # The split is a partition of the rows: the row multisets add up exactly.
    joined = np.sort(np.concatenate([train.X[:, 0], test.X[:, 0]]))
    np.testing.assert_array_equal(joined, np.sort(ttbar.X[:, 0]))


def test_split_is_the_same_on_every_load():
    a = generators.load_sample("ttbar_dilepton", split="test")
    b = generators.load_sample("ttbar_dilepton", split="test")
    np.testing.assert_array_equal(a.X, b.X)


def test_no_event_violates_the_selection(ttbar):
    # Storage keeps 15 mantissa bits and truncates toward zero, so an event just
    # above a cut (20.000015 GeV) may be stored exactly at it: the cuts hold with
    # ">=", and "<" never.
    cut = ttbar.metadata["selection"]
    assert (ttbar.column("pt_l0") >= cut["lepton_pt"][0]).all()
    assert (ttbar.column("pt_l1") >= cut["lepton_pt"][1]).all()
    assert (ttbar.column("pt_l0") >= ttbar.column("pt_l1")).all()
    dphi = ttbar.column("dphi_ll")
    assert (dphi >= 0).all() and (dphi <= np.pi + 1e-6).all()
    assert (ttbar.column("dr_ll") >= dphi - 1e-5).all()
    assert (ttbar.column("m_bb") > 0).all()


def test_metadata_records_provenance(ttbar):
    meta = ttbar.metadata
    for key in ("generator", "pythia_settings", "seeds", "detector", "selection"):
        assert key in meta
    assert "8.317" in meta["generator"]
    assert meta["n_selected"] >= len(ttbar)


def test_scan_variable_is_weakly_correlated_with_dilepton_features(ttbar):
    rho = np.corrcoef(ttbar.X[:100_000].T)[-1, :-1]
    assert np.abs(rho).max() < 0.2


def test_unknown_sample_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"hsh_signal.*ttbar_dilepton"):
        generators.load_sample("zjets")


def test_unknown_split_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"'all', 'train', 'test'"):
        generators.load_sample("ttbar_dilepton", split="validation")


def test_unknown_column_lists_the_columns(ttbar):
    with pytest.raises(ValueError, match="m_bb"):
        ttbar.column("m_jj")


def test_loaded_events_are_read_only(ttbar):
    with pytest.raises(ValueError, match="read-only"):
        ttbar.X[0, 0] = 1.0


def test_write_and_read_round_trip_to_stored_precision(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.exponential(50.0, size=(1000, 9)).astype(np.float32)
    is_train = rng.random(1000) < 0.7
    path = write_sample(tmp_path / "s.npz", X, is_train, {"name": "s"})
    sample = read_sample(path, split="train")
    np.testing.assert_allclose(sample.X, X[is_train], rtol=4e-5)
    assert sample.metadata == {"name": "s", "split": "train"}


def test_sample_files_hold_no_pickles(tmp_path):
    path = write_sample(
        tmp_path / "s.npz", np.ones((3, 9)), np.ones(3, bool), {"a": [1, 2]}
    )
    with np.load(path, allow_pickle=False) as f:
        assert json.loads(str(f["metadata"])) == {"a": [1, 2]}
        assert all(f[k].dtype != object for k in f.files)


def test_write_refuses_a_wrong_number_of_columns(tmp_path):
    with pytest.raises(ValueError, match=r"shape \(n, 9\)"):
        write_sample(tmp_path / "s.npz", np.ones((3, 8)), np.ones(3, bool), {})
