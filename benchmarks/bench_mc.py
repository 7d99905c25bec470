"""Speed of the reference Monte Carlo: selected events per second on one core.

This is the figure a generator's sampling rate is compared with. Each repeat draws
``--selected`` ttbar events from a fresh :class:`generators.mc.PythiaGenerator`
(initialisation included) with its own seed; the median over repeats is reported,
since this machine is shared and single timings are noisy.

    python benchmarks/bench_mc.py --repeats 5 --selected 2000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "mc.json"


def run(process: str, n_selected: int, seed: int) -> dict:
    from generators.mc import PythiaGenerator

    gen = PythiaGenerator(process, seed=seed)
    start = time.perf_counter()
    gen.sample(n_selected)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "n_generated": gen.n_generated_,
        "n_selected": gen.n_selected_,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--selected", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    results = {}
    for process in ("ttbar", "hsh"):
        runs = [run(process, args.selected, seed=101 + k) for k in range(args.repeats)]
        rates = [r["n_selected"] / r["seconds"] for r in runs]
        per_event = [1e3 * r["seconds"] / r["n_generated"] for r in runs]
        results[process] = {
            "selected_events_per_second_median": statistics.median(rates),
            "selected_events_per_second_runs": rates,
            "ms_per_generated_event_median": statistics.median(per_event),
            "selection_efficiency": sum(r["n_selected"] for r in runs)
            / sum(r["n_generated"] for r in runs),
        }
        print(process, json.dumps(results[process], indent=1))

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "reference Monte Carlo, one core",
                "date": time.strftime("%Y-%m-%d"),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "pythia8mc": metadata.version("pythia8mc"),
                "repeats": args.repeats,
                "selected_per_repeat": args.selected,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
