"""The ``lee`` command line.

::

    lee demo                     the whole chain on the bundled samples
    lee train   [STUDY]          fit a generator to your events
    lee fidelity [STUDY]         compare a generator with reference events
    lee toys    STUDY            run or resume a toy study
    lee report  STUDY            rebuild the report from the toy store
    lee init    STUDY            write a study file with every key at its default

A study is a TOML file (:mod:`lee.study`). Every option sets one of its keys (the
option's help names it), ``--set KEY=VALUE`` sets any key, and the command line
wins over the file.

Exit codes: 0 success; 1 the run failed (bad data, an unknown column, an
incompatible checkpoint, a toy store of another study, an interrupted toy run, or
an internal error, reported in one line; ``-vv`` shows its traceback); 2 usage
error (an unknown option, a missing file, a malformed study file or value).
"""

from __future__ import annotations

import functools
import logging
import shlex
import sys
from pathlib import Path

import click

from .store import ConfigurationMismatchError
from .study import Study, StudyError, load_study, parse_value

__all__ = ["main"]

logger = logging.getLogger(__name__)

# Loggers whose INFO messages are the command line's narration of a run.
_NARRATORS = ("lee.cli", "lee.pipeline", "lee.demo", "lee.report")


class StudyUsageError(click.ClickException):
    """A malformed study file, option value or missing file: exit code 2."""

    exit_code = 2


# -- shared plumbing -------------------------------------------------------------------


def _setup_logging(verbose: int, quiet: bool) -> dict:
    """Narration on stderr; -v shows every INFO message, -vv DEBUG.

    Handlers go on the package loggers, not the root, so that a program calling
    the command line keeps its own logging set-up. Returns the previous state of
    every logger touched, for :func:`_restore_logging`.
    """
    level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose else 30
    narration = logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_NarrationFormatter())

    touched = ("lee", "generators", *_NARRATORS)
    previous = {
        name: (log.level, list(log.handlers))
        for name, log in ((n, logging.getLogger(n)) for n in touched)
    }
    for name in ("lee", "generators"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(level)
    for name in _NARRATORS:
        logging.getLogger(name).setLevel(min(narration, level))

    return previous


def _restore_logging(previous: dict) -> None:
    for name, (level, handlers) in previous.items():
        log = logging.getLogger(name)
        log.setLevel(level)
        log.handlers[:] = handlers


class _NarrationFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if record.levelno == logging.INFO and record.name in _NARRATORS:
            return f"lee: {record.getMessage()}"
        return f"{record.levelname} {record.name}: {record.getMessage()}"


def _reports_errors(command):
    """Turn the errors a user can act on into a message and an exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        debug = logging.getLogger("lee").getEffectiveLevel() == logging.DEBUG
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit):
            # Exit (ctx.exit) is a RuntimeError: it must pass untouched, not be
            # reported as an error below.
            raise
        except (StudyError, FileNotFoundError) as error:
            if debug:
                raise
            raise StudyUsageError(str(error)) from None
        except ConfigurationMismatchError as error:
            if debug:
                raise
            raise click.ClickException(
                f"{error}\nThe toy store belongs to another study; set toys.store "
                "(--store) to a new file or restore the study's settings."
            ) from None
        except (ValueError, TypeError, ImportError, RuntimeError, OSError) as error:
            if debug:
                raise
            raise click.ClickException(str(error)) from None
        except Exception as error:
            # Anything else is a bug of lee-toys, not of the input: say so in one
            # line and keep the traceback for -vv, where it is re-raised.
            if debug:
                raise
            raise click.ClickException(
                f"internal error ({type(error).__name__}: {error}); rerun with -vv "
                "for the traceback and report it."
            ) from None

    return wrapper


def _study_from(path: str | None, overrides: dict, sets: tuple[str, ...]) -> Study:
    """The study file (or the defaults) with the command line's keys on top."""
    study = load_study(path) if path else Study()
    for item in sets:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise StudyError(
                f"--set needs KEY=VALUE (e.g. --set toys.n_toys=500); got {item!r}."
            )
        overrides = {key.strip(): parse_value(text.strip()), **overrides}

    return study.with_overrides(overrides) if overrides else study


def _given(options: dict[str, str], values: dict) -> dict:
    """Study keys of the options typed on the command line.

    Paths are made absolute, since a study resolves relative paths against its
    own folder, not the working directory.
    """
    overrides = {}
    for name, key in options.items():
        value = values.get(name)
        if value is None:
            continue
        if (
            name in _PATH_OPTIONS
            and value
            and not str(value).startswith(("bundled:", "pretrained:"))
        ):
            value = str(Path(value).expanduser().absolute())
        if name == "columns":
            value = [c.strip() for c in value.split(",") if c.strip()]
        if name == "progress":
            value = bool(value)
        overrides[key] = value

    return overrides


def _resume_command(ctx: click.Context) -> str:
    """The command line that was typed, rebuilt from the parameters given."""
    words = ["lee", ctx.info_name]
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name)
        if source is not click.core.ParameterSource.COMMANDLINE:
            continue
        value = ctx.params[param.name]
        if isinstance(param, click.Argument):
            words.append(str(Path(value).absolute()))
            continue
        name = max(param.opts, key=len)  # the long form reads better
        if param.is_flag:
            words.append(name if value else max(param.secondary_opts, key=len))
        elif param.multiple:
            for v in value:
                words += [name, str(v)]
        else:
            words += [name, str(value)]

    return shlex.join(words)


_PATH_OPTIONS = {
    "out",
    "store",
    "checkpoint",
    "events",
    "reference",
    "data",
    "fidelity_out",
}

_STUDY_ARGUMENT = click.argument(
    "study", required=False, type=click.Path(dir_okay=False), metavar="[STUDY]"
)
_SET_OPTION = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set any study key as the study file would, e.g. --set scan.n_folds=3 "
    "(repeatable).",
)
_SEED_OPTION = click.option(
    "--seed", type=click.IntRange(min=0), help="Master seed.  [key: seed]"
)
_PROGRESS_OPTION = click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress bars.  [key: progress]",
)


# -- the group -------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lee-toys")
@click.option("-v", "--verbose", count=True, help="More logging: -v INFO, -vv DEBUG.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and results.")
def lee(verbose: int, quiet: bool):
    """Global significance of weakly supervised bump hunts from generator toys.

    Start with `lee demo --quick`, then describe your own study in a TOML file
    (`lee init study.toml` writes one with every key).
    """
    previous = _setup_logging(verbose, quiet)
    click.get_current_context().call_on_close(lambda: _restore_logging(previous))


# -- demo ------------------------------------------------------------------------------


@lee.command()
@click.option(
    "--toys", type=click.IntRange(min=1), help="Number of toys (default 750, quick 20)."
)
@click.option(
    "--signal",
    type=click.IntRange(min=0),
    help="Injected H -> S h signal events (default 300, quick 60).",
)
@click.option(
    "--out",
    default="lee_demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Report folder.",
)
@click.option(
    "--jobs", default=2, show_default=True, type=int, help="Parallel toy workers."
)
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--quick", is_flag=True, help="A one-minute version (the one CI runs).")
@_PROGRESS_OPTION
@_reports_errors
def demo(toys, signal, out, jobs, seed, quick, progress):
    """Run the whole chain on the bundled samples and write a report folder.

    Pseudo-data are ttbar events from the test split with injected H -> S h
    signal; the toys come from the shipped WGAN-GP; the CWoLa scan runs in m_bb;
    the global significance is computed by all three methods. The folder holds
    report.json, the figures and a study.toml that `lee toys` and `lee report`
    rerun.
    """
    from .demo import demo_study, run_demo

    if jobs == 0 or jobs < -1:
        raise click.BadParameter(
            f"must be >= 1 or -1; got {jobs}.", param_hint="--jobs"
        )
    study = demo_study(
        n_toys=toys,
        n_signal=signal,
        out=str(Path(out).absolute()),
        n_jobs=jobs,
        seed=seed,
        quick=quick,
        progress=True if progress is None else progress,
    )
    try:
        report = run_demo(study)
    except KeyboardInterrupt:
        _interrupted(click.get_current_context(), study)

    click.echo(f"\n{report.study.name}: {report.study.out_dir}\n")
    click.echo(report.summary())
    for note in report.notes:
        click.echo(f"note: {note}")


# -- train -----------------------------------------------------------------------------

_TRAIN_OPTIONS = {
    "events": "generator.events",
    "columns": "columns",
    "weights": "generator.weights",
    "kind": "generator.kind",
    "preset": "generator.preset",
    "condition": "generator.condition",
    "epochs": "generator.epochs",
    "max_time": "generator.max_time",
    "device": "generator.device",
    "checkpoint": "generator.checkpoint",
    "seed": "seed",
    "progress": "progress",
}


@lee.command()
@_STUDY_ARGUMENT
@click.option(
    "--events",
    help="Training events: .npz, .csv, .parquet, file.root:tree or "
    "bundled:NAME/SPLIT.  [key: generator.events]",
)
@click.option("--columns", help="Comma-separated columns to train on.  [key: columns]")
@click.option(
    "--weights", help="Column of per-event weights.  [key: generator.weights]"
)
@click.option(
    "--kind",
    type=click.Choice(["gan", "wgan", "wgangp", "conditional-wgangp", "empirical"]),
    help="Sampler to fit.  [key: generator.kind]",
)
@click.option(
    "--preset",
    type=click.Choice(["default", "paper"]),
    help="Hyper-parameter preset.  [key: generator.preset]",
)
@click.option(
    "--condition",
    help="conditional-wgangp: the condition column.  [key: generator.condition]",
)
@click.option("--epochs", type=click.IntRange(min=1), help="[key: generator.epochs]")
@click.option(
    "--max-time",
    type=click.FloatRange(min=0),
    help="Training budget in seconds.  [key: generator.max_time]",
)
@click.option(
    "--device", help="torch device, e.g. cpu or cuda.  [key: generator.device]"
)
@click.option(
    "-o",
    "--checkpoint",
    help="Where to save the generator.  [key: generator.checkpoint]",
)
@_SEED_OPTION
@_PROGRESS_OPTION
@_SET_OPTION
@_reports_errors
def train(study, sets, **options):
    """Fit a generator to your events and save it.

    Reads generator.events (with `columns` and generator.weights), fits the
    sampler of generator.kind, and saves it to generator.checkpoint, which
    `lee fidelity` and `lee toys` then read.
    """
    from .pipeline import load_events, study_seeds, train_generator

    study = _study_from(study, _given(_TRAIN_OPTIONS, options), sets)
    g = study.generator
    if not g.events:
        raise StudyError(
            "lee train needs training events: pass --events FILE or set "
            "generator.events in the study.",
            "generator.events",
        )
    columns = study.columns or None
    if columns and g.weights:
        columns = [*columns, g.weights]
    events = load_events(
        study.resolve_events(g.events), columns, name="training events"
    )
    logger.info(
        "training a %s on %d events with columns %s",
        g.kind,
        len(events.X),
        list(events.features),
    )

    sampler, path = train_generator(study, events)
    click.echo(
        f"saved {type(sampler).__name__} ({len(sampler.features)} columns, seed "
        f"{study_seeds(study.seed)['train']}) to {path}"
    )


# -- fidelity --------------------------------------------------------------------------

_FIDELITY_OPTIONS = {
    "checkpoint": "generator.checkpoint",
    "reference": "fidelity.reference",
    "n_events": "fidelity.n_events",
    "fidelity_out": "fidelity.out",
    "scan_feature": "scan.scan_feature",
    "seed": "seed",
}


@lee.command()
@_STUDY_ARGUMENT
@click.option(
    "-g",
    "--checkpoint",
    help="Saved generator, or pretrained:NAME.  [key: generator.checkpoint]",
)
@click.option(
    "--reference",
    help="Reference events the generator never saw.  [key: fidelity.reference]",
)
@click.option(
    "-n",
    "--n-events",
    type=click.IntRange(min=0),
    help="Events of each kind compared (0: all).  [key: fidelity.n_events]",
)
@click.option(
    "--out",
    "fidelity_out",
    help="Folder for fidelity.json and the figures.  [key: fidelity.out]",
)
@click.option(
    "--scan-feature",
    help="Column sliced for per-slice metrics.  [key: scan.scan_feature]",
)
@_SEED_OPTION
@_SET_OPTION
@_reports_errors
def fidelity(study, sets, **options):
    """Compare a generator with reference events: tables, C2ST, figures."""
    import json

    from .pipeline import fidelity_report, load_generator

    study = _study_from(study, _given(_FIDELITY_OPTIONS, options), sets)
    if not study.fidelity.reference:
        raise StudyError(
            "lee fidelity needs reference events: pass --reference FILE or set "
            "fidelity.reference in the study.",
            "fidelity.reference",
        )
    sampler = load_generator(study)
    report = fidelity_report(study, sampler)

    outdir = study.resolve(study.fidelity.out)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "fidelity.json").write_text(json.dumps(report.to_dict(), indent=1))
    report.plot(outdir)

    click.echo(report.format_table())
    click.echo(
        f"\nC2ST AUC {report.c2st_auc:.3f} +- {report.c2st_auc_err:.3f} "
        "(0.5: indistinguishable)"
    )
    click.echo(f"largest correlation difference {report.max_abs_corr_diff:.3f}")
    for row in report.slices:
        if "c2st_auc" in row:
            click.echo(
                f"  {report.slice_by} in [{row['low']:.4g}, {row['high']:.4g}): "
                f"C2ST AUC {row['c2st_auc']:.3f} +- {row['c2st_auc_err']:.3f}"
            )
    click.echo(f"report and figures in {outdir}")


# -- toys ------------------------------------------------------------------------------

_TOYS_OPTIONS = {
    "n_toys": "toys.n_toys",
    "n_events": "toys.n_events",
    "store": "toys.store",
    "jobs": "toys.n_jobs",
    "backend": "toys.backend",
    "scheduler": "toys.scheduler",
    "checkpoint": "generator.checkpoint",
    "data": "data.path",
    "seed": "seed",
    "progress": "progress",
}


@lee.command()
@click.argument("study", type=click.Path(dir_okay=False))
@click.option(
    "-n",
    "--toys",
    "n_toys",
    type=click.IntRange(min=0),
    help="Toys wanted in total; a rerun adds only the missing ones.  "
    "[key: toys.n_toys]",
)
@click.option(
    "--events",
    "n_events",
    type=click.IntRange(min=0),
    help="Mean events per toy (0: as many as the data).  [key: toys.n_events]",
)
@click.option("--store", help="SQLite toy store.  [key: toys.store]")
@click.option("-j", "--jobs", type=int, help="Parallel workers.  [key: toys.n_jobs]")
@click.option(
    "--backend",
    type=click.Choice(["loky", "dask"]),
    help="joblib backend.  [key: toys.backend]",
)
@click.option("--scheduler", help="dask scheduler address.  [key: toys.scheduler]")
@click.option(
    "-g", "--checkpoint", help="Saved generator.  [key: generator.checkpoint]"
)
@click.option("--data", help="Observed events.  [key: data.path]")
@_SEED_OPTION
@_PROGRESS_OPTION
@_SET_OPTION
@_reports_errors
def toys(study, sets, **options):
    """Run or resume the toy study of STUDY.

    Each toy draws background events from the generator and runs the study's
    whole scan on them. Results go to the SQLite store one toy at a time; Ctrl-C
    keeps every finished toy, and the same command resumes.
    """
    from .pipeline import (
        build_scan,
        load_generator,
        observed_events,
        run_toys,
        toy_mean_events,
    )

    ctx = click.get_current_context()
    study = _study_from(study, _given(_TOYS_OPTIONS, options), sets)

    # The toys need the data's columns and size, not its scan.
    features, n_observed = None, None
    if study.data.path:
        data = observed_events(study)
        features, n_observed = data.features, len(data.X)
    sampler = load_generator(study, features)
    scan = build_scan(study, sampler.features)
    n_events = toy_mean_events(study, n_observed)
    logger.info(
        "%d toys of %g events on average, store %s",
        study.toys.n_toys,
        n_events,
        study.store_path,
    )

    try:
        results = run_toys(study, sampler, scan, n_events)
    except KeyboardInterrupt:
        _interrupted(ctx, study)

    click.echo(
        f"{results.n_toys} toys in {study.store_path} ({results.n_failed} failed, "
        f"{results.n_invalid} without a valid window)"
    )
    if results.n_failed:
        first = min(results.errors)
        click.echo(f"first failure, toy {first}: {results.errors[first]}")
    if study.data.path:
        click.echo(f"next: lee report {shlex.quote(str(Path(ctx.params['study'])))}")


def _interrupted(ctx: click.Context, study: Study):
    """Say what the store holds and how to resume; exit with code 1."""
    from .store import ToyStore

    held = "the finished toys"
    config = (
        ToyStore.read_config(study.store_path) if study.store_path.exists() else None
    )
    if config is not None:
        with ToyStore(study.store_path, config) as store:
            held = f"{len(store.completed_indices())} toys"
    click.echo(
        f"\ninterrupted: {study.store_path} holds {held}, each complete; nothing "
        "half-written was kept.\nresume with:\n  " + _resume_command(ctx),
        err=True,
    )
    ctx.exit(1)


# -- report ----------------------------------------------------------------------------

_REPORT_OPTIONS = {
    "store": "toys.store",
    "out": "out",
    "checkpoint": "generator.checkpoint",
    "data": "data.path",
}


@lee.command()
@click.argument("study", type=click.Path(dir_okay=False))
@click.option("--store", help="SQLite toy store.  [key: toys.store]")
@click.option("--out", help="Report folder.  [key: out]")
@click.option(
    "-g", "--checkpoint", help="Saved generator.  [key: generator.checkpoint]"
)
@click.option("--data", help="Observed events.  [key: data.path]")
@click.option(
    "--fidelity/--no-fidelity",
    "with_fidelity",
    default=None,
    help="Include the generator's fidelity report (default: when "
    "fidelity.reference is set).",
)
@_SET_OPTION
@_reports_errors
def report(study, sets, with_fidelity, **options):
    """Rebuild the report of STUDY from its toy store (no toy is run).

    Scans the observed events again (the scan is seeded, so the result is the
    same), reads the stored toys, and writes report.json, the figures and the
    summary table to the out folder.
    """
    from .pipeline import run_study

    study = _study_from(study, _given(_REPORT_OPTIONS, options), sets)
    if not study.data.path:
        raise StudyError("the report needs the observed events; set data.path.")
    if not study.store_path.exists():
        raise FileNotFoundError(
            f"no toy store at {study.store_path}; run `lee toys` first."
        )

    result = run_study(study, run=False, with_fidelity=with_fidelity)
    result.write(study.out_dir)
    click.echo(f"{study.name}: {study.out_dir}\n")
    click.echo(result.summary())
    for note in result.notes:
        click.echo(f"note: {note}")


# -- init ------------------------------------------------------------------------------


@lee.command()
@click.argument("study", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@_SET_OPTION
@_reports_errors
def init(study, force, sets):
    """Write a study file with every key at its default, each explained."""
    path = Path(study)
    if path.exists() and not force:
        raise StudyUsageError(f"{path} exists; pass --force to overwrite it.")
    _study_from(None, {}, sets).write(path)
    click.echo(f"wrote {path}; edit it, then run `lee toys {shlex.quote(str(path))}`")


def main() -> None:
    """Console-script entry point (``lee``)."""
    lee(prog_name="lee")
