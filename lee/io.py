"""Read a user's events from disk as a table of named columns.

Four formats, chosen by the file's suffix:

``.npz``
    NumPy archives, read with ``allow_pickle=False`` so that loading never executes
    code. Either one 1-D array per column, or a 2-D array ``X`` with its column names
    in ``features`` (the layout of the bundled samples).
``.csv``
    Comma-separated numbers, UTF-8, with one header line of distinct column names;
    every row has one field per name. Text after ``#`` on a line is a comment.
``.parquet``
    Through pandas (and pyarrow or fastparquet), when installed.
``.root``
    A flat ROOT TTree (or RNTuple) through uproot (the ``root`` extra), named after
    a colon: ``events.root:Events``.

Every reader returns the same :class:`generators.EventSample`, with the requested
columns in the requested order and rows that hold NaN or inf refused, since a
generator or a scan fed with them silently goes wrong.
"""

from __future__ import annotations

import csv
import logging
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from generators.data import EventSample

__all__ = ["FORMATS", "parse_event_path", "read_events"]

logger = logging.getLogger(__name__)

#: File suffixes :func:`read_events` understands.
FORMATS = (".npz", ".csv", ".parquet", ".root")


def parse_event_path(path) -> tuple[Path, str | None]:
    """Split ``"file.root:tree"`` into the file and the tree name.

    Other paths come back unchanged with ``None`` as the tree. A ROOT file without a
    tree name is an error, since a file can hold several trees.
    """
    text = str(path)
    file, sep, tree = text.rpartition(":")
    if sep and file.lower().endswith(".root") and tree:
        return Path(file), tree
    if text.lower().endswith(".root"):
        raise ValueError(
            f"{text!r} is a ROOT file but names no tree; write it as "
            f"'{text}:TREE' with the TTree's name."
        )
    return Path(text), None


def read_events(
    path, columns: Sequence[str] | None = None, *, name: str = "events"
) -> EventSample:
    """Read events from a ``.npz``, ``.csv``, ``.parquet`` or ROOT file.

    Parameters
    ----------
    path : str or Path
        The file; a ROOT TTree is given as ``"file.root:tree"``.
    columns : sequence of str, optional
        Columns to keep, in this order. All columns by default.
    name : str
        What the events are, used in error messages ("training events").

    Returns
    -------
    EventSample
        ``X`` as float64 of shape (n_events, len(columns)), ``features`` the column
        names, empty ``units``, and ``metadata`` with the source path.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        For an unknown format, a file that is not what its suffix says (not a zip
        archive of arrays, not UTF-8 text, truncated), arrays of Python objects
        (never unpickled), repeated column names, an unknown column (the message
        lists the file's columns), a column that is not numeric or not flat,
        columns of different lengths, rows with another number of fields than the
        header, an empty file, or rows holding NaN or inf.
    TypeError
        If ``columns`` is not a list of strings.
    ImportError
        For ``.parquet`` without pandas, or ``.root`` without uproot.
    """
    file, tree = parse_event_path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{name} file {str(file)!r} does not exist.")
    suffix = file.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot read {name} file {str(file)!r}: unknown suffix {suffix!r}; "
            f"use one of {list(FORMATS)} (ROOT as 'file.root:tree')."
        )
    if columns is not None:
        columns = _check_columns(columns)

    # Each reader gives the file's column names and a loader for chosen columns.
    if suffix == ".npz":
        table = _read_npz(file, columns)
    elif suffix == ".csv":
        table = _read_csv(file, columns)
    elif suffix == ".parquet":
        table = _read_parquet(file, columns)
    else:
        table = _read_root(file, tree, columns)

    features = tuple(table)
    X = _stack(table, source=str(path), name=name)
    logger.debug("read %d %s with columns %s from %s", len(X), name, features, path)

    return EventSample(
        X=X,
        features=features,
        units=("",) * len(features),
        metadata={"name": name, "source": str(path), "split": "all"},
    )


# -- column handling -------------------------------------------------------------------


def _check_columns(columns) -> list[str]:
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise TypeError(
            f"columns must be a list of column names; got {columns!r}. Pass e.g. "
            "['pt_l0', 'm_bb']."
        )
    columns = list(columns)
    if not columns:
        raise ValueError("columns is empty; name at least one column or pass None.")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ValueError(
            f"columns {repeated} are listed more than once; list each once."
        )

    return columns


def _select(available: Sequence[str], columns, source: str) -> list[str]:
    """The columns to load, or a ValueError naming the unknown ones."""
    if columns is None:
        return list(available)
    unknown = [c for c in columns if c not in available]
    if unknown:
        raise ValueError(
            f"unknown column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))} in {source!r}; its columns are "
            f"{list(available)}."
        )

    return list(columns)


def _stack(table: dict[str, np.ndarray], source: str, name: str) -> np.ndarray:
    """Columns to one float64 array, refusing ragged, non-numeric or non-finite data."""
    if not table:
        raise ValueError(f"{name} file {source!r} holds no columns.")
    lengths = {c: np.shape(v) for c, v in table.items()}
    for column, values in table.items():
        if values.ndim != 1:
            raise ValueError(
                f"column {column!r} of {source!r} has shape {values.shape}; only flat "
                "columns (one number per event) can be read. Flatten or drop it."
            )
        if values.dtype.kind not in "biuf":
            raise ValueError(
                f"column {column!r} of {source!r} holds {values.dtype} values, not "
                "numbers; convert or drop it."
            )
    if len({shape[0] for shape in lengths.values()}) > 1:
        raise ValueError(
            f"the columns of {source!r} have different lengths {lengths}; every "
            "column needs one value per event."
        )
    X = np.column_stack([np.asarray(v, dtype=np.float64) for v in table.values()])
    if len(X) == 0:
        raise ValueError(f"{name} file {source!r} holds no events.")

    # Name the columns and the first row, so the user can find the bad values.
    bad = ~np.isfinite(X)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        counts = {c: int(n) for c, n in zip(table, bad.sum(axis=0), strict=True) if n}
        raise ValueError(
            f"{name} file {source!r} has {rows.size} rows with NaN or inf (first at "
            f"row {rows[0]}; per column: {counts}). Drop or repair those rows first."
        )

    return X


# -- readers ---------------------------------------------------------------------------


def _read_npz(file: Path, columns) -> dict[str, np.ndarray]:
    # np.load unpickles whatever is neither a zip archive nor a .npy file (refused
    # with allow_pickle=False); say instead what the file should have been.
    # The handle is ours, so that it is closed even when np.load fails half-way.
    with open(file, "rb") as handle:
        try:
            archive = np.load(handle, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile):
            archive = None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(
                f"{str(file)!r} is not a .npz archive of named arrays (it is empty, "
                "truncated, a single .npy array or another format); write it with "
                "numpy.savez(path, name=array, ...)."
            )

        with archive as f:
            return _npz_columns(f, file, columns)


def _npz_columns(f, file: Path, columns) -> dict[str, np.ndarray]:
    keys = list(f.keys())

    # The bundled layout: one 2-D array and its column names.
    if "X" in keys and "features" in keys:
        X = _npz_array(f, "X", file)
        if X.ndim == 2:
            names = _npz_names(_npz_array(f, "features", file), file)
            if X.shape[1] != len(names):
                raise ValueError(
                    f"{str(file)!r} has an X with {X.shape[1]} columns but "
                    f"{len(names)} names in 'features'; fix the file."
                )
            chosen = _select(names, columns, str(file))
            return {c: X[:, names.index(c)] for c in chosen}

    chosen = _select(keys, columns, str(file))
    return {c: _npz_array(f, c, file) for c in chosen}


def _npz_array(archive, key: str, file: Path) -> np.ndarray:
    """One array of an archive, or a ValueError naming it and what went wrong."""
    try:
        value = archive[key]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(
            f"cannot read the array {key!r} of {str(file)!r}: {error}. Arrays of "
            "Python objects are never loaded (unpickling can run code) and damaged "
            "archives are refused; save numeric arrays with numpy.savez."
        ) from None
    if not isinstance(value, np.ndarray):
        raise ValueError(
            f"the entry {key!r} of {str(file)!r} is not a NumPy array; write the "
            "file with numpy.savez."
        )

    return value


def _npz_names(features: np.ndarray, file: Path) -> list[str]:
    """The 'features' array of the bundled layout as a list of distinct names."""
    if features.ndim != 1 or features.dtype.kind != "U":
        raise ValueError(
            f"'features' of {str(file)!r} must be a 1-D array of strings naming the "
            f"columns of X; got dtype {features.dtype} and shape {features.shape}."
        )
    names = features.tolist()
    _refuse_repeats(names, file)

    return names


def _refuse_repeats(names: Sequence[str], file: Path) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(
            f"{str(file)!r} names the columns {repeated} more than once; a column "
            "could then be read from the wrong place. Give every column its own name."
        )


def _read_csv(file: Path, columns) -> dict[str, np.ndarray]:
    try:
        with open(file, newline="", encoding="utf-8-sig") as f:
            first = f.readline()
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{str(file)!r} is not UTF-8 text ({error}); save the CSV as UTF-8."
        ) from None
    header = next(csv.reader([first.rstrip("\r\n")]), None)
    if not header:
        raise ValueError(f"{str(file)!r} is empty; a header line of names is needed.")
    header = [h.strip() for h in header]
    _refuse_repeats(header, file)
    chosen = _select(header, columns, str(file))

    try:
        with warnings.catch_warnings():
            # A file with a header and no rows is reported below as holding no
            # events; numpy's warning about it would only repeat that.
            warnings.filterwarnings("ignore", message="loadtxt: input contained no")
            data = np.loadtxt(
                file,
                delimiter=",",
                skiprows=1,
                ndmin=2,
                dtype=np.float64,
                encoding="utf-8-sig",
            )
    except ValueError as error:
        raise ValueError(
            f"cannot read numbers from {str(file)!r}: {str(error).rstrip('.')}. "
            "Every field below the header must be a number (write missing values "
            "as nan and drop them)."
        ) from None
    if len(data) and data.shape[1] != len(header):
        raise ValueError(
            f"the rows of {str(file)!r} have {data.shape[1]} fields but its header "
            f"names {len(header)} columns {header}; give every row one number per "
            "column."
        )
    if not len(data):
        return {c: np.empty(0) for c in chosen}

    return {c: data[:, header.index(c)] for c in chosen}


def _read_parquet(file: Path, columns) -> dict[str, np.ndarray]:
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            f"reading {str(file)!r} needs pandas with a parquet engine: "
            "pip install pandas pyarrow"
        ) from None
    try:
        import pyarrow.parquet as pq
    except ImportError:
        pq = None

    # The schema names the columns without reading the data.
    if pq is not None:
        names = list(pq.read_schema(file).names)
    else:
        names = list(pd.read_parquet(file).columns)
    chosen = _select(names, columns, str(file))
    frame = pd.read_parquet(file, columns=chosen)

    return {c: frame[c].to_numpy() for c in chosen}


# Event tables uproot reads alike: the classic TTree and its successor RNTuple.
_ROOT_TABLES = ("TTree", "ROOT::RNTuple")


def _read_root(file: Path, tree: str, columns) -> dict[str, np.ndarray]:
    try:
        import uproot
    except ImportError:
        raise ImportError(
            f"reading {str(file)!r} needs uproot: pip install 'lee-toys[root]'"
        ) from None

    with uproot.open(file) as f:
        trees = [
            k.split(";")[0] for k, c in f.classnames().items() if c in _ROOT_TABLES
        ]
        if tree not in trees:
            raise ValueError(
                f"{str(file)!r} has no TTree {tree!r}; its trees are {trees}."
            )
        t = f[tree]
        chosen = _select(list(t.keys()), columns, f"{file}:{tree}")
        try:
            arrays = t.arrays(chosen, library="np")
        except Exception as error:
            raise ValueError(
                f"cannot read branches {chosen} of {file}:{tree} as flat numbers: "
                f"{error}. Select flat numeric branches with `columns`."
            ) from None

    # Jagged branches come back as object arrays of per-event arrays.
    return {c: arrays[c] for c in chosen}
