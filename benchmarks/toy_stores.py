"""Background-only toy stores for the validation studies, one per toy source.

Every store runs the same CWoLa scan as ``benchmarks/pvalue_coverage.py`` (the demo's
windows and classifier) on toys of ``--events`` events (Poisson mean), from one of
three sources:

``mc``
    fresh Monte Carlo: :class:`generators.mc.PythiaGenerator` (``ttbar``) as the
    :class:`lee.ToyRunner`'s sampler. Each toy seeds its own Pythia instance from
    its ``SeedSequence`` child; the bundled sample used the Pythia seeds 1000-1019,
    and a toy's seed is drawn from 1 to 900,000,000, so a toy repeats a training
    stream with probability about 2e-8. About a minute of one core per toy of
    5,000 selected events: this is the expensive source, built up over several runs.
``wgangp``
    the shipped WGAN-GP, ``generators.pretrained("ttbar_dilepton_wgangp")``.
``empirical``
    :class:`generators.EmpiricalSampler`, a bootstrap of the ``train`` split.

The stores hold one row of results per toy (the local significances, not the
events), so they are small enough to commit, and a later run of the same command
adds the missing toys::

    python benchmarks/toy_stores.py mc --toys 400 --jobs 1
    python benchmarks/toy_stores.py wgangp --toys 1000

Then ``python benchmarks/pvalue_coverage.py --events 5000 --toys mc=... ...``
compares them with held-out pseudo-data.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from pvalue_coverage import make_scan

import generators
import lee

RESULTS = Path(__file__).parent / "results"
SOURCES = ("mc", "wgangp", "empirical")
#: One master seed per source, so that the three toy sets are independent.
SEEDS = {"mc": 7_001, "wgangp": 7_002, "empirical": 7_003}


def make_sampler(source: str):
    if source == "mc":
        from generators.mc import PythiaGenerator

        return PythiaGenerator("ttbar", seed=SEEDS["mc"])
    if source == "wgangp":
        return generators.pretrained("ttbar_dilepton_wgangp")
    train = generators.load_sample("ttbar_dilepton", split="train")

    return generators.EmpiricalSampler(train.features).fit(train.X)


def store_path(source: str, n_events: int) -> Path:
    return RESULTS / f"toys_{source}_{n_events // 1000}k.sqlite"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", choices=SOURCES)
    parser.add_argument("--toys", type=int, required=True, help="total wanted")
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--store", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    store = args.store or store_path(args.source, args.events)
    start = time.perf_counter()
    with lee.ToyRunner(
        make_sampler(args.source),
        make_scan(),
        args.events,
        store=store,
        n_jobs=args.jobs,
        random_state=SEEDS[args.source],
        progress=False,
    ) as runner:
        toys = runner.run(args.toys)
    logging.info(
        "%s: %d toys in the store (%d failed), %.0f s in this run; %s",
        args.source,
        toys.n_toys,
        toys.n_failed,
        time.perf_counter() - start,
        store,
    )


if __name__ == "__main__":
    main()
