"""Toy throughput of lee.ToyRunner with the loky backend, for 1 and 2 workers.

Runs the demo's window set (40-400 GeV, 40 GeV wide, 20 GeV steps, 30 GeV
sidebands, 8 bins) through a plain :class:`lee.BumpScan` with profile-likelihood
p-values on toys of 20,000 events (Poisson), and writes the median toys per second
of several repeats to ``benchmarks/results/toys.json``.

The sampler is a bootstrap of the bundled ``ttbar_dilepton`` training sample when
it is installed; otherwise a parametric stand-in with the same columns (``m_bb``
falling exponentially above 40 GeV, the other eight features standard normal),
which costs the same to draw. The JSON records which one ran.

``--scan cwola`` measures the issue's reference configuration instead (CWoLa scan
of the same windows, 5 folds, efficiencies 0.1 and 0.01, default classifier) and
writes it under the ``"cwola"`` key of the same file (the bump-scan numbers stay at
the top level). Toys per hour are extrapolated from a few dozen toys: the median
rate of ``--repeats`` runs of ``--toys`` toys each, times 3600. Because the machine
may be shared, the CWoLa run also records the CPU seconds of one toy (sampling plus
scan, run in this process on one thread) and the toys per hour that two idle cores
would give at that cost, ``2 * 3600 / cpu_seconds_per_toy`` (an upper bound: it
leaves out the workers' start-up and the parent's bookkeeping).

``--gross-vitells N`` also runs ``N`` toys of the chosen scan on 2 workers (stored
in ``--store``, so an interrupted run resumes) and writes
``results/gross_vitells_<scan>.json``: the Gross-Vitells global p at local Z = 3
against the brute-force toy count (its bias on this coarse, real scan), the number
of toys each method needs for a 20% precision on the global p at local Z = 4, and
the three figures of the toy study next to it.

Usage::

    python benchmarks/bench_toys.py [--toys 20] [--repeats 3] [--scan bump|cwola]
                                    [--gross-vitells 3000 --store toys.sqlite]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import generators
import lee
import lee.plotting
import lee.significance
from generators.base import Sampler, check_random_state
from generators.kinematics import FEATURES

RESULTS = Path(__file__).parent / "results" / "toys.json"
N_EVENTS = 20_000


class FallingSpectrum(Sampler):
    """Stand-in background: m_bb = 40 GeV + Exp(60 GeV), other columns N(0, 1)."""

    features = tuple(FEATURES)

    def __repr__(self) -> str:
        return "FallingSpectrum()"

    def sample(self, n, *, random_state=None, conditions=None):
        rng = check_random_state(random_state)
        X = rng.standard_normal((n, len(self.features)))
        X[:, self.features.index("m_bb")] = 40.0 + rng.exponential(60.0, n)

        return X


def make_sampler():
    if "ttbar_dilepton" in generators.available_samples():
        from generators.empirical import EmpiricalSampler

        sample = generators.load_sample("ttbar_dilepton", split="train")
        sampler = EmpiricalSampler(features=sample.features).fit(sample.X)
        return sampler, "EmpiricalSampler(ttbar_dilepton/train)"

    return FallingSpectrum(), "FallingSpectrum (bundled sample not installed)"


def make_scan(kind: str):
    windows = lee.SlidingWindows(
        scan_range=(40, 400), width=40, step=20, sideband=30, bins=8
    )
    if kind == "bump":
        return lee.BumpScan(windows, scan_feature="m_bb", p_value="profile")

    inputs = [f for f in FEATURES if f != "m_bb"]
    return lee.CWoLaScan(
        windows,
        scan_feature="m_bb",
        features=inputs,
        n_folds=5,
        efficiencies=(0.1, 0.01),
        random_state=0,
    )


def toys_per_second(sampler, scan, *, n_jobs, n_toys, repeats) -> list[float]:
    rates = []
    # One warm-up run starts the loky workers; the executor is reused afterwards.
    runner = lee.ToyRunner(
        sampler, scan, N_EVENTS, n_jobs=n_jobs, progress=False, random_state=10_000
    )
    runner.run(n_jobs)
    for repeat in range(repeats):
        runner = lee.ToyRunner(
            sampler, scan, N_EVENTS, n_jobs=n_jobs, progress=False, random_state=repeat
        )
        start = time.perf_counter()
        toys = runner.run(n_toys)
        rates.append(n_toys / (time.perf_counter() - start))
        if toys.n_failed:
            raise RuntimeError(f"{toys.n_failed} toys failed: {toys.errors}")

    return rates


def cpu_seconds_per_toy(sampler, scan, n_toys: int) -> list[float]:
    """CPU seconds of each of ``n_toys`` toys run one after another in this process."""
    seconds = []
    for k in range(n_toys):
        runner = lee.ToyRunner(
            sampler,
            scan,
            N_EVENTS,
            backend="sequential",
            progress=False,
            random_state=20_000 + k,
        )
        start = time.process_time()
        toys = runner.run(1)
        seconds.append(time.process_time() - start)
        if toys.n_failed:
            raise RuntimeError(f"{toys.n_failed} toys failed: {toys.errors}")

    return seconds


def write_results(results: dict, kind: str) -> None:
    """Bump-scan numbers at the top level of toys.json, CWoLa ones under "cwola"."""
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if kind == "bump":
        results = {**results, "cwola": previous.get("cwola")}
    else:
        results = {**previous, "cwola": results}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def gross_vitells_study(sampler, scan, kind: str, n_toys: int, store) -> dict:
    """Gross-Vitells against brute force on the toys of a real scan."""
    runner = lee.ToyRunner(
        sampler,
        scan,
        N_EVENTS,
        store=store,
        n_jobs=2,
        random_state=2024,
        progress=False,
    )
    toys = runner.run(n_toys)

    results = {"n_toys": toys.n_toys, "n_failed": toys.n_failed, "store": str(store)}
    for z in (3.0, 4.0):
        for method in lee.significance.METHODS:
            glob = lee.global_significance(z, toys, method)
            results[f"{method}_at_{z:g}"] = {
                "p_value": glob.p_value,
                "p_interval": list(glob.p_interval),
                "is_limit": glob.is_limit,
            }
    empirical = results["empirical_at_3"]
    gv = results["gross-vitells_at_3"]
    results["gross_vitells_bias_at_3"] = gv["p_value"] / empirical["p_value"] - 1
    results["gross_vitells_bias_at_3_interval"] = [
        gv["p_value"] / empirical["p_interval"][1] - 1,
        gv["p_value"] / empirical["p_interval"][0] - 1,
    ]

    # 20% precision: 25 upcrossings of u0 in all (Poisson), or 25 (1 - p) / p toys
    # for 25 exceedances at the global p of Z = 4 (binomial).
    mean_upcrossings = lee.global_significance(3.0, toys, "gross-vitells").details[
        "mean_upcrossings"
    ]
    p4 = results["gross-vitells_at_4"]["p_value"]
    results["toys_for_20pct_at_4"] = {
        "gross_vitells": math.ceil(25 / mean_upcrossings),
        "brute_force": math.ceil(25 * (1 - p4) / p4),
    }
    results["toys_for_20pct_at_4"]["ratio"] = (
        results["toys_for_20pct_at_4"]["brute_force"]
        / results["toys_for_20pct_at_4"]["gross_vitells"]
    )

    figures = {
        "max_significance": toys.plot_max_significance(),
        "global_p": lee.plotting.plot_global_significance(toys),
        "local_significances": toys.plot_local_significances(),
    }
    for name, fig in figures.items():
        fig.savefig(RESULTS.with_name(f"toys_{kind}_{name}.png"), dpi=100)

    return results


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toys", type=int, default=20, help="toys per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scan", choices=("bump", "cwola"), default="bump")
    parser.add_argument("--gross-vitells", type=int, default=0, metavar="N_TOYS")
    parser.add_argument(
        "--store",
        default=Path(tempfile.gettempdir()) / "lee_bench_toys.sqlite",
        help="toy store of the Gross-Vitells study (resumed if it exists)",
    )
    parser.add_argument(
        "--skip-rate", action="store_true", help="skip the toys-per-second runs"
    )
    args = parser.parse_args(argv)

    sampler, sampler_name = make_sampler()
    scan = make_scan(args.scan)
    results = {
        "scan": args.scan,
        "scan_params": scan.get_params(),
        "sampler": sampler_name,
        "n_events": N_EVENTS,
        "n_toys_per_repeat": args.toys,
        "repeats": args.repeats,
        "backend": "loky",
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "machine": platform.platform(),
        "numpy": np.__version__,
        "runs": {},
    }
    if args.gross_vitells:
        gv = gross_vitells_study(
            sampler, scan, args.scan, args.gross_vitells, args.store
        )
        gv["scan"], gv["sampler"] = args.scan, sampler_name
        path = RESULTS.with_name(f"gross_vitells_{args.scan}.json")
        path.write_text(json.dumps(gv, indent=2) + "\n")
    if args.skip_rate:
        return results

    for n_jobs in (1, 2):
        rates = toys_per_second(
            sampler, scan, n_jobs=n_jobs, n_toys=args.toys, repeats=args.repeats
        )
        results["runs"][str(n_jobs)] = {
            "toys_per_second": rates,
            "median_toys_per_second": statistics.median(rates),
            "median_toys_per_hour": 3600 * statistics.median(rates),
        }
    one, two = (results["runs"][k]["median_toys_per_second"] for k in ("1", "2"))
    results["speedup_2_over_1"] = two / one
    if args.scan == "cwola":
        cpu = cpu_seconds_per_toy(sampler, scan, n_toys=args.toys)
        results["cpu_seconds_per_toy"] = cpu
        results["median_cpu_seconds_per_toy"] = statistics.median(cpu)
        results["cpu_limited_toys_per_hour_2_cores"] = 2 * 3600 / statistics.median(cpu)
    results["load_average_at_end"] = list(os.getloadavg())

    write_results(results, args.scan)

    return results


if __name__ == "__main__":
    main()
