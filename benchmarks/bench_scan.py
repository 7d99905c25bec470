"""Speed of one CWoLa scan: the unit of work of every toy.

The issue's reference configuration: 20,000 events, about 12 windows, 5 folds and
two efficiencies (0.1 and 0.01), the default gradient-boosted classifier and
profile-likelihood p-values. Each repeat scans a fresh subsample (its own seed) of
the bundled ``ttbar_dilepton`` test split when it is installed, otherwise of a
parametric stand-in with the same columns (``m_bb`` falling exponentially above
20 GeV, the other features standard normal); the JSON records which one ran.

Three variants run interleaved within each repeat, on the same events and seed, so
that their ratios are measured under the same machine load:

``default``
    :data:`lee.classifier.HGB_DEFAULTS`, one process;
``previous_hgb``
    the gradient-boosting settings before this benchmark's change (15 leaves,
    early-stopping patience 5), one process: the "before" of the before/after
    ratio;
``n_jobs=2``
    the default settings with the windows trained on two worker processes (the
    result is identical, checked here); its CPU time counts the parent process
    only, not the workers.

Medians over the repeats are reported, since this machine is shared and single
timings are noisy; the first, warm-up scans (imports, worker start-up) are not
counted. A one-process scan runs on one thread, so its CPU time is what its wall
time would be on an idle core; on a loaded machine the wall time is longer, and
the two-process wall time gains only if a second core is free.

    python benchmarks/bench_scan.py [--repeats 7] [--events 20000]

Writes ``benchmarks/results/scan.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

import lee

RESULTS = Path(__file__).parent / "results" / "scan.json"
FEATURES = ("pt_l0", "pt_l1", "pt_ll", "m_ll", "met", "mt", "dphi_ll", "dr_ll", "m_bb")


def windows() -> lee.SlidingWindows:
    """12 windows of 30 GeV with 30 GeV sidebands over 50-370 GeV of m_bb."""
    return lee.SlidingWindows(
        scan_range=(50, 370), width=30, step=20, sideband=30, bins=6
    )


def events(n: int, seed: int) -> tuple[np.ndarray, str]:
    rng = np.random.default_rng(seed)
    try:
        import generators

        pool = generators.load_sample("ttbar_dilepton", split="test").X
        source = "ttbar_dilepton test split"
    except ValueError:
        pool = np.column_stack(
            [rng.normal(size=(4 * n, 8)), 20 + rng.exponential(120, 4 * n)]
        )
        source = "parametric stand-in (bundled sample not installed)"

    return pool[rng.choice(len(pool), n, replace=False)], source


PREVIOUS_HGB = {"max_leaf_nodes": 15, "n_iter_no_change": 5}


def timed(scan, X, seed, **kwargs):
    """(result, wall seconds, CPU seconds of this process) of one scan."""
    start, cpu = time.perf_counter(), time.process_time()
    res = scan.run(X, features=FEATURES, random_state=seed, **kwargs)

    return res, time.perf_counter() - start, time.process_time() - cpu


def summary(runs) -> dict:
    wall, cpu = zip(*runs, strict=True)
    return {
        "median_seconds": statistics.median(wall),
        "median_cpu_seconds": statistics.median(cpu),
        "seconds": list(wall),
        "cpu_seconds": list(cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    w = windows()
    config = {"scan_feature": "m_bb", "n_folds": 5, "efficiencies": (0.1, 0.01)}
    scan = lee.CWoLaScan(w, **config)
    previous = lee.CWoLaScan(w, classifier_params=PREVIOUS_HGB, **config)
    X, source = events(args.events, seed=0)
    load = [os.getloadavg()[0]]
    runs = {"default": [], "previous_hgb": [], "n_jobs=2": []}
    max_z = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lee.SculptingWarning)
        # Warm-up: imports, caches, and the two loky workers.
        scan.run(X, features=FEATURES, random_state=0)
        previous.run(X, features=FEATURES, random_state=0)
        scan.run(X, features=FEATURES, random_state=0, n_jobs=2)

        for k in range(args.repeats):
            X, _ = events(args.events, seed=k + 1)
            res, *t = timed(scan, X, k)
            runs["default"].append(t)
            runs["previous_hgb"].append(timed(previous, X, k)[1:])
            parallel, *t = timed(scan, X, k, n_jobs=2)
            runs["n_jobs=2"].append(t)
            if not np.array_equal(
                parallel.significances, res.significances, equal_nan=True
            ):
                raise RuntimeError("n_jobs=2 changed the scan result")
            max_z.append(res.max_significance)
            load.append(os.getloadavg()[0])

    variants = {name: summary(r) for name, r in runs.items()}
    ratio = [
        p[1] / d[1] for p, d in zip(runs["previous_hgb"], runs["default"], strict=True)
    ]
    result = {
        "benchmark": "CWoLa scan wall and CPU time",
        "events": args.events,
        "windows": len(w),
        "folds": 5,
        "efficiencies": [0.1, 0.01],
        "classifier": "hgb (lee.classifier.HGB_DEFAULTS)",
        "previous_hgb": PREVIOUS_HGB,
        "data": source,
        "repeats": args.repeats,
        "median_seconds": variants["default"]["median_seconds"],
        "median_cpu_seconds": variants["default"]["median_cpu_seconds"],
        "variants": variants,
        "cpu_ratio_previous_over_default": {
            "median": statistics.median(ratio),
            "per_repeat": ratio,
        },
        "max_local_significance": max_z,
        "scan": scan.get_params(),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min": load,
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    for name, v in variants.items():
        print(
            f"{name:13s} median {v['median_seconds']:.2f} s wall, "
            f"{v['median_cpu_seconds']:.2f} s CPU per scan ({args.repeats} repeats)"
        )
    print(f"previous / default CPU time: {statistics.median(ratio):.2f} (median)")


if __name__ == "__main__":
    main()
