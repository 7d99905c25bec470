"""A CWoLa bump hunt in m_bb on ttbar pseudo-data with an injected H -> S h signal.

The pseudo-data are ``--background`` events drawn without replacement from the test
split of the bundled ``ttbar_dilepton`` sample (no generator has seen them), plus
``--signal`` events drawn from ``hsh_signal``, the seed paper's H (270 GeV) -> S h,
S (140 GeV) -> W W, h -> b b signal. Its reconstructed m_bb peaks near the Higgs
mass, while its dilepton features (from S -> W W) differ from ttbar's; that is what
the classifier of the CWoLa hunt (Collins, Howe and Nachman, arXiv:1805.02664,
1902.02634) picks up when it is trained to tell each signal region from its
sidebands on the eight dilepton features.

The script scans m_bb from 40 to 400 GeV in 40 GeV windows (20 GeV steps, 30 GeV
sidebands), keeps the 10% and 1% most SR-like events of every window, fits the
sidebands and reports the local significance of every window. It then checks that
the most significant window contains the median m_bb of the signal sample, and
saves the figure and the result as JSON.

    python examples/cwola_bump_hunt.py [--signal 300] [--background 20000]
                                       [--seed 1] [--outdir cwola_bump_hunt]

The local significance found here is not the answer to "how significant is the
bump": the scan tried many windows and two selections, and retrained a classifier
for each. Background-only datasets, run through the same scan (see
``benchmarks/null_max_significance.py`` and :class:`lee.ToyRunner`), calibrate it.
"""

from __future__ import annotations

import argparse
import json
import logging
import warnings
from pathlib import Path

import numpy as np

import generators
import lee

FEATURES = ["pt_l0", "pt_l1", "pt_ll", "m_ll", "met", "mt", "dphi_ll", "dr_ll"]


def demo_scan(random_state=0) -> lee.CWoLaScan:
    """The scan of this example (also used by the background-only study)."""
    windows = lee.SlidingWindows(
        scan_range=(40, 400), width=40, step=20, sideband=30, bins=8
    )
    return lee.CWoLaScan(
        windows,
        scan_feature="m_bb",
        features=FEATURES,
        n_folds=5,
        efficiencies=(0.1, 0.01),
        random_state=random_state,
    )


def pseudo_data(n_background: int, n_signal: int, seed: int):
    """Test-split ttbar subsample plus ``n_signal`` hsh events, and the labels."""
    rng = np.random.default_rng(seed)
    background = generators.load_sample("ttbar_dilepton", split="test")
    signal = generators.load_sample("hsh_signal")
    picked = background.X[rng.choice(len(background), n_background, replace=False)]
    X, is_signal = lee.inject_signal(
        picked, signal.X, n_signal, return_labels=True, random_state=rng
    )

    return X, is_signal, background.features, signal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signal", type=int, default=300)
    parser.add_argument("--background", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--outdir", type=Path, default=Path("cwola_bump_hunt"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    X, is_signal, features, signal = pseudo_data(
        args.background, args.signal, args.seed
    )
    median = float(np.median(signal.column("m_bb")))
    scan = demo_scan(random_state=args.seed)
    scan.progress = True

    # Sculpting warnings are reported, not fatal: the background-only study says
    # how large a local significance the scan makes without any signal.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", lee.SculptingWarning)
        result = scan.run(X, features=features)
    for w in caught:
        print("warning:", w.message)

    m = X[:, list(features).index("m_bb")]
    print(
        f"{args.signal} signal events in {len(X)}; signal median m_bb {median:.1f} GeV"
    )
    print(" window SR (GeV)   n_SR  inj.  AUC    Z(eff=0.1)  Z(eff=0.01)")
    for i, w in enumerate(scan.windows):
        n_inj = int((is_signal & w.in_sr(m)).sum())
        z = result.significances[i]
        print(
            f"{i:7d} {w.sr[0]:4.0f}-{w.sr[1]:4.0f} {result.n_sr[i]:6d} {n_inj:5d} "
            f"{result.auc[i]:.3f} {z[0]:10.2f} {z[1]:11.2f}"
        )

    best = result.best_window
    found = best is not None and best.sr[0] <= median < best.sr[1]
    print(
        f"max local Z {result.max_significance:.2f} in SR {best.sr} at efficiency "
        f"{result.best_efficiency}: "
        + ("contains" if found else "does NOT contain")
        + f" the signal median {median:.1f} GeV"
    )

    args.outdir.mkdir(parents=True, exist_ok=True)
    result.plot().savefig(args.outdir / "cwola_scan.png", dpi=120)
    summary = {
        "n_background": args.background,
        "n_signal": args.signal,
        "seed": args.seed,
        "signal_median_m_bb": median,
        "found_in_median_window": bool(found),
        "scan": scan.get_params(),
        "result": result.to_dict(spectra=False),
    }
    (args.outdir / "cwola_scan.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.outdir / 'cwola_scan.png'} and cwola_scan.json")


if __name__ == "__main__":
    main()
