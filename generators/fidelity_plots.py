"""Figures of a :class:`~generators.fidelity.FidelityReport`.

Drawn with Matplotlib's object-oriented API on the Agg canvas, so plotting needs no
display and never changes the pyplot backend or state of the caller.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["plot_report"]

_REF, _GEN = "tab:blue", "tab:orange"


def _grid(n: int, size: float = 3.2) -> tuple[Figure, list]:
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(size * cols, 0.8 * size * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)

    return fig, list(axes[:n])


def _range(ref: np.ndarray) -> tuple[float, float]:
    lo, hi = np.quantile(ref, [0.001, 0.999])
    return (float(lo), float(hi)) if hi > lo else (float(lo) - 0.5, float(lo) + 0.5)


def _histograms(report, ref, gen, labels, path: Path) -> Path:
    fig, axes = _grid(len(report.features))
    for j, (ax, name) in enumerate(zip(axes, report.features, strict=False)):
        bins = np.linspace(*_range(ref[:, j]), 51)
        ax.hist(
            ref[:, j], bins, density=True, histtype="step", color=_REF, label=labels[0]
        )
        ax.hist(
            gen[:, j], bins, density=True, histtype="step", color=_GEN, label=labels[1]
        )
        ax.axvline(ref[:, j].mean(), color=_REF, ls="--", lw=1)
        ax.axvline(gen[:, j].mean(), color=_GEN, ls=":", lw=1)
        ax.set_xlabel(name)
    axes[0].legend(fontsize="small")
    fig.suptitle("Distributions; lines mark the means")
    fig.savefig(path, dpi=110)

    return path


def _cdfs(report, ref, gen, labels, path: Path) -> Path:
    fig, axes = _grid(len(report.features))
    for j, (ax, name) in enumerate(zip(axes, report.features, strict=False)):
        for x, color, label in (
            (ref[:, j], _REF, labels[0]),
            (gen[:, j], _GEN, labels[1]),
        ):
            xs = np.sort(x)
            step = max(len(xs) // 2000, 1)
            ax.plot(
                xs[::step],
                np.arange(1, len(xs) + 1)[::step] / len(xs),
                color=color,
                label=label,
            )
        ax.set_xlim(*_range(ref[:, j]))
        ax.set_xlabel(name)
        ax.text(
            0.97,
            0.05,
            f"KS {report.ks[name]:.4f}",
            transform=ax.transAxes,
            ha="right",
            fontsize="small",
        )
    axes[0].legend(fontsize="small")
    fig.suptitle("Cumulative distributions")
    fig.savefig(path, dpi=110)

    return path


def _correlations(report, labels, path: Path) -> Path:
    fig = Figure(figsize=(15, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    diff = report.corr_generated - report.corr_reference
    panels = (
        (report.corr_reference, labels[0], 1.0),
        (report.corr_generated, labels[1], 1.0),
        (diff, f"{labels[1]} - {labels[0]}", max(np.nanmax(np.abs(diff)), 1e-3)),
    )
    ticks = np.arange(len(report.features))
    for ax, (matrix, title, vmax) in zip(axes, panels, strict=False):
        image = ax.imshow(matrix, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_xticks(ticks, report.features, rotation=90, fontsize="small")
        ax.set_yticks(ticks, report.features, fontsize="small")
        ax.set_title(title)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle(
        f"Pearson correlations; max |difference| {report.max_abs_corr_diff:.4f}"
    )
    fig.savefig(path, dpi=110)

    return path


def _ratios(report, ref, gen, labels, path: Path) -> Path:
    fig, axes = _grid(len(report.features))
    for j, (ax, name) in enumerate(zip(axes, report.features, strict=False)):
        bins = np.linspace(*_range(ref[:, j]), 31)
        n_ref, _ = np.histogram(ref[:, j], bins)
        n_gen, _ = np.histogram(gen[:, j], bins)
        scale = len(ref) / len(gen)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = scale * n_gen / n_ref
            err = ratio * np.sqrt(1.0 / np.maximum(n_gen, 1) + 1.0 / n_ref)
        centres = 0.5 * (bins[1:] + bins[:-1])
        ax.axhline(1.0, color="grey", lw=1)
        ax.errorbar(centres, ratio, yerr=err, fmt=".", color=_GEN, ms=3)
        ax.set_ylim(0.7, 1.3)
        ax.set_xlabel(name)
        ax.set_ylabel(f"{labels[1]} / {labels[0]}", fontsize="small")
    fig.suptitle("Per-bin ratio (equal-area normalisation, Poisson errors)")
    fig.savefig(path, dpi=110)

    return path


def _c2st_slices(report, path: Path) -> Path:
    rows = [s for s in report.slices if "c2st_auc" in s]
    fig = Figure(figsize=(6, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    centres = [0.5 * (s["low"] + s["high"]) for s in rows]
    half = [0.5 * (s["high"] - s["low"]) for s in rows]
    ax.errorbar(
        centres,
        [s["c2st_auc"] for s in rows],
        xerr=half,
        yerr=[s["c2st_auc_err"] for s in rows],
        fmt="o",
    )
    ax.axhline(0.5, color="grey", lw=1)
    ax.axhline(report.c2st_auc, color="tab:red", ls="--", lw=1, label="all events")
    ax.set_xlabel(report.slice_by)
    ax.set_ylabel("C2ST AUC")
    ax.legend(fontsize="small")
    fig.savefig(path, dpi=110)

    return path


def plot_report(report, outdir: Path, labels) -> dict[str, Path]:
    """Write every figure of ``report`` into ``outdir``; returns name -> path."""
    outdir.mkdir(parents=True, exist_ok=True)
    ref, gen = report._reference, report._generated
    paths = {
        "histograms": _histograms(report, ref, gen, labels, outdir / "histograms.png"),
        "cdfs": _cdfs(report, ref, gen, labels, outdir / "cdfs.png"),
        "correlations": _correlations(report, labels, outdir / "correlations.png"),
        "ratios": _ratios(report, ref, gen, labels, outdir / "ratios.png"),
    }
    if any("c2st_auc" in s for s in report.slices):
        paths["c2st_slices"] = _c2st_slices(report, outdir / "c2st_slices.png")

    return paths
