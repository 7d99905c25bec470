"""Agreement of ``lee.BumpScan`` in Poisson-reference mode with pyBumpHunter.

One histogram, 40 bins of 10 GeV over 100-500 GeV: a falling exponential
background (``tau`` = 80 GeV, 5,000 events expected) is the reference, and the
observed counts are a Poisson draw of it (fixed seed) plus a small Gaussian bump.
Both tools scan the same windows, every run of 1 to 20 adjacent bins (pyBumpHunter
``BumpHunter1D`` with ``width_min=1``, ``width_max=20``, ``scan_step=1``;
``lee.BumpScan.from_histogram(edges, reference, 1, 20)``), and the script checks:

1. Local p-values. pyBumpHunter's ``res_ar`` holds ``P(N >= n | b)`` for the
   windows with ``n > b`` and 1 for the others; ``lee`` holds the same tail for
   every window but reports ``max(P(N >= n | b), 0.5)`` for a deficit (its
   documented convention, :mod:`lee.pvalues`). The windows with ``n > b`` are
   compared; the largest relative difference must be at most 1e-6.
2. The same pseudo-experiments. pyBumpHunter's pseudo-data are regenerated from
   its seed (``np.random.seed``, then ``np.random.poisson``, as in ``bump_scan``)
   and the first ``--same`` of them are scanned by ``lee`` too: the smallest local
   p-value of each must agree to 1e-6 relative, and the global p-values counted on
   that common set must be equal.
3. The global p-value from independent pseudo-experiments: ``lee`` runs
   ``--toys`` toys through ``lee.ToyRunner`` (an ``EmpiricalSampler`` on the bin
   centres weighted by the reference, with ``N ~ Poisson(sum of reference)``
   events per toy, which is exactly an independent Poisson count per bin, as
   pyBumpHunter draws), pyBumpHunter as many of its own. Both are counts ``k / n``
   with Clopper-Pearson intervals; the estimates are compatible if Fisher's exact
   test of equal exceedance rates gives a p-value above 0.01, and the JSON records
   whether pyBumpHunter's estimate lies inside ``lee``'s 68.27% and 95% intervals.
4. Speed for the same number of pseudo-experiments, both single-threaded
   (pyBumpHunter ``nworker=1``, ``ToyRunner(backend="sequential")``); the wall
   time includes the scan of the observed histogram.

    python benchmarks/bumphunter_agreement.py [--toys 300] [--same 100]

Writes ``benchmarks/results/bumphunter_agreement.json`` and
``benchmarks/results/bumphunter_agreement.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import time
from importlib.metadata import version
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from pyBumpHunter import BumpHunter1D
from scipy import stats

import lee
from generators import EmpiricalSampler
from lee.pvalues import p_to_z

RESULTS = Path(__file__).parent / "results"
EDGES = np.linspace(100.0, 500.0, 41)
WIDTH_MIN, WIDTH_MAX = 1, 20
TOLERANCE = 1e-6


def histogram(seed: int, n_signal: float) -> tuple[np.ndarray, np.ndarray]:
    """Reference (expected background) and observed counts per bin."""
    tau, n_background = 80.0, 5000.0
    cdf = -np.expm1(-(EDGES - EDGES[0]) / tau)
    reference = n_background * np.diff(cdf) / cdf[-1]

    # A Gaussian bump at 300 GeV with 15 GeV width, integrated over each bin.
    signal = n_signal * np.diff(stats.norm.cdf(EDGES, loc=300.0, scale=15.0))
    observed = np.random.default_rng(seed).poisson(reference + signal)

    return reference, observed


def centres() -> np.ndarray:
    return 0.5 * (EDGES[1:] + EDGES[:-1])


def as_events(counts) -> np.ndarray:
    """The histogram as events at the bin centres, the input of ``BumpScan.run``."""
    return np.repeat(centres(), counts)


def run_bumphunter(observed, reference, npe: int, seed: int) -> BumpHunter1D:
    bh = BumpHunter1D(
        rang=(EDGES[0], EDGES[-1]),
        bins=EDGES,
        width_min=WIDTH_MIN,
        width_max=WIDTH_MAX,
        width_step=1,
        scan_step=1,
        npe=npe,
        nworker=1,
        seed=seed,
    )
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its progress
        bh.bump_scan(observed, reference, is_hist=True)

    return bh


def bumphunter_windows(n_bins: int) -> list[tuple[int, int]]:
    """(first bin, width) of every entry of ``res_ar``, in its order."""
    return [
        (start, width)
        for width in range(WIDTH_MIN, WIDTH_MAX + 1)
        for start in range(0, n_bins - width + 1)
    ]


def lee_windows(scan: lee.BumpScan) -> list[tuple[int, int]]:
    windows = []
    for window in scan.windows:
        first = int(np.searchsorted(EDGES, window.sr[0]))
        last = int(np.searchsorted(EDGES, window.sr[1]))
        windows.append((first, last - first))
    return windows


def relative_difference(ours, theirs) -> np.ndarray:
    return np.abs(np.asarray(ours) / np.asarray(theirs) - 1.0)


def clopper_pearson(k: int, n: int, cl: float) -> list[float]:
    alpha = 1.0 - cl
    low = stats.beta.ppf(alpha / 2, k, n - k + 1) if k > 0 else 0.0
    high = stats.beta.ppf(1 - alpha / 2, k + 1, n - k) if k < n else 1.0
    return [float(low), float(high)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--toys", type=int, default=300, help="pseudo-experiments")
    parser.add_argument(
        "--same", type=int, default=100, help="BumpHunter pseudo-data lee rescans"
    )
    parser.add_argument("--signal", type=float, default=45.0, help="bump events")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    bh_seed, toy_seed = args.seed + 1, args.seed + 2

    reference, observed = histogram(args.seed, args.signal)
    scan = lee.BumpScan.from_histogram(
        EDGES, reference, WIDTH_MIN, WIDTH_MAX, scan_feature="m", p_value="poisson"
    )
    windows = lee_windows(scan)
    if windows != bumphunter_windows(len(reference)):
        raise RuntimeError("lee and pyBumpHunter scan different windows")

    # pyBumpHunter: the observed scan and its own pseudo-experiments.
    start = time.perf_counter()
    bh = run_bumphunter(observed, reference, args.toys, bh_seed)
    bh_seconds = time.perf_counter() - start

    # lee: the observed scan and as many toys through ToyRunner.
    start = time.perf_counter()
    result = scan.run(as_events(observed))
    sampler = EmpiricalSampler(features=("m",)).fit(
        centres()[:, None], weights=reference
    )
    runner = lee.ToyRunner(
        sampler,
        scan,
        n_events=float(reference.sum()),
        backend="sequential",
        random_state=toy_seed,
        progress=False,
    )
    toys = runner.run(args.toys)
    lee_seconds = time.perf_counter() - start

    # 1. Local p-values on the windows where both are the Poisson tail.
    ours = result.p_values[:, 0]
    theirs = np.concatenate(list(bh.res_ar))
    n_obs, b = result.observed[:, 0], result.expected[:, 0]
    excess = n_obs > b
    local_diff = relative_difference(ours[excess], theirs[excess])
    deficit_ok = bool(np.all(theirs[~excess] == 1.0) and np.all(ours[~excess] >= 0.5))

    # 2. The same pseudo-experiments, regenerated from pyBumpHunter's seed.
    # pyBumpHunter draws from NumPy's legacy global generator; so must the copy.
    np.random.seed(bh_seed)  # noqa: NPY002
    pseudo = np.random.poisson(  # noqa: NPY002
        lam=reference[:, None], size=(len(reference), args.toys)
    )
    n_same = min(args.same, args.toys)
    ours_min_p = np.array(
        [np.nanmin(scan.run(as_events(pseudo[:, j])).p_values) for j in range(n_same)]
    )
    theirs_min_p = np.asarray(bh.min_Pval_ar[1 : n_same + 1], dtype=float)
    same_diff = relative_difference(ours_min_p, theirs_min_p)
    t_obs = bh.t_ar[0]
    k_same_theirs = int(np.count_nonzero(bh.t_ar[1 : n_same + 1] >= t_obs))
    k_same_ours = int(np.count_nonzero(p_to_z(ours_min_p) >= result.max_significance))

    # 3. Global p-values from independent pseudo-experiments.
    glob = lee.global_significance(result, toys)
    glob95 = lee.global_significance(result, toys, cl=0.95)
    k_ours = int(glob.details["n_exceeding"])
    k_theirs = round(bh.global_Pval * args.toys)
    fisher = stats.fisher_exact(
        [[k_ours, args.toys - k_ours], [k_theirs, args.toys - k_theirs]]
    ).pvalue

    report = {
        "benchmark": "lee.BumpScan (poisson reference) vs pyBumpHunter BumpHunter1D",
        "histogram": {
            "edges": EDGES.tolist(),
            "reference": reference.tolist(),
            "observed": observed.tolist(),
            "background": "exponential, tau 80 GeV, 5000 events expected",
            "signal": f"Gaussian at 300 GeV, sigma 15 GeV, {args.signal:g} events",
            "seed": args.seed,
        },
        "windows": {"width_min": WIDTH_MIN, "width_max": WIDTH_MAX, "n": len(ours)},
        "local": {
            "n_compared": int(excess.sum()),
            "n_deficit_windows": int((~excess).sum()),
            "deficit_convention": (
                "pyBumpHunter sets p = 1 where n <= b; lee reports "
                "max(P(N >= n | b), 0.5) and Z = 0; both hold on every such window"
                if deficit_ok
                else "VIOLATED"
            ),
            "max_relative_difference": float(local_diff.max()),
            "tolerance": TOLERANCE,
            "pass": bool(local_diff.max() <= TOLERANCE and deficit_ok),
            "observed_max_z": result.max_significance,
            "observed_min_p": float(np.nanmin(ours)),
            "bumphunter_min_p": float(bh.min_Pval_ar[0]),
            "best_window_gev": list(result.best_window.sr),
        },
        "same_pseudo_experiments": {
            "n": n_same,
            "max_relative_difference_min_p": float(same_diff.max()),
            "global_p_lee": k_same_ours / n_same,
            "global_p_bumphunter": k_same_theirs / n_same,
            "pass": bool(same_diff.max() <= TOLERANCE and k_same_ours == k_same_theirs),
        },
        "global": {
            "n_pseudo_experiments": args.toys,
            "lee": {
                "p": glob.p_value,
                "k": k_ours,
                "interval_68": list(glob.p_interval),
                "interval_95": list(glob95.p_interval),
                "is_limit": glob.is_limit,
                "z": glob.z,
                "seed": toy_seed,
            },
            "bumphunter": {
                "p": float(bh.global_Pval),
                "k": k_theirs,
                "interval_68": clopper_pearson(k_theirs, args.toys, 0.6827),
                "interval_95": clopper_pearson(k_theirs, args.toys, 0.95),
                "significance": float(bh.significance),
                "seed": bh_seed,
            },
            "bumphunter_inside_lee_68": bool(
                glob.p_interval[0] <= bh.global_Pval <= glob.p_interval[1]
            ),
            "bumphunter_inside_lee_95": bool(
                glob95.p_interval[0] <= bh.global_Pval <= glob95.p_interval[1]
            ),
            "fisher_exact_p": float(fisher),
            "pass": bool(fisher > 0.01),
        },
        "timing": {
            "n_pseudo_experiments": args.toys,
            "bumphunter_seconds": bh_seconds,
            "lee_seconds": lee_seconds,
            "bumphunter_ms_per_pseudo_experiment": 1e3 * bh_seconds / (args.toys + 1),
            "lee_ms_per_pseudo_experiment": 1e3 * lee_seconds / (args.toys + 1),
            "lee_over_bumphunter": lee_seconds / bh_seconds,
            "note": "wall time, one thread each, observed scan included; the "
            "machine was shared with other jobs",
        },
        "versions": {
            "pyBumpHunter": version("pyBumpHunter"),
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "machine": {"cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0]},
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "bumphunter_agreement.json").write_text(
        json.dumps(report, indent=1) + "\n"
    )
    plot(report, ours, theirs, excess, toys.max_significances, bh, args.output)

    print(
        f"local p: max relative difference {local_diff.max():.2e} on "
        f"{excess.sum()} windows; same pseudo-experiments {same_diff.max():.2e}\n"
        f"global p: lee {glob.p_value:.4f} {glob.p_interval}, pyBumpHunter "
        f"{bh.global_Pval:.4f}, Fisher p {fisher:.3f}\n"
        f"time for {args.toys} pseudo-experiments: lee {lee_seconds:.1f} s, "
        f"pyBumpHunter {bh_seconds:.2f} s ({lee_seconds / bh_seconds:.0f}x)"
    )


def plot(report, ours, theirs, excess, toy_maxima, bh, output: Path) -> None:
    hist = report["histogram"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))

    ax = axes[0]
    ax.stairs(hist["reference"], EDGES, label="reference (background)")
    ax.errorbar(
        centres(),
        hist["observed"],
        yerr=np.sqrt(hist["observed"]),
        fmt="k.",
        label="observed",
    )
    lo, hi = report["local"]["best_window_gev"]
    ax.axvspan(lo, hi, color="C1", alpha=0.25, label="most significant window")
    ax.set(xlabel="m [GeV]", ylabel="events / 10 GeV", yscale="log")
    ax.legend(loc="lower left")

    ax = axes[1]
    ax.loglog(theirs[excess], ours[excess], ".", ms=4)
    limits = [ours[excess].min() / 2, 1]
    ax.plot(limits, limits, "k--", lw=0.8)
    ax.set(
        xlabel="pyBumpHunter local p",
        ylabel="lee local p",
        title=f"{excess.sum()} windows with n > b: max |rel. diff| "
        f"{report['local']['max_relative_difference']:.1e}",
    )

    ax = axes[2]
    bh_maxima = p_to_z(np.asarray(bh.min_Pval_ar[1:], dtype=float))
    bins = np.linspace(0, max(bh_maxima.max(), toy_maxima.max()) + 0.5, 30)
    g = report["global"]
    ax.hist(
        toy_maxima, bins, histtype="step", label=f"lee toys: p = {g['lee']['p']:.3f}"
    )
    ax.hist(
        bh_maxima,
        bins,
        histtype="step",
        label=f"pyBumpHunter: p = {g['bumphunter']['p']:.3f}",
    )
    ax.axvline(report["local"]["observed_max_z"], color="k", ls=":", label="observed")
    ax.set(
        xlabel="largest local Z of a pseudo-experiment",
        ylabel="pseudo-experiments",
        title=f"{g['n_pseudo_experiments']} each",
    )
    ax.legend(loc="upper left")

    fig.tight_layout()
    fig.savefig(output / "bumphunter_agreement.png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
