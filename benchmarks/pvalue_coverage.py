"""Coverage of the global p-value, and generator toys against held-out Monte Carlo.

Background-only pseudo-datasets are drawn from the ``test`` split of the bundled
``ttbar_dilepton`` sample (events no shipped generator has seen): each holds
``N ~ Poisson(--events)`` events subsampled *without replacement* (so no event
repeats inside a dataset) and goes through the same CWoLa scan as the toys (the
demo's: m_bb 40-400 GeV, 40 GeV windows in 20 GeV steps, 30 GeV sidebands, the eight
dilepton features, 5 folds, efficiencies 0.1 and 0.01, profile-likelihood p-values).
The pseudo-datasets are run by :class:`lee.ToyRunner` itself, with a sampler that
subsamples the test split, so they are resumable and seeded like toys.

The test split holds 150,000 events, so datasets of 20,000 share on average
20,000**2 / 150,000 = 2,667 events (13 %) pairwise: they are held-out Monte Carlo
but not independent of one another, which makes the tests below slightly too
optimistic; the JSON states the overlap.

For every toy store given with ``--toys NAME=PATH`` (same scan, same toy size):

* the global p-value of every pseudo-dataset (empirical method, against that
  store's toys), and a one-sample Kolmogorov-Smirnov test of their uniformity, with
  the KS distance this number of datasets can detect at 5 % (``1.358 / sqrt(M)``);
* a two-sample KS test of the toys' largest local Z against the pseudo-datasets'
  (the pseudo-datasets *are* Monte Carlo toys, drawn from held-out events);
* the global p at local Z = 2 and 3 from the toys and from the pseudo-datasets,
  with 68.27 % Clopper-Pearson intervals.

    python benchmarks/pvalue_coverage.py --datasets 500 --events 5000 \\
        --store benchmarks/results/coverage_pseudo_5k.sqlite \\
        --toys wgangp=benchmarks/results/toys_wgangp_5k.sqlite \\
        --toys empirical=benchmarks/results/toys_empirical_5k.sqlite \\
        --toys mc=benchmarks/results/toys_mc_5k.sqlite

Writes ``benchmarks/results/coverage.json`` and ``coverage.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

import generators
import lee
from generators.base import Sampler, check_random_state
from lee.demo import DEMO_WINDOWS
from lee.toys import ToyResults

RESULTS = Path(__file__).parent / "results" / "coverage.json"
N_EVENTS = 20_000
SEED = 31_337


class Subsample(Sampler):
    """Events drawn without replacement from a fixed array (held-out MC)."""

    def __init__(self, X, features, name: str):
        self._X = np.asarray(X)
        self.features = tuple(features)
        self.name = name

    def __repr__(self) -> str:
        return f"Subsample({self.name}, n={len(self._X)})"

    def sample(self, n, *, random_state=None, conditions=None):
        rng = check_random_state(random_state)
        if n > len(self._X):
            raise ValueError(f"n={n} exceeds the {len(self._X)} events to subsample.")
        return self._X[rng.choice(len(self._X), size=n, replace=False)]


def make_scan():
    """The demo's CWoLa scan, shared by the validation benchmarks."""
    inputs = [f for f in generators.FEATURES if f != "m_bb"]
    return lee.CWoLaScan(
        lee.SlidingWindows(**DEMO_WINDOWS),
        scan_feature="m_bb",
        features=inputs,
        n_folds=5,
        efficiencies=(0.1, 0.01),
        random_state=0,
    )


def finite_maxima(toys: ToyResults) -> np.ndarray:
    z = toys.max_significances
    return z[np.isfinite(z)]


def global_p_at(z_local: float, maxima: np.ndarray) -> dict:
    glob = lee.global_significance(z_local, maxima, "empirical")
    return {
        "p_value": glob.p_value,
        "p_interval": list(glob.p_interval),
        "is_limit": glob.is_limit,
        "n": len(maxima),
    }


def compare(name: str, toys: ToyResults, pseudo: np.ndarray) -> dict:
    """Coverage of the pseudo-datasets against ``toys`` and the two-sample test."""
    maxima = finite_maxima(toys)
    p = np.array([lee.global_significance(z, maxima).p_value for z in pseudo])
    uniform = stats.kstest(p, "uniform")
    two = stats.ks_2samp(maxima, pseudo)
    return {
        "store_config_sampler": toys.config.get("sampler"),
        "n_toys": int(toys.n_toys),
        "n_failed": int(toys.n_failed),
        "n_toys_with_statistic": len(maxima),
        "toy_max_z_median": float(np.median(maxima)),
        "toy_max_z_p95": float(np.quantile(maxima, 0.95)),
        "coverage_ks_distance": float(uniform.statistic),
        "coverage_ks_pvalue": float(uniform.pvalue),
        "fraction_global_p_below": {
            str(a): float(np.mean(p <= a)) for a in (0.05, 0.1, 0.32, 0.5)
        },
        "two_sample_ks_distance": float(two.statistic),
        "two_sample_ks_pvalue": float(two.pvalue),
        "global_p_toys": {f"{z:g}": global_p_at(z, maxima) for z in (2.0, 3.0)},
        "global_p_values": p.tolist(),
        "name": name,
    }


def plot(results: dict, pseudo: np.ndarray, toy_sets: dict, path: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    grid = np.linspace(0, max(5.0, pseudo.max() + 0.5), 400)
    left.plot(
        np.sort(pseudo),
        np.arange(1, len(pseudo) + 1) / len(pseudo),
        "k-",
        lw=2,
        label=f"held-out MC pseudo-data ({len(pseudo)})",
    )
    for name, maxima in toy_sets.items():
        ks = results["toys"][name]["two_sample_ks_pvalue"]
        left.plot(
            np.sort(maxima),
            np.arange(1, len(maxima) + 1) / len(maxima),
            label=f"{name} toys ({len(maxima)}), KS p = {ks:.2f}",
        )
    left.set_xlim(grid[0], grid[-1])
    left.set_xlabel("largest local Z of a dataset")
    left.set_ylabel("cumulative fraction")
    left.legend(loc="lower right", fontsize=8)

    u = np.linspace(0, 1, 101)
    right.plot(u, u, "k:", label="uniform")
    for name in toy_sets:
        p = np.sort(results["toys"][name]["global_p_values"])
        d = results["toys"][name]["coverage_ks_distance"]
        right.plot(p, np.arange(1, len(p) + 1) / len(p), label=f"{name}: D = {d:.3f}")
    right.set_xlabel("global p of a pseudo-dataset")
    right.set_ylabel("fraction of pseudo-datasets with a smaller p")
    detectable = results["ks_detectable_distance"]
    right.set_title(f"{len(pseudo)} datasets: KS detects D > {detectable:.3f}")
    right.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=500)
    parser.add_argument("--events", type=int, default=N_EVENTS)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--store",
        type=Path,
        default=Path("work/coverage_pseudo.sqlite"),
        help="store of the pseudo-datasets' scans (resumed if it exists)",
    )
    parser.add_argument("--toys", action="append", default=[], metavar="NAME=PATH")
    args = parser.parse_args(argv)

    test = generators.load_sample("ttbar_dilepton", split="test")
    sampler = Subsample(test.X, test.features, "ttbar_dilepton/test")
    start = time.perf_counter()
    args.store.parent.mkdir(parents=True, exist_ok=True)
    with lee.ToyRunner(
        sampler,
        make_scan(),
        args.events,
        store=args.store,
        n_jobs=args.jobs,
        random_state=SEED,
        progress=False,
    ) as runner:
        pseudo_results = runner.run(args.datasets)
    seconds = time.perf_counter() - start
    pseudo = finite_maxima(pseudo_results)

    M = len(pseudo)
    results = {
        "scan": make_scan().get_params(),
        "n_events_mean": args.events,
        "test_split_events": len(test),
        "mean_pairwise_overlap_events": args.events**2 / len(test),
        "mean_pairwise_overlap_fraction": args.events / len(test),
        "n_datasets": int(pseudo_results.n_toys),
        "n_datasets_failed": int(pseudo_results.n_failed),
        "pseudo_max_z_median": float(np.median(pseudo)),
        "pseudo_max_z_p95": float(np.quantile(pseudo, 0.95)),
        "global_p_pseudo": {f"{z:g}": global_p_at(z, pseudo) for z in (2.0, 3.0)},
        "ks_detectable_distance": 1.358 / math.sqrt(M),
        "pseudo_seconds_this_run": seconds,
        "toys": {},
    }
    toy_sets = {}
    for item in args.toys:
        name, _, path = item.partition("=")
        toys = ToyResults.read(path)
        results["toys"][name] = compare(name, toys, pseudo)
        results["toys"][name]["store"] = path
        toy_sets[name] = finite_maxima(toys)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    if toy_sets:
        plot(results, pseudo, toy_sets, RESULTS.with_suffix(".png"))
    for name, r in results["toys"].items():
        print(
            f"{name}: coverage KS D = {r['coverage_ks_distance']:.3f} "
            f"(p = {r['coverage_ks_pvalue']:.3f}), two-sample KS p = "
            f"{r['two_sample_ks_pvalue']:.3f}, toy max-Z median "
            f"{r['toy_max_z_median']:.2f} vs pseudo-data {np.median(pseudo):.2f}"
        )

    return results


if __name__ == "__main__":
    main()
