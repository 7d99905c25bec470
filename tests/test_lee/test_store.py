"""The SQLite toy store: one row per toy, configuration checked on reopening."""

import math
import sqlite3

import numpy as np
import pytest

from lee.store import (
    SCHEMA_VERSION,
    ConfigurationMismatchError,
    ToyRecord,
    ToyStore,
)

CONFIG = {"scan": {"type": "BumpScan", "edges": (0.0, 1.0, 2.0)}, "n_events": 100.0}


def ok_record(index, significances):
    significances = np.asarray(significances, dtype=np.float64)
    return ToyRecord(
        index=index,
        status="ok",
        n_events=97,
        max_significance=float(np.nanmax(significances)),
        significances=significances,
        error=None,
        elapsed=0.25,
    )


def failed_record(index):
    return ToyRecord(index, "failed", None, math.nan, None, "ValueError: boom", 0.5)


def test_records_round_trip_bit_for_bit(tmp_path):
    sig = np.random.default_rng(0).standard_normal((7, 2))
    sig[3, 1] = np.nan
    with ToyStore(tmp_path / "toys.sqlite", CONFIG) as store:
        store.add(ok_record(0, sig))
        store.add(failed_record(1))

    with ToyStore(tmp_path / "toys.sqlite", CONFIG) as store:
        ok, failed = store.records()

    assert ok.status == "ok" and ok.n_events == 97 and ok.elapsed == 0.25
    assert ok.significances.shape == (7, 2)
    np.testing.assert_array_equal(ok.significances, sig)  # NaN compares equal here
    assert ok.max_significance == np.nanmax(sig)
    assert failed.status == "failed" and failed.significances is None
    assert math.isnan(failed.max_significance) and failed.error == "ValueError: boom"


def test_in_memory_store_needs_no_file():
    store = ToyStore(None, CONFIG)
    store.add(ok_record(2, [[1.0]]))

    assert len(store) == 1 and store.path is None
    assert store.completed_indices() == [2]


def test_missing_indices_are_those_not_yet_stored():
    store = ToyStore(None, CONFIG)
    for index in (0, 2, 5):
        store.add(ok_record(index, [[0.5]]))
    store.add(failed_record(3))

    assert store.missing_indices(6) == [1, 4]
    assert store.completed_indices("failed") == [3]
    assert [r.index for r in store.records(n_toys=3)] == [0, 2]


def test_a_toy_index_is_written_only_once():
    store = ToyStore(None, CONFIG)
    store.add(ok_record(0, [[1.0]]))

    with pytest.raises(ValueError, match="toy 0 is already in the store"):
        store.add(ok_record(0, [[2.0]]))
    assert len(store) == 1
    assert store.records()[0].max_significance == 1.0


def test_deleted_toys_become_missing():
    store = ToyStore(None, CONFIG)
    store.add(ok_record(0, [[1.0]]))
    store.add(failed_record(1))

    assert store.delete([1]) == 1
    assert store.missing_indices(2) == [1]


def test_reopening_with_another_configuration_names_the_difference(tmp_path):
    path = tmp_path / "toys.sqlite"
    ToyStore(path, CONFIG).close()
    other = {**CONFIG, "n_events": 200.0}

    with pytest.raises(ConfigurationMismatchError, match=r"n_events: stored 100\.0"):
        ToyStore(path, other)


def test_configuration_compares_tuples_and_lists_alike(tmp_path):
    path = tmp_path / "toys.sqlite"
    ToyStore(path, CONFIG).close()
    as_lists = {
        "n_events": 100.0,
        "scan": {"edges": [0.0, 1.0, 2.0], "type": "BumpScan"},
    }

    with ToyStore(path, as_lists) as store:
        assert store.config == ToyStore.read_config(path)


def test_other_schema_version_is_refused(tmp_path):
    path = tmp_path / "toys.sqlite"
    ToyStore(path, CONFIG).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    conn.close()

    with pytest.raises(ValueError, match="schema version"):
        ToyStore(path, CONFIG)


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database, just text long enough to have a header " * 4)
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE events (x REAL)")
    conn.close()

    with pytest.raises(ValueError, match="cannot open"):
        ToyStore(text, CONFIG)
    with pytest.raises(ValueError, match="not a lee toy store"):
        ToyStore(foreign, CONFIG)


def test_configuration_must_be_json():
    with pytest.raises(TypeError, match="config must be JSON-serialisable"):
        ToyStore(None, {"sampler": object()})


def test_read_config_of_a_missing_file_is_none(tmp_path):
    assert ToyStore.read_config(tmp_path / "absent.sqlite") is None
