"""Scale: 10,000 toys through dask.distributed, with a worker killed on the way.

A :class:`lee.ToyRunner` with ``backend="dask"`` runs ``--toys`` background-only toys
of the plain bump scan (the demo's windows in m_bb, profile-likelihood p-values) on a
``LocalCluster`` of ``--workers`` single-threaded workers. The toys come from the
shipped WGAN-GP (a bootstrap of the training split if it is not installed). While
they run, a monitor thread

* counts the rows of the SQLite store through a read-only connection,
* samples the resident memory of this process and of every cluster process (nannies
  and workers) once a second and keeps the peaks,
* sends SIGKILL to one worker process once ``--kill-after`` toys are stored; its
  nanny starts a new one and the scheduler reruns the toys it held.

Afterwards the store must hold exactly the toys asked for, each index once, none
failed; the global p-values at local Z = 3 and 3.5 from the empirical count and
Gross-Vitells are written with the rest to ``benchmarks/results/scale.json``::

    python benchmarks/scale.py --toys 10000 --events 5000 --workers 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from dask.distributed import Client, LocalCluster

import generators
import lee

RESULTS = Path(__file__).parent / "results" / "scale.json"
logger = logging.getLogger("scale")


def toy_sampler():
    if "ttbar_dilepton_wgangp" in generators.checkpoint.available_pretrained():
        return "shipped WGAN-GP", generators.pretrained("ttbar_dilepton_wgangp")
    train = generators.load_sample("ttbar_dilepton", split="train")
    sampler = generators.EmpiricalSampler(train.features).fit(train.X)
    return "EmpiricalSampler of the train split", sampler


def stored_toys(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM toys").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet, or locked for a moment
        return 0


class Monitor(threading.Thread):
    """Peak memory of this process and the cluster's, and the worker kill."""

    def __init__(self, client: Client, store: Path, kill_after: int | None):
        super().__init__(daemon=True)
        self.client, self.store, self.kill_after = client, store, kill_after
        self.stop = threading.Event()
        self.peak_parent = self.peak_cluster = self.peak_single_worker = 0
        self.killed: dict | None = None

    def run(self) -> None:
        me = psutil.Process()
        while not self.stop.wait(1.0):
            children = me.children(recursive=True)
            rss = {}
            for p in children:
                with contextlib.suppress(psutil.Error):
                    rss[p.pid] = p.memory_info().rss
            self.peak_parent = max(self.peak_parent, me.memory_info().rss)
            self.peak_cluster = max(self.peak_cluster, sum(rss.values()))
            self.peak_single_worker = max(self.peak_single_worker, *rss.values(), 0)
            if self.kill_after is not None and self.killed is None:
                n = stored_toys(self.store)
                if n >= self.kill_after:
                    self.kill_worker(n)

    def kill_worker(self, n_stored: int) -> None:
        pids = self.client.run(os.getpid)
        address, pid = sorted(pids.items())[0]
        os.kill(pid, signal.SIGKILL)
        self.killed = {"address": address, "pid": pid, "toys_stored_then": n_stored}
        logger.info(
            "killed worker %s (pid %d) at %d stored toys", address, pid, n_stored
        )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toys", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-after", type=int, default=2_000)
    parser.add_argument("--store", type=Path, default=Path("work/scale.sqlite"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for stale in (args.store, Path(f"{args.store}-journal")):
        stale.unlink(missing_ok=True)
    args.store.parent.mkdir(parents=True, exist_ok=True)

    source, sampler = toy_sampler()
    windows = lee.SlidingWindows(
        scan_range=(40, 400), width=40, step=20, sideband=30, bins=8
    )
    scan = lee.BumpScan(windows, scan_feature="m_bb", p_value="profile")

    cluster = LocalCluster(
        n_workers=args.workers, threads_per_worker=1, dashboard_address=None
    )
    client = Client(cluster)
    monitor = Monitor(client, args.store, args.kill_after)
    monitor.start()
    start = time.perf_counter()
    try:
        with lee.ToyRunner(
            sampler,
            scan,
            args.events,
            store=args.store,
            backend="dask",
            random_state=2027,
            progress=False,
        ) as runner:
            toys = runner.run(args.toys)
    finally:
        seconds = time.perf_counter() - start
        monitor.stop.set()
        monitor.join()
        client.close()
        cluster.close()

    with sqlite3.connect(args.store) as db:
        rows, distinct, lo, hi = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT toy_index), MIN(toy_index), "
            "MAX(toy_index) FROM toys"
        ).fetchone()
    maxima = toys.max_significances
    results = {
        "toys_requested": args.toys,
        "events_per_toy": args.events,
        "sampler": source,
        "scan": scan.get_params(),
        "workers": args.workers,
        "wall_seconds": seconds,
        "toys_per_second": args.toys / seconds,
        "store": {
            "rows": rows,
            "distinct_indices": distinct,
            "index_range": [lo, hi],
            "failed": int(toys.n_failed),
            "bytes": args.store.stat().st_size,
            "sound": rows == distinct == args.toys and (lo, hi) == (0, args.toys - 1),
        },
        "killed_worker": monitor.killed,
        "peak_rss_mib": {
            "parent": monitor.peak_parent / 2**20,
            "cluster_total": monitor.peak_cluster / 2**20,
            "largest_single_process": monitor.peak_single_worker / 2**20,
        },
        "max_z_median": float(np.nanmedian(maxima)),
        "global_p": {},
    }
    for z in (3.0, 3.5):
        for method in ("empirical", "gross-vitells"):
            g = lee.global_significance(z, toys, method=method)
            results["global_p"][f"{method}_at_{z:g}"] = {
                "p_value": g.p_value,
                "p_interval": list(g.p_interval),
                "is_limit": g.is_limit,
            }
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "scan"}, indent=1))

    return results


if __name__ == "__main__":
    main()
