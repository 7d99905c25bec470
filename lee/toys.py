"""Background-only toys: draw, scan, record, in parallel and resumably.

A toy is one background-only pseudo-experiment run through the *whole* analysis:
draw ``N ~ Poisson(n_events)`` events from a :class:`generators.Sampler`, run the
scan on them (classifier retraining included) and keep every local significance.
The distribution of the toys' largest local significance is what turns an observed
bump into a global p-value (:func:`lee.global_significance`).

Reproducibility does not depend on how the toys are run. Toy ``i`` draws from its
own child of one :class:`numpy.random.SeedSequence`,
``SeedSequence(entropy, spawn_key=(*spawn_key, i))`` (the ``i``-th child that
``SeedSequence.spawn`` would give), and runs on one thread, so the same seed gives
the same toys for any ``n_jobs``, any backend and any number of interruptions.

Parallelism goes through joblib: worker processes with ``backend="loky"`` (the
default), a dask.distributed cluster with ``backend="dask"`` (through joblib's dask
backend and an existing ``distributed.Client``), threads with ``"threading"``, or a
plain loop with ``"sequential"``. Workers return results to the parent as they
finish and the parent alone writes them to a :class:`lee.ToyStore`, one transaction
per toy.

Examples
--------
On a laptop, with the loky backend::

    runner = lee.ToyRunner(sampler, scan, n_events=20_000, store="toys.sqlite",
                           n_jobs=2, random_state=0)
    toys = runner.run(n_toys=500)    # a total: run again with 1000 to add 500

On a dask cluster, start (or connect to) a client first; the runner uses it::

    from dask.distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=4, threads_per_worker=1))
    # on an analysis facility: client = Client("tcp://scheduler-address:8786")
    toys = lee.ToyRunner(sampler, scan, 20_000, "toys.sqlite", backend="dask",
                         random_state=0).run(1000)

Give dask workers one thread each (``threads_per_worker=1``, or ``--nthreads 1``
for ``dask worker``): a toy uses one thread, and several toys in threads of one
worker process share the process-wide thread limits of BLAS and torch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import sys
import time
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed, parallel_config
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from .scan import SculptingWarning
from .store import ToyRecord, ToyStore

__all__ = ["BACKENDS", "ToyResults", "ToyRunner"]

logger = logging.getLogger(__name__)

#: Names accepted by ``ToyRunner(backend=...)``.
BACKENDS = ("loky", "dask", "threading", "sequential")


@dataclasses.dataclass(frozen=True)
class ToySeed:
    """The root of a study's random streams, reproducible from its JSON form.

    Toy ``i`` uses ``SeedSequence(entropy, spawn_key=(*spawn_key, i))``, the same
    child that ``SeedSequence(entropy, spawn_key=spawn_key).spawn(i + 1)[i]``
    returns, but without spawning the ones before it.
    """

    entropy: int | tuple[int, ...]
    spawn_key: tuple[int, ...] = ()

    @classmethod
    def from_random_state(cls, random_state) -> ToySeed:
        if isinstance(random_state, np.random.SeedSequence):
            entropy = random_state.entropy
            if not isinstance(entropy, (int, np.integer)):
                entropy = tuple(int(e) for e in entropy)
            return cls(entropy, tuple(int(k) for k in random_state.spawn_key))
        if isinstance(random_state, np.random.Generator):
            # Draws 128 bits from the caller's stream, which therefore advances.
            return cls(int.from_bytes(random_state.bytes(16), "little"))
        if random_state is None:
            return cls(int(np.random.SeedSequence().entropy))
        if isinstance(random_state, (int, np.integer)) and not isinstance(
            random_state, bool
        ):
            if random_state < 0:
                raise ValueError(
                    f"random_state must be a non-negative int; got {random_state}. "
                    "Pass a seed >= 0 or a numpy SeedSequence."
                )
            return cls(int(random_state))
        raise TypeError(
            "random_state must be None, an int, a numpy SeedSequence or a numpy "
            f"Generator; got {type(random_state).__name__}."
        )

    @classmethod
    def from_config(cls, config: dict) -> ToySeed:
        entropy = config["entropy"]
        entropy = entropy if isinstance(entropy, int) else tuple(entropy)
        return cls(entropy, tuple(config["spawn_key"]))

    def to_config(self) -> dict:
        entropy = self.entropy if isinstance(self.entropy, int) else list(self.entropy)
        return {"entropy": entropy, "spawn_key": list(self.spawn_key)}

    def child(self, index: int) -> np.random.SeedSequence:
        """The seed sequence of toy ``index``."""
        return np.random.SeedSequence(self.entropy, spawn_key=(*self.spawn_key, index))


class ToyRunner:
    """Run background-only toys through a scan and store their significances.

    Parameters
    ----------
    sampler : generators.Sampler
        Source of background events: a GAN, the empirical bootstrap or the reference
        Monte Carlo. Only ``sample(n, random_state=...)`` and ``features`` are used.
    scan : lee.CWoLaScan or lee.BumpScan
        The very scan object of the observed analysis. Each toy calls
        ``scan.run(X, features=sampler.features, random_state=seed)`` with its own
        seed; ``scan.get_params()`` enters the study's configuration.
    n_events : float
        Mean number of events per toy; each toy draws ``N ~ Poisson(n_events)``, so
        the counts in disjoint windows fluctuate independently, as in data.
    store : str, Path or None
        SQLite file for the results, created or resumed; None keeps them in memory.
    n_jobs : int
        Number of toys run at once (joblib convention: -1 means all cores). Ignored
        by ``"sequential"``; ``"dask"`` uses every worker of the cluster.
    backend : {"loky", "dask", "threading", "sequential"}
        ``"loky"``: worker processes on this machine. ``"dask"``: the workers of the
        running ``distributed.Client``. ``"threading"``: threads of this process,
        useful only when the scan releases the GIL. ``"sequential"``: one toy after
        the other, in this process.
    random_state : int, SeedSequence, Generator or None
        Root of all toys' streams. None draws fresh entropy for a new store and
        reuses the recorded one when resuming a store file.
    progress : bool
        Show a tqdm progress bar.

    Notes
    -----
    The store refuses to mix studies: it records the scan's type and parameters,
    the sampler's type, features and ``repr`` (and ``get_params()`` if it has one),
    ``n_events`` and the seed, and :class:`lee.store.ConfigurationMismatchError` is
    raised if any differ. Two *trained* generators of the same type and settings
    cannot be told apart this way; give each generator its own store.

    A toy that raises an exception is stored as failed with the message and the run
    goes on. A worker process that dies (out of memory, segmentation fault) stops
    the run; every toy finished before is kept, and ``run`` resumes.
    """

    def __init__(
        self,
        sampler,
        scan,
        n_events: float,
        store: str | Path | None = None,
        n_jobs: int = 1,
        backend: str = "loky",
        random_state=None,
        progress: bool = True,
    ):
        _check_interfaces(sampler, scan)
        if isinstance(n_events, bool) or not (
            isinstance(n_events, (int, float, np.integer, np.floating))
            and math.isfinite(n_events)
            and n_events > 0
        ):
            raise ValueError(
                f"n_events must be a positive number (the mean events per toy); got "
                f"{n_events!r}."
            )
        if backend not in BACKENDS:
            raise ValueError(
                f"backend must be one of {BACKENDS}; got {backend!r}. Use 'loky' on "
                "one machine and 'dask' on a dask.distributed cluster."
            )
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)):
            raise TypeError(f"n_jobs must be an int; got {type(n_jobs).__name__}.")
        if n_jobs == 0 or n_jobs < -1:
            raise ValueError(
                f"n_jobs must be a positive int or -1 (all cores); got {n_jobs}."
            )

        self.sampler = sampler
        self.scan = scan
        self.n_events = float(n_events)
        self.n_jobs = int(n_jobs)
        self.backend = backend
        self.progress = bool(progress)

        # Resuming a file without an explicit seed continues its recorded streams.
        recorded = None
        if random_state is None and store is not None:
            recorded = ToyStore.read_config(store)
        if recorded is not None:
            self.seed = ToySeed.from_config(recorded["random_state"])
        else:
            self.seed = ToySeed.from_random_state(random_state)

        self.config = {
            "scan": {"type": _qualname(scan), "params": scan.get_params()},
            "sampler": _describe_sampler(sampler),
            "n_events": self.n_events,
            "random_state": self.seed.to_config(),
        }
        self.store = ToyStore(store, self.config)

    # -- running --------------------------------------------------------------------

    def run(self, n_toys: int, *, retry_failed: bool = False) -> ToyResults:
        """Make sure toys ``0 .. n_toys - 1`` are stored, then return them.

        ``n_toys`` is a total: toys already in the store are skipped, so calling
        ``run(500)`` and then ``run(1000)`` runs 1000 toys in all, the same 1000 as a
        single ``run(1000)``.

        Parameters
        ----------
        n_toys : int
            Number of toys wanted in total.
        retry_failed : bool
            Run stored failed toys again. A toy's stream is fixed by its index, so
            this helps only with failures that did not come from the data (a
            transient resource problem, a bug since fixed).

        Returns
        -------
        ToyResults
            The toys with index below ``n_toys``.

        Raises
        ------
        KeyboardInterrupt
            Passed on after the toys already finished are safely stored.
        """
        if isinstance(n_toys, bool) or not isinstance(n_toys, (int, np.integer)):
            raise TypeError(f"n_toys must be an int; got {type(n_toys).__name__}.")
        if n_toys < 0:
            raise ValueError(f"n_toys must be >= 0; got {n_toys}.")

        if retry_failed:
            failed = [i for i in self.store.completed_indices("failed") if i < n_toys]
            self.store.delete(failed)
            logger.info("running %d failed toys again", len(failed))

        missing = self.store.missing_indices(int(n_toys))
        logger.info(
            "%d of %d toys already stored; running %d with backend %r",
            n_toys - len(missing),
            n_toys,
            len(missing),
            self.backend,
        )
        if missing:
            self._run_missing(missing)

        return self.results(n_toys)

    def _run_missing(self, missing: list[int]) -> None:
        outcomes = self._outcomes(missing)
        bar = tqdm(total=len(missing), disable=not self.progress, unit="toy")
        n_done = n_failed = 0
        try:
            for record in outcomes:
                self.store.add(record)
                n_done += 1
                bar.update()
                if record.status == "failed":
                    n_failed += 1
                    logger.warning("toy %d failed: %s", record.index, record.error)
                logger.info(
                    "toy %d done (%d of %d) in %.2f s",
                    record.index,
                    n_done,
                    len(missing),
                    record.elapsed,
                )
        except KeyboardInterrupt:
            logger.warning(
                "interrupted after %d of %d toys; the store holds every finished toy "
                "and run() resumes from there",
                n_done,
                len(missing),
            )
            raise
        finally:
            bar.close()
            outcomes.close()

        if n_failed:
            logger.warning(
                "%d of %d toys failed; see ToyResults.errors. Global p-values count "
                "them with conservative=True.",
                n_failed,
                n_done,
            )

    def _outcomes(self, missing: list[int]) -> Iterator[ToyRecord]:
        """Yield toy records as they finish, in any order."""
        features = list(self.sampler.features)
        args = (self.sampler, self.scan, features, self.n_events, self.seed)

        if self.backend == "sequential":
            with _single_thread():
                for index in missing:
                    yield _run_toy(index, *args, limit_threads=False)
            return

        if self.backend == "threading":
            # Thread limits are process-wide; set them once for all threads.
            with _single_thread(), parallel_config(backend="threading"):
                yield from _parallel(missing, args, self.n_jobs, limit_threads=False)
            return

        if self.backend == "dask":
            _check_dask_client()
            with parallel_config(backend="dask"):
                yield from _parallel(missing, args, -1, limit_threads=True)
            return

        with parallel_config(backend="loky", inner_max_num_threads=1):
            yield from _parallel(missing, args, self.n_jobs, limit_threads=True)

    # -- reading --------------------------------------------------------------------

    def results(self, n_toys: int | None = None) -> ToyResults:
        """The stored toys (those with index below ``n_toys`` if given)."""
        return ToyResults.from_records(self.store.records(n_toys), self.config)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> ToyRunner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"ToyRunner({type(self.sampler).__name__}, {type(self.scan).__name__}, "
            f"n_events={self.n_events:g}, store={self.store!r}, n_jobs={self.n_jobs}, "
            f"backend={self.backend!r})"
        )


@dataclasses.dataclass(frozen=True, repr=False)
class ToyResults:
    """Stored toys as arrays, ordered by toy index.

    Attributes
    ----------
    indices : ndarray of int, shape (n_toys,)
    status : ndarray of str, shape (n_toys,)
        ``"ok"`` or ``"failed"``.
    n_events : ndarray of float, shape (n_toys,)
        Events drawn by each toy; NaN where a toy failed before drawing.
    max_significances : ndarray, shape (n_toys,)
        Each toy's test statistic; NaN for failed toys and for toys whose windows
        were all invalid.
    significances : ndarray, shape (n_toys, n_windows, n_efficiencies)
        All local significances; a failed toy's rows are NaN.
    elapsed : ndarray, shape (n_toys,)
        Seconds per toy in its worker.
    errors : dict of int to str
        Error message of each failed toy, by index.
    config : dict
        The study's configuration, as recorded in the store.
    """

    indices: np.ndarray
    status: np.ndarray
    n_events: np.ndarray
    max_significances: np.ndarray
    significances: np.ndarray
    elapsed: np.ndarray
    errors: dict
    config: dict

    @classmethod
    def read(cls, path: str | Path) -> ToyResults:
        """The toys of the SQLite store at ``path``, without a sampler or a scan."""
        config = ToyStore.read_config(path)
        if config is None:
            raise FileNotFoundError(
                f"no toy store at {str(path)!r}; run the toys first (ToyRunner.run "
                "or lee toys)."
            )
        with ToyStore(path, config) as store:
            return cls.from_records(store.records(), config)

    @classmethod
    def from_records(cls, records: list[ToyRecord], config: dict) -> ToyResults:
        shapes = {r.significances.shape for r in records if r.status == "ok"}
        if len(shapes) > 1:
            raise ValueError(
                f"stored toys have significance arrays of shapes {sorted(shapes)}; the "
                "windows of one study must not depend on the data. Rerun the study "
                "with a fixed window set."
            )
        shape = shapes.pop() if shapes else (0, 0)

        significances = np.full((len(records), *shape), np.nan)
        for row, record in enumerate(records):
            if record.status == "ok":
                significances[row] = record.significances

        return cls(
            indices=np.array([r.index for r in records], dtype=np.int64),
            status=np.array([r.status for r in records], dtype="<U6"),
            n_events=np.array(
                [np.nan if r.n_events is None else r.n_events for r in records],
                dtype=np.float64,
            ),
            max_significances=np.array(
                [r.max_significance for r in records], dtype=np.float64
            ),
            significances=significances,
            elapsed=np.array([r.elapsed for r in records], dtype=np.float64),
            errors={r.index: r.error for r in records if r.status == "failed"},
            config=config,
        )

    @property
    def n_toys(self) -> int:
        """Number of stored toys, failed ones included."""
        return len(self.indices)

    @property
    def n_failed(self) -> int:
        """Number of toys that raised an exception."""
        return int(np.count_nonzero(self.status == "failed"))

    @property
    def n_invalid(self) -> int:
        """Number of toys that ran but whose windows were all invalid."""
        ok = self.status == "ok"
        return int(np.count_nonzero(ok & ~np.isfinite(self.max_significances)))

    @property
    def failure_rate(self) -> float:
        """Fraction of toys that failed; NaN when there are no toys."""
        return self.n_failed / self.n_toys if self.n_toys else math.nan

    def plot_max_significance(self, observed=None, **kwargs):
        """Histogram of the toys' max local significance; see :mod:`lee.plotting`."""
        from .plotting import plot_max_significance

        return plot_max_significance(self, observed, **kwargs)

    def plot_local_significances(self, **kwargs):
        """All local significances against N(0, 1); see :mod:`lee.plotting`."""
        from .plotting import plot_local_significances

        return plot_local_significances(self, **kwargs)

    def __repr__(self) -> str:
        return (
            f"ToyResults(n_toys={self.n_toys}, n_failed={self.n_failed}, "
            f"n_invalid={self.n_invalid}, shape={self.significances.shape[1:]})"
        )


# -- the work of one toy ----------------------------------------------------------


def _run_toy(
    index: int,
    sampler,
    scan,
    features: list[str],
    n_events: float,
    seed: ToySeed,
    *,
    limit_threads: bool,
) -> ToyRecord:
    """Draw, scan and summarise toy ``index``; exceptions become a failed record."""
    start = time.perf_counter()
    n_drawn = None
    context = _single_thread() if limit_threads else contextlib.nullcontext()
    try:
        with context:
            sample_seed, scan_seed = seed.child(index).spawn(2)
            rng = np.random.default_rng(sample_seed)
            n_drawn = int(rng.poisson(n_events))
            X = sampler.sample(n_drawn, random_state=rng)

            # A toy is background only by construction: a window that sculpts in
            # it is part of what the toy distribution calibrates, not something
            # for the user to act on. Silenced here, where the scan runs, so that
            # worker processes stay quiet too.
            scan_state = int(scan_seed.generate_state(1)[0])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SculptingWarning)
                result = scan.run(X, features=features, random_state=scan_state)
            significances = np.asarray(result.significances, dtype=np.float64)
            max_significance = float(result.max_significance)
    except Exception as err:
        return ToyRecord(
            index=index,
            status="failed",
            n_events=n_drawn,
            max_significance=math.nan,
            significances=None,
            error=_describe_error(err),
            elapsed=time.perf_counter() - start,
        )

    if significances.ndim == 1:
        significances = significances[:, None]

    return ToyRecord(
        index=index,
        status="ok",
        n_events=n_drawn,
        max_significance=max_significance,
        significances=significances,
        error=None,
        elapsed=time.perf_counter() - start,
    )


def _parallel(missing, args, n_jobs, *, limit_threads) -> Iterator[ToyRecord]:
    """Toys through joblib, yielded as they finish.

    ``batch_size=1`` sends each toy as its own task, so a finished toy reaches the
    parent (and the store) at once instead of waiting for a batch.
    """
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered", batch_size=1)
    tasks = (
        delayed(_run_toy)(index, *args, limit_threads=limit_threads)
        for index in missing
    )
    yield from parallel(tasks)


@contextlib.contextmanager
def _single_thread():
    """Limit BLAS/OpenMP pools, and torch if it is loaded, to one thread."""
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=1):
        if torch is not None:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(previous)


def _describe_error(err: BaseException) -> str:
    message = "".join(traceback.format_exception_only(type(err), err)).strip()
    frames = traceback.extract_tb(err.__traceback__)
    if frames:
        last = frames[-1]
        message += f" (at {Path(last.filename).name}:{last.lineno} in {last.name})"
    return message


# -- configuration ----------------------------------------------------------------


def _check_interfaces(sampler, scan) -> None:
    if not callable(getattr(sampler, "sample", None)) or not hasattr(
        sampler, "features"
    ):
        raise TypeError(
            f"sampler must have sample(n, random_state=...) and features, like every "
            f"generators.Sampler; got {type(sampler).__name__}."
        )
    for name in ("run", "get_params"):
        if not callable(getattr(scan, name, None)):
            raise TypeError(
                f"scan must have run(X, features=..., random_state=...) and "
                f"get_params(), like lee.CWoLaScan and lee.BumpScan; "
                f"{type(scan).__name__} has no {name}()."
            )


def _qualname(obj) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe_sampler(sampler) -> dict:
    description = {
        "type": _qualname(sampler),
        "features": list(sampler.features),
    }
    text = repr(sampler)
    if " at 0x" not in text:  # default object reprs change from run to run
        description["repr"] = text
    if callable(getattr(sampler, "get_params", None)):
        description["params"] = sampler.get_params()
    else:
        description["settings"] = _public_settings(sampler)

    return description


def _public_settings(obj) -> dict:
    """Constructor-like attributes (public, not fitted) that JSON can hold."""
    settings = {}
    for key, value in sorted(getattr(obj, "__dict__", {}).items()):
        if key.startswith("_") or key.endswith("_"):
            continue
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        try:
            settings[key] = json.loads(json.dumps(value, allow_nan=False))
        except (TypeError, ValueError):
            settings[key] = type(value).__name__
    return settings


def _check_dask_client() -> None:
    try:
        from distributed import get_client
    except ImportError as err:
        raise ImportError(
            "backend='dask' needs dask.distributed; install it with "
            "pip install 'lee-toys[dask]'."
        ) from err
    try:
        get_client()
    except ValueError as err:
        raise ValueError(
            "backend='dask' needs a running dask.distributed Client; create one "
            "before run(), e.g. Client(LocalCluster(threads_per_worker=1)) or "
            "Client('tcp://scheduler:8786') for an existing cluster."
        ) from err
