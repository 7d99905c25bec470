"""Figures of a :class:`~lee.result.ScanResult`: spectra with fits, and the Z curve.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas, never
through pyplot, so plotting works without a display and leaves no global state.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["plot_scan"]


def plot_scan(result, window: int | None = None, figsize=(11.0, 7.0)) -> Figure:
    """Spectra of one window at every efficiency, and local Z across windows.

    See :meth:`lee.result.ScanResult.plot`.
    """
    if window is None:
        best = result.best_index
        window = 0 if best is None else best[0]
    if not 0 <= window < len(result.windows):
        raise ValueError(
            f"window must be an index in [0, {len(result.windows)}); got {window}."
        )
    n_eff = len(result.efficiencies)
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, n_eff, height_ratios=(3, 2))

    for j in range(n_eff):
        _spectrum_panel(fig.add_subplot(grid[0, j]), result, window, j)
    _significance_panel(fig.add_subplot(grid[1, :]), result, window)

    return fig


def _spectrum_panel(ax, result, i, j) -> None:
    w = result.windows[i]
    spectrum = result.spectra[i][j]
    centres = 0.5 * (w.edges[1:] + w.edges[:-1])
    feature = result.scan_feature or "scan variable"

    ax.axvspan(*w.sr, color="0.9", label="SR")
    if len(spectrum.counts):
        ax.errorbar(
            centres,
            spectrum.counts,
            yerr=np.sqrt(spectrum.counts),
            fmt="o",
            color="k",
            ms=3,
            label="selected",
        )
    if spectrum.expected is not None:
        label = "sideband fit" if spectrum.fit is not None else "reference"
        ax.stairs(spectrum.expected, w.edges, color="C0", label=label)
        if spectrum.expected_err is not None:
            ax.stairs(
                spectrum.expected + spectrum.expected_err,
                w.edges,
                baseline=spectrum.expected - spectrum.expected_err,
                fill=True,
                color="C0",
                alpha=0.3,
                label="±1σ",
            )

    z = result.significances[i, j]
    ztext = "invalid" if not np.isfinite(z) else f"Z = {z:.2f}"
    ax.set_title(f"eff = {result.efficiencies[j]:g}: {ztext}", fontsize="medium")
    ax.set_xlabel(feature)
    ax.set_ylabel("events / bin")
    ax.legend(fontsize="small")


def _significance_panel(ax, result, chosen) -> None:
    centres = result.windows.centers
    order = np.argsort(centres, kind="stable")
    for j, eff in enumerate(result.efficiencies):
        ax.plot(
            centres[order],
            result.significances[order, j],
            "o-",
            ms=3,
            label=f"eff = {eff:g}",
        )
    ax.axvline(centres[chosen], color="0.6", ls=":", label="shown window")
    ax.set_xlabel(f"SR centre ({result.scan_feature or 'scan variable'})")
    ax.set_ylabel("local Z")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
