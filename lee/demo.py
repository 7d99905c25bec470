"""The end-to-end demo behind ``lee demo``: a CWoLa bump hunt and its toy study.

On the bundled samples alone:

1. pseudo-data: ``DEMO_EVENTS`` ttbar events from the *test* split (events the
   shipped generator never saw) with ``n_signal`` ``H -> S h`` events injected;
2. the shipped WGAN-GP (``pretrained:ttbar_dilepton_wgangp``) as the toy generator,
   compared with held-out MC in a fidelity report;
3. the CWoLa scan in ``m_bb`` over the windows of :data:`DEMO_WINDOWS`;
4. background-only toys from the generator, each through the whole scan;
5. the global significance by all three methods, and a report folder.

The demo is an ordinary :class:`~lee.study.Study`: the folder it writes holds its
``study.toml``, so ``lee toys DIR/study.toml --toys 1000`` adds toys to the same
store and ``lee report DIR/study.toml`` rebuilds the report.

If the shipped checkpoint is missing (a source checkout before the generator is
trained), the demo falls back to :class:`generators.EmpiricalSampler`, a bootstrap
of the training split, logs a warning and says so in the report and the summary.
"""

from __future__ import annotations

import logging
import time

from generators import checkpoint
from generators.data import load_sample
from generators.empirical import EmpiricalSampler

from .pipeline import run_study, study_seeds
from .study import (
    DataSection,
    FidelitySection,
    ScanSection,
    Study,
    ToysSection,
    WindowsSection,
)

__all__ = [
    "DEMO_EVENTS",
    "DEMO_GENERATOR",
    "DEMO_SIGNAL",
    "DEMO_TOYS",
    "DEMO_WINDOWS",
    "QUICK",
    "demo_study",
    "run_demo",
]

logger = logging.getLogger(__name__)

#: Pseudo-data size: background events drawn from the test split.
DEMO_EVENTS = 20_000
#: Injected signal events (1.5 % of the data): enough for the largest local
#: significance to sit in the window of the signal's m_bb peak, too little for a
#: discovery once the look-elsewhere effect is counted.
DEMO_SIGNAL = 300
#: Toys of the full demo, sized for about ten minutes on two cores (a toy of
#: 20,000 events costs a little over a second of one core).
DEMO_TOYS = 750
#: The windows in m_bb (GeV): 40 GeV SRs every 20 GeV with 30 GeV sidebands.
DEMO_WINDOWS = {
    "scan_range": [40.0, 400.0],
    "width": 40.0,
    "step": 20.0,
    "sideband": 30.0,
    "bins": 8,
}
#: The shipped generator the toys come from.
DEMO_GENERATOR = "ttbar_dilepton_wgangp"
#: What ``--quick`` changes: a smaller dataset, fewer folds and toys (about a
#: minute on two cores). The statistics are then only indicative.
QUICK = {
    "n_events": 5_000,
    "n_signal": 60,
    "n_toys": 20,
    "n_folds": 3,
    "efficiencies": [0.1],
    "fidelity_events": 10_000,
}


def demo_study(
    *,
    n_toys: int | None = None,
    n_signal: int | None = None,
    out: str = "lee_demo",
    n_jobs: int = 2,
    seed: int = 0,
    quick: bool = False,
    progress: bool = True,
) -> Study:
    """The demo as a :class:`~lee.study.Study` (``None`` picks the demo's default)."""
    n_events = QUICK["n_events"] if quick else DEMO_EVENTS
    if n_signal is None:
        n_signal = QUICK["n_signal"] if quick else DEMO_SIGNAL
    if n_toys is None:
        n_toys = QUICK["n_toys"] if quick else DEMO_TOYS
    scan = ScanSection(scan_feature="m_bb")
    if quick:
        scan.n_folds = QUICK["n_folds"]
        scan.efficiencies = list(QUICK["efficiencies"])

    return Study(
        name="lee demo (quick)" if quick else "lee demo",
        seed=seed,
        out=out,
        progress=progress,
        data=DataSection(
            path="bundled:ttbar_dilepton/test",
            n_events=n_events,
            signal="bundled:hsh_signal",
            n_signal=n_signal,
        ),
        fidelity=FidelitySection(
            reference="bundled:ttbar_dilepton/test",
            n_events=QUICK["fidelity_events"] if quick else 50_000,
        ),
        windows=WindowsSection(**DEMO_WINDOWS),
        scan=scan,
        toys=ToysSection(n_toys=n_toys, n_jobs=n_jobs),
    ).with_overrides({"generator.checkpoint": f"pretrained:{DEMO_GENERATOR}"})


def run_demo(study: Study):
    """Run the demo study and write its report folder; returns the StudyReport.

    Takes the study from :func:`demo_study` (or any study on the bundled samples).
    When the shipped checkpoint is missing, an :class:`~generators.EmpiricalSampler`
    of the training split makes the toys instead; it is saved as
    ``generator.pt`` in the output folder, and the report says so.
    """
    start = time.perf_counter()
    notes = []
    sampler = None
    generator = {}

    name = study.generator.checkpoint.removeprefix("pretrained:")
    if name not in checkpoint.available_pretrained():
        message = (
            f"the shipped generator {name!r} is not installed; the toys come from "
            "an EmpiricalSampler (bootstrap of the ttbar training split) instead. "
            "Its toys repeat MC events, so they are correlated when large."
        )
        logger.warning(message)
        notes.append(message)

        train = load_sample("ttbar_dilepton", split="train")
        sampler = EmpiricalSampler(features=train.features).fit(train.X)
        path = study.out_dir / "generator.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        sampler.save(path)
        study = study.with_overrides({"generator.checkpoint": str(path)})
        generator = {
            "type": "EmpiricalSampler",
            "checkpoint": str(path),
            "fallback": True,
            "description": "EmpiricalSampler of the ttbar training split (FALLBACK: "
            f"{name} not installed)",
        }
    else:
        generator = {
            "description": f"shipped WGAN-GP {name}",
            "fallback": False,
        }
    logger.info("seeds derived from %d: %s", study.seed, study_seeds(study.seed))

    report = run_study(study, sampler=sampler, generator=generator, notes=notes)
    report.timings["total"] = time.perf_counter() - start
    report.write(study.out_dir)

    return report
