"""Carry out a :class:`~lee.study.Study`: events, scan, generator, toys, p-values.

Each step is one function that takes the study and returns the object the next step
needs, so the command line, the demo and a user's script run the same code:

>>> from lee.study import load_study                         # doctest: +SKIP
>>> study = load_study("study.toml")                         # doctest: +SKIP
>>> data = observed_events(study)                            # doctest: +SKIP
>>> scan = build_scan(study, data.features)                  # doctest: +SKIP
>>> observed = scan.run(data.X, features=data.features)      # doctest: +SKIP
>>> sampler = load_generator(study, data.features)           # doctest: +SKIP
>>> toys = run_toys(study, sampler, scan, len(data.X))       # doctest: +SKIP
>>> glob = global_significances(study, observed, toys)       # doctest: +SKIP

Every random step draws its own seed from ``study.seed`` (:func:`study_seeds`), so a
study file fixes the pseudo-data, the classifier trainings, the toys and the
fidelity comparison at once, and changing one step's use of randomness leaves the
others untouched.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings

import numpy as np

from generators import checkpoint
from generators.base import Sampler
from generators.data import EventSample, load_sample

from .injection import inject_signal
from .io import read_events
from .regions import SlidingWindows
from .scan import BumpScan, CWoLaScan
from .significance import global_significance
from .study import Study
from .toys import ToyRunner

__all__ = [
    "SEED_PURPOSES",
    "build_scan",
    "build_windows",
    "fidelity_report",
    "global_significances",
    "load_events",
    "load_generator",
    "make_runner",
    "observed_events",
    "observed_jobs",
    "run_study",
    "run_toys",
    "stored_toys",
    "study_seeds",
    "toy_mean_events",
    "train_generator",
]

logger = logging.getLogger(__name__)

#: The steps that draw random numbers, each with its own seed.
SEED_PURPOSES = ("data", "scan", "toys", "fidelity", "train")


def study_seeds(seed: int) -> dict[str, int]:
    """One independent 32-bit seed per step, spawned from the study's seed."""
    children = np.random.SeedSequence(seed).spawn(len(SEED_PURPOSES))

    return {
        purpose: int(child.generate_state(1)[0])
        for purpose, child in zip(SEED_PURPOSES, children, strict=True)
    }


# -- events ----------------------------------------------------------------------------


def load_events(spec: str, columns=None, *, name: str = "events") -> EventSample:
    """Events from a file or a bundled sample (``"bundled:NAME/SPLIT"``).

    Parameters
    ----------
    spec : str
        A path understood by :func:`lee.io.read_events`, or ``"bundled:NAME"`` /
        ``"bundled:NAME/SPLIT"`` for :func:`generators.load_sample`.
    columns : sequence of str, optional
        Columns to keep, in order; all by default.
    name : str
        What the events are, for error messages.
    """
    if not spec:
        raise ValueError(f"no file given for the {name}; set its key in the study.")
    if not spec.startswith("bundled:"):
        return read_events(spec, columns, name=name)

    sample_name, _, split = spec.removeprefix("bundled:").partition("/")
    sample = load_sample(sample_name, split=split or "all")
    if not columns:
        return sample
    unknown = [c for c in columns if c not in sample.features]
    if unknown:
        raise ValueError(
            f"unknown column{'s' if len(unknown) > 1 else ''} {unknown} in {spec!r}; "
            f"its columns are {list(sample.features)}."
        )
    index = [sample.index(c) for c in columns]

    return EventSample(
        X=sample.X[:, index],
        features=tuple(columns),
        units=tuple(sample.units[k] for k in index),
        metadata=sample.metadata,
    )


def observed_events(study: Study) -> EventSample:
    """The events the scan runs on: ``[data]``, subsampled and with signal injected.

    With ``data.n_events`` set, that many events are drawn without replacement;
    with ``data.signal`` and ``data.n_signal``, signal events (drawn without
    replacement) are mixed in. The metadata records both counts and the sources.
    """
    columns = study.columns or None
    data = load_events(study.resolve_events(study.data.path), columns, name="data")
    rng = np.random.default_rng(study_seeds(study.seed)["data"])

    X = data.X
    if study.data.n_events:
        if study.data.n_events > len(X):
            raise ValueError(
                f"data.n_events = {study.data.n_events} but {study.data.path!r} holds "
                f"{len(X)} events; lower data.n_events or set it to 0 for all."
            )
        X = X[np.sort(rng.choice(len(X), size=study.data.n_events, replace=False))]
    n_background = len(X)

    n_signal = study.data.n_signal if study.data.signal else 0
    if n_signal:
        signal = load_events(
            study.resolve_events(study.data.signal), data.features, name="signal"
        )
        X = inject_signal(X, signal.X, n_signal, random_state=rng)
    logger.info(
        "data: %d events (%d background, %d injected signal) with columns %s",
        len(X),
        n_background,
        n_signal,
        list(data.features),
    )

    metadata = {
        "source": study.data.path,
        "n_events": len(X),
        "n_background": n_background,
        "signal": study.data.signal if n_signal else "",
        "n_signal": n_signal,
    }
    return EventSample(X=X, features=data.features, units=data.units, metadata=metadata)


# -- scan ------------------------------------------------------------------------------


def build_windows(study: Study) -> SlidingWindows:
    """The ``[windows]`` section as a :class:`lee.SlidingWindows`."""
    w = study.windows

    return SlidingWindows(
        scan_range=tuple(w.scan_range),
        width=w.width,
        step=w.step,
        sideband=w.sideband,
        bins=w.bins,
        spacing=w.spacing,
    )


def build_scan(study: Study, features) -> CWoLaScan | BumpScan:
    """The ``[scan]`` section as a scan, checked against the event columns."""
    s = study.scan
    features = list(features)
    needed = [("scan.scan_feature", s.scan_feature)]
    if s.kind == "cwola":
        needed += [("scan.features", f) for f in s.features]
    for key, column in needed:
        if column not in features:
            raise ValueError(
                f"{key} names the column {column!r}, which the events do not have; "
                f"their columns are {features}."
            )

    windows = build_windows(study)
    seed = study_seeds(study.seed)["scan"]
    if s.kind == "bump":
        return BumpScan(
            windows, scan_feature=s.scan_feature, p_value=s.p_value, random_state=seed
        )

    return CWoLaScan(
        windows,
        scan_feature=s.scan_feature,
        features=s.features or None,
        classifier=s.classifier,
        n_folds=s.n_folds,
        efficiencies=s.efficiencies,
        p_value=s.p_value,
        random_state=seed,
    )


# -- generator -------------------------------------------------------------------------


def load_generator(study: Study, features=None) -> Sampler:
    """The sampler named by ``generator.checkpoint``, checked against ``features``.

    ``"pretrained:NAME"`` loads a shipped checkpoint; anything else is a file saved
    by ``Sampler.save`` (``lee train`` writes one).

    Raises
    ------
    FileNotFoundError
        If the checkpoint file does not exist.
    ValueError
        If the file is not a sampler checkpoint, or if the sampler's columns differ
        from ``features`` (an incompatible checkpoint).
    """
    spec = study.generator.checkpoint
    if spec.startswith("pretrained:"):
        sampler = checkpoint.pretrained(spec.removeprefix("pretrained:"))
        where = spec
    else:
        path = study.resolve(spec)
        where = str(path)
        try:
            sampler = checkpoint.load(path)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"generator.checkpoint {str(path)!r} does not exist; train one with "
                "`lee train` or point generator.checkpoint at a saved sampler."
            ) from None

    if features is not None and tuple(sampler.features) != tuple(features):
        raise ValueError(
            f"incompatible checkpoint {where!r}: its {type(sampler).__name__} makes "
            f"events with columns {list(sampler.features)}, but the events have "
            f"{list(features)}. Set `columns` in the study to the generator's "
            "columns, in its order, or train a generator on these columns."
        )
    logger.info("generator: %s from %s", type(sampler).__name__, where)

    return sampler


# -- toys and global significance ------------------------------------------------------


def toy_mean_events(study: Study, n_observed: int | None) -> float:
    """``toys.n_events``, or the observed number of events when it is 0."""
    if study.toys.n_events:
        return float(study.toys.n_events)
    if not n_observed:
        raise ValueError(
            "toys.n_events is 0 (as many events as the data) but the study has no "
            "data; set data.path or toys.n_events."
        )

    return float(n_observed)


def observed_jobs(study: Study, scan) -> dict:
    """Keyword arguments that spread the observed CWoLa scan over the toy workers.

    The observed scan runs before any toy, so its windows can be trained on the
    ``toys.n_jobs`` cores (loky backend only; a dask cluster is not used for it).
    The result is the same for any number of workers. Toys themselves always
    scan with one process each.
    """
    if not isinstance(scan, CWoLaScan) or study.toys.backend != "loky":
        return {}

    return {"n_jobs": study.toys.n_jobs}


def make_runner(study: Study, sampler, scan, n_events: float) -> ToyRunner:
    """The :class:`lee.ToyRunner` of the study, on its store."""
    store = study.store_path
    store.parent.mkdir(parents=True, exist_ok=True)

    return ToyRunner(
        sampler,
        scan,
        n_events=n_events,
        store=store,
        n_jobs=study.toys.n_jobs,
        backend=study.toys.backend,
        random_state=study_seeds(study.seed)["toys"],
        progress=study.progress,
    )


def run_toys(study: Study, sampler, scan, n_events: float, n_toys: int | None = None):
    """Run (or resume) the study's toys; returns :class:`lee.ToyResults`.

    ``n_toys`` defaults to ``toys.n_toys``. With ``toys.backend = "dask"`` a
    client is connected to ``toys.scheduler``, or to a local cluster of
    ``toys.n_jobs`` single-threaded workers when no address is given. A
    :class:`KeyboardInterrupt` leaves every finished toy in the store and is
    passed on.
    """
    n_toys = study.toys.n_toys if n_toys is None else n_toys
    with _dask_client(study), make_runner(study, sampler, scan, n_events) as runner:
        return runner.run(n_toys)


def stored_toys(study: Study, sampler, scan, n_events: float):
    """The toys already in the study's store, without running any."""
    with make_runner(study, sampler, scan, n_events) as runner:
        return runner.results()


def global_significances(study: Study, observed, toys) -> dict:
    """Global significance by every method of ``[significance]``.

    Returns a dict from method to :class:`lee.significance.GlobalSignificance`,
    or to the error message when a method cannot be evaluated on these toys (too
    few toys above zero for a trials-factor fit, for instance). Warnings are logged.
    """
    results = {}
    for method in study.significance.methods:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                results[method] = global_significance(
                    observed, toys, method=method, cl=study.significance.cl
                )
            except (ValueError, RuntimeError) as error:
                logger.warning("%s global significance failed: %s", method, error)
                results[method] = f"{type(error).__name__}: {error}"
        for w in caught:
            logger.warning("%s: %s", method, w.message)

    return results


@contextlib.contextmanager
def _dask_client(study: Study):
    if study.toys.backend != "dask":
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError(
            "toys.backend = 'dask' needs dask.distributed: pip install 'lee-toys[dask]'"
        ) from None

    if study.toys.scheduler:
        with Client(study.toys.scheduler) as client:
            yield client
        return
    n_workers = None if study.toys.n_jobs == -1 else study.toys.n_jobs
    with (
        LocalCluster(n_workers=n_workers, threads_per_worker=1) as cluster,
        Client(cluster) as client,
    ):
        yield client


# -- fidelity and the whole study ------------------------------------------------------


def fidelity_report(study: Study, sampler):
    """Compare the generator with the ``[fidelity]`` reference events.

    Draws as many events from ``sampler`` as the reference holds (or
    ``fidelity.n_events`` of each) and returns
    :func:`generators.fidelity.compare`'s report, sliced in the scan variable.
    """
    from generators import fidelity

    reference = load_events(
        study.resolve_events(study.fidelity.reference),
        list(sampler.features),
        name="fidelity reference",
    )
    rng = np.random.default_rng(study_seeds(study.seed)["fidelity"])
    X = reference.X
    n = study.fidelity.n_events or len(X)
    if n < len(X):
        X = X[np.sort(rng.choice(len(X), size=n, replace=False))]
    generated = sampler.sample(len(X), random_state=rng)
    logger.info("fidelity: %d reference and %d generated events", len(X), len(X))

    return fidelity.compare(
        X,
        generated,
        features=sampler.features,
        slice_by=study.scan.scan_feature,
        random_state=rng,
    )


def run_study(
    study: Study,
    *,
    run: bool = True,
    sampler=None,
    generator: dict | None = None,
    with_fidelity: bool | None = None,
    notes: list | None = None,
):
    """The whole study: data, observed scan, toys, global significance, report.

    Parameters
    ----------
    study : Study
    run : bool
        Run the missing toys up to ``toys.n_toys``; with False only the toys
        already in the store are used (``lee report``).
    sampler : Sampler, optional
        The generator, when the caller already holds it; loaded from
        ``generator.checkpoint`` otherwise.
    generator : dict, optional
        Description of the generator for the report.
    with_fidelity : bool, optional
        Compare the generator with ``fidelity.reference``; by default when that key
        is set.
    notes : list of str, optional
        Notes for the report (fallbacks taken by the caller).

    Returns
    -------
    lee.report.StudyReport
        Not yet written; call its ``write(study.out_dir)``.
    """
    from .report import StudyReport

    timings = {}
    notes = list(notes or [])
    start = time.perf_counter()

    def lap(step: str, since: float) -> float:
        now = time.perf_counter()
        timings[step] = now - since
        return now

    # Data and the observed scan.
    t = time.perf_counter()
    data = observed_events(study)
    scan = build_scan(study, data.features)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        observed = scan.run(
            data.X, features=data.features, **observed_jobs(study, scan)
        )
    notes += [f"observed scan: {w.message}" for w in caught]
    logger.info(
        "observed scan: largest local Z %.2f in %d windows",
        observed.max_significance,
        len(observed.windows),
    )
    t = lap("observed_scan", t)

    # The generator, and how close its events are to the reference.
    if sampler is None:
        sampler = load_generator(study, data.features)
    elif tuple(sampler.features) != tuple(data.features):
        raise ValueError(
            f"the generator makes columns {list(sampler.features)} but the data has "
            f"{list(data.features)}; they must match in name and order."
        )
    generator = dict(generator or {})
    generator.setdefault("type", type(sampler).__name__)
    generator.setdefault("checkpoint", study.generator.checkpoint)
    generator.setdefault(
        "description", f"{generator['type']} from {generator['checkpoint']}"
    )
    fidelity = None
    if with_fidelity is None:
        with_fidelity = bool(study.fidelity.reference)
    if with_fidelity:
        fidelity = fidelity_report(study, sampler)
        t = lap("fidelity", t)

    # Toys and the global significance.
    n_events = toy_mean_events(study, len(data.X))
    if run:
        toys = run_toys(study, sampler, scan, n_events)
    else:
        toys = stored_toys(study, sampler, scan, n_events)
        if toys.n_toys < study.toys.n_toys:
            notes.append(
                f"the store holds {toys.n_toys} of the {study.toys.n_toys} toys "
                "wanted; run `lee toys` to add the rest"
            )
    t = lap("toys", t)
    significances = global_significances(study, observed, toys)
    timings["total"] = time.perf_counter() - start

    return StudyReport(
        study=study,
        observed=observed,
        toys=toys,
        significances=significances,
        seeds=study_seeds(study.seed),
        data=data.metadata,
        generator=generator,
        timings=timings,
        fidelity=fidelity,
        notes=notes,
    )


# -- training --------------------------------------------------------------------------

_SAMPLER_KINDS = {
    "gan": "GAN",
    "wgan": "WGAN",
    "wgangp": "WGANGP",
    "conditional-wgangp": "ConditionalWGANGP",
    "empirical": "EmpiricalSampler",
}


def train_generator(study: Study, events: EventSample):
    """Fit the ``[generator]`` sampler to ``events`` and save it.

    Parameters
    ----------
    study : Study
        ``generator.kind``, ``preset``, ``condition``, ``epochs``, ``max_time``,
        ``device`` and ``weights`` (a column of ``events``) set the training; the
        sampler is saved to ``generator.checkpoint``.
    events : EventSample
        Training events; the weight column, if any, is split off.

    Returns
    -------
    (Sampler, Path)
        The fitted sampler and where it was saved.
    """
    import generators.empirical
    import generators.gan

    g = study.generator
    if g.checkpoint.startswith("pretrained:"):
        raise ValueError(
            f"generator.checkpoint is {g.checkpoint!r}, a shipped model; set it to "
            "the file the trained generator is saved to, e.g. generator.pt."
        )
    X, features, weights = events.X, list(events.features), None
    if g.weights:
        if g.weights not in features:
            raise ValueError(
                f"generator.weights names the column {g.weights!r}, which the "
                f"training events do not have; their columns are {features}."
            )
        k = features.index(g.weights)
        weights = X[:, k]
        X = np.delete(X, k, axis=1)
        features.pop(k)
    seed = study_seeds(study.seed)["train"]

    if g.kind == "empirical":
        sampler = generators.empirical.EmpiricalSampler(features=features)
    else:
        options = {
            "preset": g.preset,
            "random_state": seed,
            "progress": study.progress,
        }
        if g.epochs:
            options["max_epochs"] = g.epochs
        if g.max_time:
            options["max_time"] = g.max_time
        if g.device:
            options["device"] = g.device
        if g.kind == "conditional-wgangp":
            if not g.condition:
                raise ValueError(
                    "generator.kind = 'conditional-wgangp' needs generator.condition, "
                    f"the column to condition on (one of {features})."
                )
            options["condition"] = g.condition
        cls = getattr(generators.gan, _SAMPLER_KINDS[g.kind])
        sampler = cls(features=features, **options)
    sampler.fit(X, weights=weights)

    path = study.resolve(g.checkpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    sampler.save(path)
    logger.info("saved %s to %s", type(sampler).__name__, path)

    return sampler, path
