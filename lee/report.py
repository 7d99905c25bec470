"""The report folder of a toy study and its printed summary.

A :class:`StudyReport` gathers what a study produced: the observed scan, the toys,
the global significance by each method, and how they were made (the study file,
seeds, generator, timings, package versions). :meth:`StudyReport.write` fills a
folder::

    report.json                   every number, the configuration, versions, seeds
    study.toml                    the study, rerunnable with `lee toys` / `lee report`
    scan.png                      best window's selected spectra, local Z per window
    toys_max_significance.png     the toys' test statistic with the observed value
    global_vs_local.png           global p-value against local Z, every method
    local_significances.png       all local Z of the toys against N(0, 1)
    fidelity/                     the generator's fidelity report, when one was made

and :meth:`StudyReport.summary` is the short table the command line prints.
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import json
import logging
import math
import platform
from pathlib import Path

import numpy as np

from .plotting import (
    plot_global_significance,
    plot_local_significances,
    plot_max_significance,
)
from .study import Study

__all__ = ["StudyReport", "package_versions"]

logger = logging.getLogger(__name__)

_PACKAGES = (
    "lee-toys",
    "numpy",
    "scipy",
    "scikit-learn",
    "torch",
    "iminuit",
    "joblib",
    "matplotlib",
    "pyhf",
)


def package_versions() -> dict[str, str | None]:
    """Versions of Python and of the packages a result depends on."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None

    return versions


@dataclasses.dataclass
class StudyReport:
    """Everything a toy study produced, ready to be written and summarised.

    Attributes
    ----------
    study : Study
    observed : ScanResult
        The scan of the observed events.
    toys : ToyResults
    significances : dict
        Method -> :class:`lee.significance.GlobalSignificance`, or the error message
        of a method that could not be evaluated.
    seeds : dict
        The per-step seeds derived from ``study.seed``.
    data : dict
        How the observed events were made (counts, sources).
    generator : dict
        Which sampler made the toys, and any fallback taken.
    timings : dict
        Wall-clock seconds per step.
    fidelity : FidelityReport or None
        The generator against held-out reference events.
    notes : list of str
        Warnings a reader must see (fallbacks, sculpting, extrapolation).
    """

    study: Study
    observed: object
    toys: object
    significances: dict
    seeds: dict
    data: dict = dataclasses.field(default_factory=dict)
    generator: dict = dataclasses.field(default_factory=dict)
    timings: dict = dataclasses.field(default_factory=dict)
    fidelity: object | None = None
    notes: list = dataclasses.field(default_factory=list)

    # -- numbers -----------------------------------------------------------------------

    def to_dict(self) -> dict:
        """Every number of the report, JSON-ready (NaN and infinity become None)."""
        observed = self.observed
        best = observed.best_window
        toys = self.toys
        out = {
            "name": self.study.name,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "versions": package_versions(),
            "study": self.study.to_dict(),
            "seeds": self.seeds,
            "data": self.data,
            "generator": self.generator,
            "observed": {
                "max_significance": observed.max_significance,
                "min_p_value": observed.min_p_value,
                "best_window": None if best is None else best.to_dict(),
                "best_efficiency": observed.best_efficiency,
                "scan": observed.to_dict(spectra=False),
            },
            "toys": {
                "n_toys": toys.n_toys,
                "n_failed": toys.n_failed,
                "n_invalid": toys.n_invalid,
                "failure_rate": toys.failure_rate,
                "errors": {str(k): v for k, v in toys.errors.items()},
                "max_significances": toys.max_significances.tolist(),
                "mean_seconds_per_toy": _mean(toys.elapsed),
                "store": str(self.study.store_path),
                "config": toys.config,
            },
            "global_significance": {
                method: g if isinstance(g, str) else g.to_dict()
                for method, g in self.significances.items()
            },
            "timings": self.timings,
            "notes": self.notes,
        }
        if self.fidelity is not None:
            out["fidelity"] = self.fidelity.to_dict()

        return _json_ready(out)

    # -- files -------------------------------------------------------------------------

    def write(self, outdir) -> dict[str, Path]:
        """Write report.json, study.toml and the figures; returns name -> path."""
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        paths = {}

        figures = {"scan": self.observed.plot()}
        finite = np.isfinite(self.toys.max_significances)
        if finite.any():
            methods = [
                m for m, g in self.significances.items() if not isinstance(g, str)
            ]
            figures["toys_max_significance"] = plot_max_significance(
                self.toys, self.observed
            )
            figures["global_vs_local"] = plot_global_significance(
                self.toys, self.observed, methods=methods, cl=self.study.significance.cl
            )
            figures["local_significances"] = plot_local_significances(self.toys)
        else:
            self.notes.append("no toy has a test statistic: toy figures not drawn")
        for name, fig in figures.items():
            paths[name] = outdir / f"{name}.png"
            fig.savefig(paths[name], dpi=120)

        if self.fidelity is not None:
            for name, path in self.fidelity.plot(outdir / "fidelity").items():
                paths[f"fidelity_{name}"] = Path(path)

        paths["study"] = outdir / "study.toml"
        paths["study"].write_text(self._portable_study(outdir).to_toml())
        paths["report"] = outdir / "report.json"
        with open(paths["report"], "w") as f:
            json.dump(self.to_dict(), f, indent=1, allow_nan=False)
            f.write("\n")
        logger.info("report written to %s", outdir)

        return paths

    def _portable_study(self, outdir: Path) -> Study:
        """The study as seen from ``outdir``: paths inside it relative, others absolute.

        The copy written next to the report then reruns from there, and the folder
        can be moved as a whole.
        """
        outdir = outdir.resolve()

        def seen_from_outdir(path: Path) -> str:
            path = path.resolve()
            return (
                str(path.relative_to(outdir))
                if path.is_relative_to(outdir)
                else (str(path))
            )

        study = dataclasses.replace(self.study, base_dir=outdir)
        for section, key in (
            ("data", "path"),
            ("data", "signal"),
            ("generator", "events"),
            ("fidelity", "reference"),
            ("generator", "checkpoint"),
            ("fidelity", "out"),
        ):
            part = getattr(study, section)
            value = getattr(part, key)
            if value and not value.startswith(("bundled:", "pretrained:")):
                value = seen_from_outdir(self.study.resolve(value))
                setattr(study, section, dataclasses.replace(part, **{key: value}))
        study.out = seen_from_outdir(self.study.out_dir)
        study.toys = dataclasses.replace(
            study.toys, store=seen_from_outdir(self.study.store_path)
        )

        return study

    # -- summary -----------------------------------------------------------------------

    def summary(self) -> str:
        """A short plain-text table: local Z, global Z per method, toys, wall time."""
        observed, toys = self.observed, self.toys
        best = observed.best_window
        cl = self.study.significance.cl
        lines = []

        where = ""
        if best is not None:
            lo, hi = best.sr
            where = f"  (SR [{lo:g}, {hi:g})"
            if observed.best_efficiency is not None:
                where += f", efficiency {observed.best_efficiency:g}"
            where += ")"
        lines.append(f"{'local Z (largest)':<20}{_z(observed.max_significance)}{where}")

        header = f"{'global Z':<20}{'Z':>7}   {f'{cl:.1%} interval':<18}{'p-value':>10}"
        lines += ["", header, "-" * len(header)]
        for method, g in self.significances.items():
            if isinstance(g, str):
                reason = g.partition(": ")[2].split(";")[0]
                lines.append(f"  {method:<18}n/a: {reason}")
                continue
            relation = ">" if g.is_limit else " "
            low, high = g.z_interval
            interval = f"[{_z(low)}, {_z(high)}]"
            p_rel = "<" if g.is_limit else " "
            lines.append(
                f"  {method:<18}{relation}{_z(g.z):>6}   {interval:<18}"
                f"{p_rel}{g.p_value:>9.3g}"
            )

        lines.append("")
        toys_line = f"{toys.n_toys} ({toys.n_failed} failed"
        if toys.n_invalid:
            toys_line += f", {toys.n_invalid} without a valid window"
        lines.append(f"{'toys run':<20}{toys_line})")
        if self.generator.get("description"):
            lines.append(f"{'generator':<20}{self.generator['description']}")
        if "total" in self.timings:
            lines.append(f"{'wall time':<20}{_duration(self.timings['total'])}")

        return "\n".join(lines)


def _z(z: float) -> str:
    if z is None or math.isnan(z):
        return "n/a"
    if math.isinf(z):
        return "inf"

    return f"{z:.2f}"


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)

    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def _mean(values) -> float:
    values = np.asarray(values, dtype=np.float64)

    return float(values.mean()) if values.size else math.nan


def _json_ready(value):
    """Plain JSON types, with NaN and infinity as None."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)

    return value
