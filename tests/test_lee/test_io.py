"""Reading events from .npz, .csv, .parquet and ROOT files."""

import importlib.util
import sys

import numpy as np
import pytest

from lee.io import parse_event_path, read_events

COLUMNS = ("pt_l0", "met", "m_bb")


@pytest.fixture
def events():
    rng = np.random.default_rng(7)
    return rng.exponential(50.0, size=(40, len(COLUMNS)))


def write_csv(path, X, names=COLUMNS):
    lines = [",".join(names)] + [",".join(repr(float(v)) for v in row) for row in X]
    path.write_text("\n".join(lines) + "\n")
    return path


# -- formats ---------------------------------------------------------------------------


def test_npz_with_one_array_per_column(tmp_path, events):
    path = tmp_path / "events.npz"
    np.savez(path, **{c: events[:, k] for k, c in enumerate(COLUMNS)})

    sample = read_events(path)

    assert sample.features == COLUMNS
    np.testing.assert_array_equal(sample.X, events)


def test_npz_in_the_bundled_layout(tmp_path, events):
    path = tmp_path / "events.npz"
    np.savez(path, X=events.astype(np.float32), features=np.array(COLUMNS))

    sample = read_events(path, columns=["m_bb", "pt_l0"])

    assert sample.features == ("m_bb", "pt_l0")
    np.testing.assert_array_equal(sample.X[:, 0], events[:, 2].astype(np.float32))


def test_csv_keeps_full_precision_and_column_order(tmp_path, events):
    path = write_csv(tmp_path / "events.csv", events)

    sample = read_events(path, columns=["met", "pt_l0"])

    assert sample.features == ("met", "pt_l0")
    # repr round-trips a float64 exactly.
    np.testing.assert_array_equal(sample.X, events[:, [1, 0]])


def test_root_tree_through_uproot(tmp_path, events):
    uproot = pytest.importorskip("uproot")
    path = tmp_path / "events.root"
    with uproot.recreate(path) as f:
        tree = f.mktree("Events", dict.fromkeys(COLUMNS, np.float64))
        tree.extend({c: events[:, k] for k, c in enumerate(COLUMNS)})

    sample = read_events(f"{path}:Events", columns=["m_bb"])

    assert sample.features == ("m_bb",)
    np.testing.assert_array_equal(sample.X[:, 0], events[:, 2])


def test_root_rntuple_through_uproot(tmp_path, events):
    uproot = pytest.importorskip("uproot")
    path = tmp_path / "events.root"
    with uproot.recreate(path) as f:
        f["Events"] = {c: events[:, k] for k, c in enumerate(COLUMNS)}

    sample = read_events(f"{path}:Events")

    # Columns come in the order the file lists them.
    assert sorted(sample.features) == sorted(COLUMNS)
    for k, column in enumerate(COLUMNS):
        np.testing.assert_array_equal(sample.column(column), events[:, k])


def test_root_names_the_trees_when_the_tree_is_missing(tmp_path, events):
    uproot = pytest.importorskip("uproot")
    path = tmp_path / "events.root"
    with uproot.recreate(path) as f:
        f.mktree("Events", {"m_bb": np.float64}).extend({"m_bb": events[:, 2]})

    with pytest.raises(ValueError, match=r"no TTree 'tree'.*\['Events'\]"):
        read_events(f"{path}:tree")


def test_root_file_without_a_tree_name_is_refused(tmp_path):
    with pytest.raises(ValueError, match="names no tree"):
        parse_event_path(tmp_path / "events.root")


def test_tree_name_is_split_from_the_last_colon():
    assert parse_event_path("/data/run:2/events.root:Events")[1] == "Events"
    assert parse_event_path("events.npz")[1] is None


def test_parquet_without_pandas_says_what_to_install(tmp_path, monkeypatch):
    # None in sys.modules makes `import pandas` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "pandas", None)
    path = tmp_path / "events.parquet"
    path.write_bytes(b"PAR1")

    with pytest.raises(ImportError, match="pip install pandas pyarrow"):
        read_events(path)


@pytest.mark.skipif(
    importlib.util.find_spec("pandas") is None
    or importlib.util.find_spec("pyarrow") is None,
    reason="needs pandas and pyarrow",
)
def test_parquet_through_pandas(tmp_path, events):
    import pandas as pd

    path = tmp_path / "events.parquet"
    pd.DataFrame(events, columns=list(COLUMNS)).to_parquet(path)

    sample = read_events(path, columns=["m_bb"])

    np.testing.assert_array_equal(sample.X[:, 0], events[:, 2])


# -- errors ----------------------------------------------------------------------------


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothere\.npz"):
        read_events(tmp_path / "nothere.npz")


def test_unknown_suffix_lists_the_formats(tmp_path):
    path = tmp_path / "events.txt"
    path.write_text("a\n1\n")

    with pytest.raises(ValueError, match=r"unknown suffix '.txt'.*\.parquet"):
        read_events(path)


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_unknown_column_lists_the_available_ones(tmp_path, events, suffix):
    path = tmp_path / f"events{suffix}"
    if suffix == ".npz":
        np.savez(path, **{c: events[:, k] for k, c in enumerate(COLUMNS)})
    else:
        write_csv(path, events)

    with pytest.raises(ValueError, match=r"unknown column 'mbb'.*'m_bb'"):
        read_events(path, columns=["pt_l0", "mbb"])


def test_nan_rows_are_refused_with_row_and_column(tmp_path, events):
    events[5, 1] = np.nan
    events[9, 1] = np.inf
    path = write_csv(tmp_path / "events.csv", events)

    with pytest.raises(
        ValueError, match=r"2 rows with NaN or inf \(first at row 5.*'met': 2"
    ):
        read_events(path)


def test_nan_in_an_unselected_column_is_ignored(tmp_path, events):
    events[5, 1] = np.nan
    path = write_csv(tmp_path / "events.csv", events)

    assert len(read_events(path, columns=["m_bb"])) == len(events)


def test_non_numeric_csv_field_is_reported(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("a,b\n1,2\n3,x\n")

    with pytest.raises(ValueError, match="must be a number"):
        read_events(path)


def test_columns_of_different_lengths_are_refused(tmp_path):
    path = tmp_path / "events.npz"
    np.savez(path, a=np.ones(3), b=np.ones(4))

    with pytest.raises(ValueError, match="different lengths"):
        read_events(path)


def test_repeated_column_is_refused(tmp_path, events):
    path = write_csv(tmp_path / "events.csv", events)

    with pytest.raises(ValueError, match=r"\['met'\] are listed more than once"):
        read_events(path, columns=["met", "met"])


def test_columns_given_as_one_string_is_a_type_error(tmp_path, events):
    path = write_csv(tmp_path / "events.csv", events)

    with pytest.raises(TypeError, match="list of column names"):
        read_events(path, columns="met")
