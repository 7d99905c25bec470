"""Sensitivity: global significance against injected H -> S h signal, CWoLa and bump.

For each injected signal count, ``--datasets`` pseudo-datasets are built from the
``test`` split of ``ttbar_dilepton`` (20,000 background events drawn without
replacement, the demo's size) plus that many events of ``hsh_signal``. Each is run
through two scans over the same windows (m_bb 40-400 GeV, 40 GeV SRs in 20 GeV steps,
30 GeV sidebands, profile-likelihood p-values):

``cwola``
    the weakly supervised scan: 5-fold gradient-boosted SR-vs-SB classifiers on
    the eight dilepton features, efficiencies 0.1 and 0.01;
``bump``
    the plain bump hunt of the m_bb spectrum with the same sideband fits.

Each dataset's largest local Z becomes a global one against background-only toys of
the same scan (one store per scan, given with ``--cwola-toys`` and ``--bump-toys``;
the bump-scan store is made here, from the ``--toy-generator``, if it is missing).
Two methods: ``empirical`` (toy counting; a lower limit beyond the toys' reach) and
``gross-vitells`` (the upcrossing extrapolation, which reaches beyond the toys). The
table holds the median and the 16 % and 84 % quantiles of each over the datasets,
and the signal counts where the median crosses global Z = 3 and 5 (linear
interpolation between the injected counts; "not reached" if it does not).

    python benchmarks/sensitivity.py --cwola-toys work/gan_toys.sqlite

Writes ``benchmarks/results/sensitivity.json`` and ``sensitivity.png``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from joblib import Parallel, delayed
from pvalue_coverage import make_scan

import generators
import lee
from lee.demo import DEMO_WINDOWS
from lee.toys import ToyResults

RESULTS = Path(__file__).parent / "results" / "sensitivity.json"
N_EVENTS = 20_000
SIGNALS = (0, 100, 200, 300, 400, 600, 800)
METHODS = ("empirical", "gross-vitells")


def make_scans() -> dict:
    windows = lee.SlidingWindows(**DEMO_WINDOWS)
    return {
        "cwola": make_scan(),
        "bump": lee.BumpScan(windows, scan_feature="m_bb", p_value="profile"),
    }


def scan_dataset(scans, background, signal, n_signal, seed) -> dict:
    """Both scans' largest local Z on one pseudo-dataset."""
    rng = np.random.default_rng(seed)
    X = background[rng.choice(len(background), N_EVENTS, replace=False)]
    X = lee.inject_signal(X, signal, n_signal, random_state=rng)
    out = {"n_signal": n_signal, "seed": seed}
    with warnings.catch_warnings():
        # A real signal makes its SR separable from the sidebands, which the
        # sculpting check flags; that is the point here.
        warnings.simplefilter("ignore", lee.SculptingWarning)
        for name, scan in scans.items():
            result = scan.run(X, features=generators.FEATURES, random_state=seed)
            out[name] = result.max_significance
    return out


def crossing(counts, z, level) -> float | None:
    """Smallest signal count where the median Z reaches ``level`` (interpolated)."""
    for i in range(1, len(counts)):
        if z[i - 1] < level <= z[i]:
            f = (level - z[i - 1]) / (z[i] - z[i - 1])
            return float(counts[i - 1] + f * (counts[i] - counts[i - 1]))
    return float(counts[0]) if len(z) and z[0] >= level else None


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signal", type=int, nargs="+", default=list(SIGNALS))
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cwola-toys", type=Path, required=True)
    parser.add_argument("--bump-toys", type=Path, default=Path("work/bump_toys.sqlite"))
    parser.add_argument("--bump-n-toys", type=int, default=2000)
    parser.add_argument(
        "--toy-generator",
        default="pretrained:ttbar_dilepton_wgangp",
        help="sampler of the bump-scan toys: pretrained:NAME or a checkpoint path",
    )
    args = parser.parse_args(argv)

    scans = make_scans()
    toys = {"cwola": ToyResults.read(args.cwola_toys)}
    start = time.perf_counter()
    name = args.toy_generator
    generator = (
        generators.pretrained(name.removeprefix("pretrained:"))
        if name.startswith("pretrained:")
        else generators.load(name)
    )
    with lee.ToyRunner(
        generator,
        scans["bump"],
        N_EVENTS,
        store=args.bump_toys,
        n_jobs=args.jobs,
        random_state=4242,
        progress=False,
    ) as runner:
        toys["bump"] = runner.run(args.bump_n_toys)
    bump_toy_seconds = time.perf_counter() - start

    test = generators.load_sample("ttbar_dilepton", split="test")
    signal = generators.load_sample("hsh_signal")
    seeds = np.random.SeedSequence(2026).generate_state(
        len(args.signal) * args.datasets
    )
    tasks = [
        (n, int(seeds[i * args.datasets + k]))
        for i, n in enumerate(args.signal)
        for k in range(args.datasets)
    ]
    start = time.perf_counter()
    rows = Parallel(n_jobs=args.jobs)(
        delayed(scan_dataset)(scans, test.X, signal.X, n, seed) for n, seed in tasks
    )
    scan_seconds = time.perf_counter() - start

    for row in rows:
        for scan_name in scans:
            for method in METHODS:
                g = lee.global_significance(row[scan_name], toys[scan_name], method)
                row[f"{scan_name}_{method}"] = {"z": g.z, "is_limit": g.is_limit}

    counts = np.array(args.signal, dtype=float)
    table, needed = [], {}
    for scan_name in scans:
        for kind in ("local", *METHODS):
            key = scan_name if kind == "local" else f"{scan_name}_{kind}"
            q = []
            for n in args.signal:
                values = [
                    r[key] if kind == "local" else r[key]["z"]
                    for r in rows
                    if r["n_signal"] == n
                ]
                q.append(np.quantile(values, [0.16, 0.5, 0.84]))
            q = np.array(q)
            table.append(
                {
                    "scan": scan_name,
                    "z": kind,
                    "median": q[:, 1].tolist(),
                    "q16": q[:, 0].tolist(),
                    "q84": q[:, 2].tolist(),
                }
            )
            if kind != "local":
                needed[f"{scan_name}_{kind}"] = {
                    "z3": crossing(counts, q[:, 1], 3.0),
                    "z5": crossing(counts, q[:, 1], 5.0),
                }

    results = {
        "signal_counts": args.signal,
        "background_events": N_EVENTS,
        "datasets_per_point": args.datasets,
        "toys": {
            k: {
                "n_toys": int(v.n_toys),
                "n_failed": int(v.n_failed),
                "sampler": v.config.get("sampler", {}).get("type"),
                "largest_empirical_z": lee.global_significance(99.0, v).z,
            }
            for k, v in toys.items()
        },
        "scan_params": {k: s.get_params() for k, s in scans.items()},
        "table": table,
        "signal_for_global_z": needed,
        "seconds": {"bump_toys": bump_toy_seconds, "datasets": scan_seconds},
        "datasets": rows,
    }
    RESULTS.write_text(json.dumps(results, indent=1, default=float) + "\n")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, scan_name in zip(axes, scans, strict=True):
        for row in (r for r in table if r["scan"] == scan_name):
            line = ax.plot(counts, row["median"], "o-", label=f"{row['z']} (median)")
            ax.fill_between(
                counts, row["q16"], row["q84"], color=line[0].get_color(), alpha=0.15
            )
        ax.axhline(3, color="red", ls=":", lw=1)
        ax.axhline(5, color="red", ls="--", lw=1)
        ax.set_title(f"{scan_name}: {toys[scan_name].n_toys} toys")
        ax.set_xlabel(f"injected H -> S h events in {N_EVENTS:,} ttbar events")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("significance (median, 16-84 % band)")
    fig.tight_layout()
    fig.savefig(RESULTS.with_suffix(".png"), dpi=110)
    plt.close(fig)

    for key, value in needed.items():
        print(f"{key}: global Z = 3 at {value['z3']}, Z = 5 at {value['z5']} events")
    return results


if __name__ == "__main__":
    main()
