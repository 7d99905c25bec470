"""Figures of a toy study: the test statistic, the global p-value, calibration.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (so
nothing depends on, or changes, the interactive backend); save it with
``fig.savefig(path)``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from .significance import METHODS, global_p_curve

__all__ = [
    "plot_global_significance",
    "plot_local_significances",
    "plot_max_significance",
]

_COLOURS = {"empirical": "black", "gross-vitells": "tab:blue", "trials-factor": "C1"}


def plot_max_significance(toys, observed=None, *, bins: int = 40) -> Figure:
    """Histogram of the toys' largest local significance, with the observed value.

    Parameters
    ----------
    toys : ToyResults or array_like
        Toys, or their maxima; non-finite maxima (failed toys) are left out and
        counted in the legend.
    observed : ScanResult or float, optional
        Drawn as a vertical line with its empirical exceedance count.
    bins : int
        Number of histogram bins.
    """
    maxima = np.asarray(getattr(toys, "max_significances", toys), dtype=np.float64)
    finite = maxima[np.isfinite(maxima)]
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()

    label = f"{finite.size} toys"
    if finite.size < maxima.size:
        label += f" ({maxima.size - finite.size} failed)"
    ax.hist(finite, bins=bins, histtype="stepfilled", alpha=0.5, label=label)

    if observed is not None:
        u = float(getattr(observed, "max_significance", observed))
        k = int(np.count_nonzero(finite >= u))
        ax.axvline(u, color="red", label=f"observed {u:.2f} ({k} toys above)")

    ax.set_yscale("log")
    ax.set_xlabel("largest local significance $Z_{max}$")
    ax.set_ylabel("toys per bin")
    ax.legend()

    return fig


def plot_global_significance(
    toys,
    observed=None,
    *,
    methods=METHODS,
    cl: float = 0.6827,
    u0: float = 1.0,
    z_max: float | None = None,
) -> Figure:
    """Global p-value against the largest local significance, for several methods.

    Each method is drawn with its ``cl`` band: the empirical fraction with its
    Clopper-Pearson interval (dashed where no toy exceeds: the upper limit), the
    Gross-Vitells extrapolation above ``u0`` and the fitted trials factor. The local
    p-value ``Phi_bar(Z)`` is the reference a scan without look-elsewhere effect
    would give.

    Parameters
    ----------
    toys : ToyResults or array_like
        As for :func:`lee.global_significance`.
    observed : ScanResult or float, optional
        Marked with a vertical line.
    methods : sequence of str
        Subset of :data:`lee.significance.METHODS`.
    cl, u0 : float
        As for :func:`lee.global_significance`.
    z_max : float, optional
        Right end of the axis; by default one unit above the largest of the toys'
        maxima and the observed value, and at least 5.
    """
    maxima = np.asarray(getattr(toys, "max_significances", toys), dtype=np.float64)
    u_obs = None
    if observed is not None:
        u_obs = float(getattr(observed, "max_significance", observed))
    if z_max is None:
        top = np.nanmax(maxima[np.isfinite(maxima)], initial=0.0)
        z_max = max(5.0, top + 1.0, (u_obs or 0.0) + 1.0)
    z = np.linspace(0.0, z_max, 201)
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.add_subplot()

    for method in methods:
        start = u0 if method == "gross-vitells" else 0.0
        grid = z[z >= start]
        p, low, high = global_p_curve(grid, toys, method, cl=cl, u0=u0)
        colour = _COLOURS.get(method)
        if method == "empirical":
            # The lower Clopper-Pearson bound is 0 exactly where no toy exceeds.
            counted = low > 0
            ax.step(
                grid[counted], p[counted], where="post", color=colour, label="empirical"
            )
            ax.fill_between(
                grid[counted],
                low[counted],
                high[counted],
                step="post",
                color=colour,
                alpha=0.2,
                linewidth=0,
            )
            ax.plot(
                grid[~counted],
                p[~counted],
                color=colour,
                linestyle="--",
                label=f"empirical upper limit ({cl:.0%} CL)",
            )
            continue

        ax.plot(grid, p, color=colour, label=method)
        ax.fill_between(grid, low, high, color=colour, alpha=0.2, linewidth=0)

    ax.plot(z, stats.norm.sf(z), color="grey", linestyle=":", label="local p")
    if u_obs is not None:
        ax.axvline(u_obs, color="red", label=f"observed {u_obs:.2f}")

    ax.set_yscale("log")
    ax.set_ylim(bottom=max(stats.norm.sf(z_max) / 10, 1e-12), top=1.5)
    ax.set_xlabel("largest local significance $Z_{max}$")
    ax.set_ylabel(f"global p-value ({cl:.0%} CL bands)")
    ax.legend(fontsize="small")

    return fig


def plot_local_significances(toys, *, bins: int = 50) -> Figure:
    """Every local significance in the toys against the standard normal.

    With calibrated local p-values, half of the windows sit at ``Z = 0`` (the
    deficits) and the other half follow the standard normal density above 0. A
    tail above the curve means the local p-values are too small (a fake
    excess from the classifier or the background fit); a deficit means they are
    conservative. Correlated windows make the histogram fluctuate more than the
    number of entries suggests.

    Parameters
    ----------
    toys : ToyResults or array_like
        Toys, or an array of their local significances (any shape).
    bins : int
        Number of bins above 0.
    """
    values = np.asarray(getattr(toys, "significances", toys), dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError(
            "toys holds no finite local significance; all toys failed or all "
            "windows were invalid. Look at ToyResults.errors."
        )
    at_zero = np.count_nonzero(values <= 0) / values.size
    positive = values[values > 0]
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()

    top = max(float(positive.max(initial=0.0)), 4.0)
    edges = np.linspace(0.0, top, bins + 1)
    counts, _ = np.histogram(positive, bins=edges)
    density = counts / (values.size * np.diff(edges))
    errors = np.sqrt(counts) / (values.size * np.diff(edges))
    centres = (edges[:-1] + edges[1:]) / 2
    shown = counts > 0
    ax.errorbar(
        centres[shown],
        density[shown],
        yerr=errors[shown],
        fmt="o",
        markersize=3,
        color="black",
        label=f"{values.size} local Z in toys; {at_zero:.1%} at 0",
    )

    grid = np.linspace(0.0, top, 200)
    ax.plot(
        grid, stats.norm.pdf(grid), color="tab:blue", label="N(0, 1) above 0; 50% at 0"
    )

    ax.set_yscale("log")
    ax.set_xlabel("local significance Z")
    ax.set_ylabel("density per unit Z (all windows)")
    ax.legend()

    return fig
