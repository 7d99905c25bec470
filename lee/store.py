"""SQLite storage of toy results, one row per toy, written by one process.

A :class:`ToyStore` is the memory of a toy study. It records the study's
configuration once (the scan's parameters, the sampler, the mean number of events
and the seed) and then one row per finished toy: its status (``"ok"`` or
``"failed"``), the number of events it drew, its largest local significance, the
whole local-significance array, the error message of a failed toy and the seconds
it took. Each row is written in its own transaction, so a process killed at any
moment leaves every finished toy on disk and no half-written one; the toy index is
the primary key, so no toy can be counted twice.

Only the parent process of a :class:`lee.ToyRunner` writes; workers send their
results back to it. Reading a store while a run is writing to it is safe (the file
is in SQLite's write-ahead-log mode).

The file layout, for readers outside Python::

    meta(key TEXT PRIMARY KEY, value TEXT)        -- schema_version, created, ...
    study(id INTEGER PRIMARY KEY CHECK (id = 1), config TEXT)   -- JSON
    toys(toy_index INTEGER PRIMARY KEY, status TEXT, n_events INTEGER,
         max_significance REAL, significances BLOB, shape TEXT, error TEXT,
         elapsed REAL, finished TEXT)

``significances`` holds the array's little-endian float64 bytes in C order and
``shape`` its shape as a JSON list; a failed toy has neither.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import math
import sqlite3
from pathlib import Path

import numpy as np

__all__ = ["SCHEMA_VERSION", "ConfigurationMismatchError", "ToyRecord", "ToyStore"]

logger = logging.getLogger(__name__)

#: Version of the table layout; a store written with another version is refused.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS study (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS toys (
    toy_index INTEGER PRIMARY KEY CHECK (toy_index >= 0),
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    n_events INTEGER,
    max_significance REAL,
    significances BLOB,
    shape TEXT,
    error TEXT,
    elapsed REAL NOT NULL,
    finished TEXT NOT NULL
);
"""


class ConfigurationMismatchError(ValueError):
    """A store was opened with a configuration other than the one it records."""


@dataclasses.dataclass(frozen=True)
class ToyRecord:
    """The outcome of one toy, as stored.

    Attributes
    ----------
    index : int
        Toy index; it alone fixes the toy's random stream.
    status : {"ok", "failed"}
    n_events : int or None
        Number of events the toy drew (Poisson around the study's mean); None when
        the toy failed before drawing.
    max_significance : float
        Largest finite local significance; NaN for a failed toy or a toy whose
        windows were all invalid.
    significances : ndarray or None
        Local significances, shape ``(n_windows, n_efficiencies)``; None if failed.
    error : str or None
        ``"ExceptionType: message"`` of a failed toy.
    elapsed : float
        Wall-clock seconds the toy took in its worker.
    """

    index: int
    status: str
    n_events: int | None
    max_significance: float
    significances: np.ndarray | None
    error: str | None
    elapsed: float


class ToyStore:
    """Toy results in an SQLite file (or in memory), keyed by toy index.

    Parameters
    ----------
    path : str, Path or None
        File to create or reopen; None keeps the store in memory (lost on close).
    config : dict
        The study's configuration, JSON-serialisable. A new store records it; an
        existing store must record the same one, otherwise
        :class:`ConfigurationMismatchError` names the keys that differ.

    Notes
    -----
    Configurations are compared after a JSON round trip with sorted keys, so tuples
    and lists compare equal and key order does not matter.

    Examples
    --------
    >>> store = ToyStore(None, config={"n_events": 100})
    >>> failed = ToyRecord(0, "failed", None, float("nan"), None, "ValueError: x", 0.1)
    >>> store.add(failed)
    >>> store.completed_indices()
    [0]
    >>> store.close()
    """

    def __init__(self, path: str | Path | None, config: dict):
        self.path = None if path is None else Path(path)
        self.config = _canonical(config, name="config")
        target = ":memory:" if self.path is None else str(self.path)
        # isolation_level=None: transactions are opened explicitly, one per toy.
        self._conn = sqlite3.connect(target, isolation_level=None)
        try:
            self._open()
        except sqlite3.DatabaseError as err:
            self._conn.close()
            raise ValueError(
                f"cannot open {self.path} as a toy store ({err}); pass the path of a "
                "store written by lee.ToyRunner or a new path."
            ) from err
        except BaseException:
            self._conn.close()
            raise

    # -- opening and checking -------------------------------------------------------

    def _open(self) -> None:
        conn = self._conn
        if self.path is not None:
            conn.execute("PRAGMA journal_mode=WAL")

        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if tables and "meta" not in tables:
            raise ValueError(
                f"{self.path} is an SQLite file but not a lee toy store (tables "
                f"{sorted(tables)}); pass a new path for the store."
            )

        if not tables:
            with _transaction(conn):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                created = datetime.datetime.now(datetime.timezone.utc).isoformat()
                conn.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("schema_version", str(SCHEMA_VERSION)), ("created", created)],
                )
                conn.execute(
                    "INSERT INTO study (id, config) VALUES (1, ?)",
                    (json.dumps(self.config, sort_keys=True),),
                )
            logger.debug("created toy store %s", self.path or ":memory:")
            return

        version = self.meta.get("schema_version")
        if version != str(SCHEMA_VERSION):
            raise ValueError(
                f"toy store {self.path} has schema version {version}, this version of "
                f"lee reads version {SCHEMA_VERSION}; rerun the toys into a new store "
                "or open it with the lee version that wrote it."
            )
        stored = json.loads(
            conn.execute("SELECT config FROM study WHERE id = 1").fetchone()[0]
        )
        if stored != self.config:
            # Differences of type first: they explain the ones below them.
            diffs = sorted(
                _differences(stored, self.config), key=lambda d: ".type:" not in d
            )
            shown = "; ".join(diffs[:5]) + (" ..." if len(diffs) > 5 else "")
            raise ConfigurationMismatchError(
                f"toy store {self.path} was made with a different configuration "
                f"({shown}). Toys of different studies cannot be mixed: use the scan, "
                "sampler, n_events and random_state the store was made with, or pass "
                "a new store path."
            )
        logger.info("reopened toy store %s with %d toys", self.path, len(self))

    @staticmethod
    def read_config(path: str | Path) -> dict | None:
        """The configuration recorded in the store at ``path``; None if no file."""
        path = Path(path)
        if not path.exists():
            return None
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT config FROM study WHERE id = 1").fetchone()
        except sqlite3.DatabaseError as err:
            raise ValueError(
                f"cannot read {path} as a toy store ({err}); pass the path of a store "
                "written by lee.ToyRunner or a new path."
            ) from err
        finally:
            conn.close()
        return None if row is None else json.loads(row[0])

    @property
    def meta(self) -> dict[str, str]:
        """The ``meta`` table: schema version, creation time."""
        return dict(self._conn.execute("SELECT key, value FROM meta"))

    # -- writing --------------------------------------------------------------------

    def add(self, record: ToyRecord) -> None:
        """Write one toy in its own transaction.

        Raises
        ------
        ValueError
            If the toy index is already stored; a toy is never counted twice.
        """
        if record.status not in ("ok", "failed"):
            raise ValueError(
                f"record.status must be 'ok' or 'failed'; got {record.status!r}."
            )
        blob = shape = None
        if record.significances is not None:
            sig = np.ascontiguousarray(record.significances, dtype="<f8")
            blob, shape = sig.tobytes(), json.dumps(list(sig.shape))
        finished = datetime.datetime.now(datetime.timezone.utc).isoformat()
        row = (
            int(record.index),
            record.status,
            None if record.n_events is None else int(record.n_events),
            _real_or_none(record.max_significance),
            blob,
            shape,
            record.error,
            float(record.elapsed),
            finished,
        )

        try:
            with _transaction(self._conn):
                self._conn.execute("INSERT INTO toys VALUES (?,?,?,?,?,?,?,?,?)", row)
        except sqlite3.IntegrityError as err:
            if self.has(record.index):
                raise ValueError(
                    f"toy {record.index} is already in the store; a toy index is "
                    "written once. Run only the missing indices "
                    "(ToyStore.missing_indices)."
                ) from err
            raise

    def delete(self, indices) -> int:
        """Remove the toys ``indices`` (e.g. failed ones, to run them again).

        Returns the number of rows removed.
        """
        rows = [(int(i),) for i in indices]
        with _transaction(self._conn):
            before = self._conn.total_changes
            self._conn.executemany("DELETE FROM toys WHERE toy_index = ?", rows)
            return self._conn.total_changes - before

    # -- reading --------------------------------------------------------------------

    def __len__(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM toys").fetchone()[0]

    def has(self, index: int) -> bool:
        """Whether toy ``index`` is stored."""
        query = "SELECT 1 FROM toys WHERE toy_index = ?"
        return self._conn.execute(query, (int(index),)).fetchone() is not None

    def completed_indices(self, status: str | None = None) -> list[int]:
        """Sorted indices of the stored toys, optionally only those with ``status``."""
        if status is None:
            rows = self._conn.execute("SELECT toy_index FROM toys ORDER BY toy_index")
        else:
            rows = self._conn.execute(
                "SELECT toy_index FROM toys WHERE status = ? ORDER BY toy_index",
                (status,),
            )
        return [row[0] for row in rows]

    def missing_indices(self, n_toys: int) -> list[int]:
        """Indices in ``range(n_toys)`` not yet stored, in increasing order."""
        done = set(self.completed_indices())
        return [i for i in range(n_toys) if i not in done]

    def records(self, n_toys: int | None = None) -> list[ToyRecord]:
        """Stored toys in index order; only indices below ``n_toys`` if given."""
        query = (
            "SELECT toy_index, status, n_events, max_significance, significances, "
            "shape, error, elapsed FROM toys"
        )
        params: tuple = ()
        if n_toys is not None:
            query += " WHERE toy_index < ?"
            params = (int(n_toys),)
        rows = self._conn.execute(query + " ORDER BY toy_index", params)

        records = []
        for index, status, n_events, max_sig, blob, shape, error, elapsed in rows:
            sig = None
            if blob is not None:
                sig = np.frombuffer(blob, dtype="<f8").reshape(json.loads(shape))
                sig = sig.astype(np.float64)
            max_sig = math.nan if max_sig is None else max_sig
            records.append(
                ToyRecord(index, status, n_events, max_sig, sig, error, elapsed)
            )
        return records

    # -- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection; the file keeps every committed toy."""
        self._conn.close()

    def __enter__(self) -> ToyStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = ":memory:" if self.path is None else str(self.path)
        return f"ToyStore({where!r}, n_toys={len(self)})"


class _transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self.conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")
        return False


def _canonical(config, *, name: str):
    """JSON round trip with sorted keys: tuples become lists, keys become strings."""
    try:
        return json.loads(json.dumps(config, sort_keys=True, allow_nan=False))
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be JSON-serialisable (dicts, lists, strings, finite numbers, "
            f"booleans, None); {err}. Convert the offending value, e.g. with str()."
        ) from None


def _differences(old, new, prefix: str = "") -> list[str]:
    """Human-readable list of the paths where two JSON values differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        diffs = []
        for key in sorted(set(old) | set(new)):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old:
                diffs.append(f"{path}: not in the store, now {new[key]!r}")
            elif key not in new:
                diffs.append(f"{path}: stored {old[key]!r}, now missing")
            else:
                diffs.extend(_differences(old[key], new[key], path))
        return diffs
    if old != new:
        return [f"{prefix or 'config'}: stored {old!r}, now {new!r}"]
    return []


def _real_or_none(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
