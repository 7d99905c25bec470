"""Speed of one CWoLa scan: the unit of work of every toy.

The issue's reference configuration: 20,000 events, about 12 windows, 5 folds and
two efficiencies (0.1 and 0.01), the default gradient-boosted classifier and
profile-likelihood p-values. Each repeat scans a fresh subsample (its own seed) of
the bundled ``ttbar_dilepton`` test split when it is installed, otherwise of a
parametric stand-in with the same columns (``m_bb`` falling exponentially above
20 GeV, the other features standard normal); the JSON records which one ran. The
median wall time of the repeats is reported, since this machine is shared and single
timings are noisy; the first, warm-up scan is not counted. The scan runs on one
thread, so its CPU time (also recorded) is what the wall time would be on an idle
core; on a loaded machine the wall time is longer.

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    w = windows()
    scan = lee.CWoLaScan(w, scan_feature="m_bb", n_folds=5, efficiencies=(0.1, 0.01))
    X, source = events(args.events, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lee.SculptingWarning)
        scan.run(X, features=FEATURES, random_state=0)  # warm-up: imports, caches

        seconds, cpu_seconds, max_z = [], [], []
        for k in range(args.repeats):
            X, _ = events(args.events, seed=k + 1)
            start, cpu = time.perf_counter(), time.process_time()
            res = scan.run(X, features=FEATURES, random_state=k)
            seconds.append(time.perf_counter() - start)
            cpu_seconds.append(time.process_time() - cpu)
            max_z.append(res.max_significance)

    result = {
        "benchmark": "CWoLa scan wall time",
        "events": args.events,
        "windows": len(w),
        "folds": 5,
        "efficiencies": [0.1, 0.01],
        "classifier": "hgb (lee.classifier.HGB_DEFAULTS)",
        "data": source,
        "repeats": args.repeats,
        "median_seconds": statistics.median(seconds),
        "seconds": seconds,
        "median_cpu_seconds": statistics.median(cpu_seconds),
        "max_local_significance": max_z,
        "scan": scan.get_params(),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"median {result['median_seconds']:.2f} s wall, "
        f"{result['median_cpu_seconds']:.2f} s CPU per scan ({args.repeats} repeats)"
    )


if __name__ == "__main__":
    main()
