"""Running toys on a dask.distributed cluster.

Toys are independent, so they spread over any number of machines. lee-toys sends
them through joblib's dask backend: start (or connect to) a ``distributed.Client``
and give the :class:`lee.ToyRunner` ``backend="dask"``. Workers only compute; the
parent process alone writes the SQLite store, so the store works on a laptop
talking to a remote cluster. Every toy has its own seed, so the toys are the same
whatever runs them: this script checks that by rerunning the first toys with joblib's
local loky backend and comparing.

On this machine (the default) it starts a ``LocalCluster`` of ``--workers``
single-threaded workers. On an analysis facility, start a scheduler and workers
there, each worker with one thread per toy slot::

    dask scheduler                                   # prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nthreads 1 --nworkers 8

(or a ``dask_jobqueue`` cluster on a batch system) and pass its address::

    python examples/dask_toys.py --scheduler tcp://HOST:8786 --toys 2000

The workers need lee-toys installed (``pip install 'lee-toys[dask]'``) and the
same versions as the client. From the command line the same is::

    lee toys study.toml --backend dask --scheduler tcp://HOST:8786

Run it with ``python examples/dask_toys.py`` (about 2 minutes on two cores).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
from dask.distributed import Client, LocalCluster

import generators
import lee

logger = logging.getLogger("dask_toys")


def toy_generator():
    """The shipped WGAN-GP, or a bootstrap of the training split if not installed."""
    if "ttbar_dilepton_wgangp" in generators.checkpoint.available_pretrained():
        return generators.pretrained("ttbar_dilepton_wgangp")
    logger.warning("shipped WGAN-GP not installed; using a bootstrap of the MC")
    train = generators.load_sample("ttbar_dilepton", split="train")
    return generators.EmpiricalSampler(features=train.features).fit(train.X)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scheduler", help="address of a running dask scheduler (default: local)"
    )
    parser.add_argument("--workers", type=int, default=2, help="local workers")
    parser.add_argument("--toys", type=int, default=16)
    parser.add_argument("--events", type=int, default=20_000, help="events per toy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--store", type=Path, default=Path("dask_toys.sqlite"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    sampler = toy_generator()
    windows = lee.SlidingWindows(
        scan_range=(40, 400), width=40, step=20, sideband=30, bins=8
    )
    scan = lee.CWoLaScan(
        windows, scan_feature="m_bb", efficiencies=(0.1, 0.01), random_state=args.seed
    )

    # The cluster: a running one if given, else local single-threaded workers.
    if args.scheduler:
        cluster = None
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1)
        client = Client(cluster)
    logger.info("dask dashboard: %s", client.dashboard_link)

    try:
        start = time.perf_counter()
        runner = lee.ToyRunner(
            sampler,
            scan,
            n_events=args.events,
            store=args.store,
            backend="dask",
            random_state=args.seed,
            progress=True,
        )
        with runner:
            toys = runner.run(args.toys)
        seconds = time.perf_counter() - start
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print(
        f"{toys.n_toys} toys on dask in {seconds:.0f} s "
        f"({toys.n_failed} failed), stored in {args.store}"
    )

    # The same seed gives the same toys on any backend: rerun two locally.
    check = lee.ToyRunner(
        sampler,
        scan,
        n_events=args.events,
        store=None,
        n_jobs=2,
        backend="loky",
        random_state=args.seed,
        progress=False,
    ).run(2)
    same = np.array_equal(check.significances, toys.significances[:2], equal_nan=True)
    print(f"first two toys identical with the loky backend: {same}")

    glob = lee.global_significance(3.0, toys, method="gross-vitells")
    print(f"a local Z of 3 in this scan is globally {glob}")


if __name__ == "__main__":
    main()
