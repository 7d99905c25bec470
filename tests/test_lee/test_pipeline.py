"""From a study description to events, scans and generators."""

import numpy as np
import pytest

from generators.empirical import EmpiricalSampler
from lee.pipeline import (
    SEED_PURPOSES,
    build_scan,
    load_generator,
    observed_events,
    observed_jobs,
    study_seeds,
    toy_mean_events,
    train_generator,
)
from lee.scan import BumpScan, CWoLaScan
from lee.study import Study

COLUMNS = ("a", "m")


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    background = np.column_stack([rng.normal(size=500), 40 + rng.exponential(60, 500)])
    signal = np.column_stack([np.full(50, 9.0), np.full(50, 125.0)])
    np.savez(tmp_path / "bkg.npz", a=background[:, 0], m=background[:, 1])
    np.savez(tmp_path / "sig.npz", a=signal[:, 0], m=signal[:, 1])
    return tmp_path


def study_on(files, **overrides) -> Study:
    base = {"data.path": "bkg.npz", "scan.scan_feature": "m"}
    study = Study(base_dir=files)
    return study.with_overrides(base | overrides)


def test_seeds_are_fixed_by_the_study_seed_and_differ_by_step():
    seeds = study_seeds(5)

    assert seeds == study_seeds(5)
    assert seeds != study_seeds(6)
    assert set(seeds) == set(SEED_PURPOSES)
    assert len(set(seeds.values())) == len(SEED_PURPOSES)


def test_observed_events_subsample_and_inject(files):
    study = study_on(
        files, **{"data.n_events": 200, "data.signal": "sig.npz", "data.n_signal": 20}
    )

    data = observed_events(study)

    assert data.features == COLUMNS
    assert len(data.X) == 220
    assert data.metadata["n_background"] == 200
    assert data.metadata["n_signal"] == 20
    # The injected events are the only ones with a = 9.
    assert np.count_nonzero(data.X[:, 0] == 9.0) == 20
    np.testing.assert_array_equal(observed_events(study).X, data.X)


def test_observed_events_asking_for_more_than_the_file_holds(files):
    with pytest.raises(ValueError, match=r"data.n_events = 600 but .* holds 500"):
        observed_events(study_on(files, **{"data.n_events": 600}))


def test_bundled_sample_with_an_unknown_split_is_refused(files):
    with pytest.raises(ValueError, match="unknown"):
        observed_events(study_on(files, **{"data.path": "bundled:nosuchsample"}))


def test_scan_kind_selects_the_scan_class(files):
    assert isinstance(build_scan(study_on(files), COLUMNS), CWoLaScan)
    bump = build_scan(study_on(files, **{"scan.kind": "bump"}), COLUMNS)
    assert isinstance(bump, BumpScan)


def test_observed_cwola_scan_uses_the_toy_workers_of_a_loky_study(files):
    study = study_on(files, **{"toys.n_jobs": 3})
    dask = study_on(files, **{"toys.n_jobs": 3, "toys.backend": "dask"})
    bump = study_on(files, **{"toys.n_jobs": 3, "scan.kind": "bump"})

    assert observed_jobs(study, build_scan(study, COLUMNS)) == {"n_jobs": 3}
    assert observed_jobs(dask, build_scan(dask, COLUMNS)) == {}
    assert observed_jobs(bump, build_scan(bump, COLUMNS)) == {}
    assert build_scan(study, COLUMNS).n_jobs == 1  # toys scan in one process


def test_classifier_feature_missing_from_the_events(files):
    study = study_on(files, **{"scan.features": ["a", "met"]})

    with pytest.raises(ValueError, match=r"scan.features names the column 'met'"):
        build_scan(study, COLUMNS)


def test_unknown_pretrained_generator_lists_the_shipped_ones(files):
    study = study_on(files, **{"generator.checkpoint": "pretrained:nosuchmodel"})

    with pytest.raises(ValueError, match="no pretrained sampler called 'nosuchmodel'"):
        load_generator(study)


def test_missing_checkpoint_says_how_to_make_one(files):
    with pytest.raises(FileNotFoundError, match="lee train"):
        load_generator(study_on(files, **{"generator.checkpoint": "nothere.pt"}))


def test_train_then_load_round_trip(files):
    study = study_on(files, **{"generator.kind": "empirical"})
    events = observed_events(study)

    sampler, path = train_generator(study, events)

    assert path == files / "generator.pt"
    loaded = load_generator(study, COLUMNS)
    assert isinstance(loaded, EmpiricalSampler)
    np.testing.assert_array_equal(
        loaded.sample(5, random_state=1), sampler.sample(5, random_state=1)
    )


def test_training_into_a_shipped_checkpoint_name_is_refused(files):
    study = study_on(files, **{"generator.checkpoint": "pretrained:x"})

    with pytest.raises(ValueError, match="a shipped model"):
        train_generator(study, observed_events(study))


def test_toy_size_defaults_to_the_data_size(files):
    assert toy_mean_events(study_on(files), 321) == 321.0
    assert toy_mean_events(study_on(files, **{"toys.n_events": 50}), 321) == 50.0
    with pytest.raises(ValueError, match=r"set data\.path or toys\.n_events"):
        toy_mean_events(study_on(files), None)
