"""BumpScan in Poisson-reference mode against pyBumpHunter on identical windows.

The full study (global p-values, speed) is ``benchmarks/bumphunter_agreement.py``;
this checks the local p-values on a small histogram in a few seconds.
"""

import contextlib
import io

import numpy as np
import pytest

import lee

pybumphunter = pytest.importorskip("pyBumpHunter")

EDGES = np.linspace(0.0, 16.0, 17)
WIDTH_MAX = 6


def histograms(seed):
    """A falling reference and a Poisson draw of it with a bump in bins 7-9."""
    reference = 400.0 * np.exp(-EDGES[:-1] / 5.0)
    bump = np.zeros_like(reference)
    bump[7:10] = 15.0
    observed = np.random.default_rng(seed).poisson(reference + bump)
    return reference, observed


def bumphunter_local_p(observed, reference):
    """pyBumpHunter's local p-values, windows ordered by width, then position."""
    bh = pybumphunter.BumpHunter1D(
        bins=EDGES, width_min=1, width_max=WIDTH_MAX, npe=0, nworker=1, seed=0
    )
    # It prints its progress and reseeds NumPy's global generator: keep both local.
    state = np.random.get_state()  # noqa: NPY002
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            bh.bump_scan(observed, reference, is_hist=True, do_pseudo=False)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    return np.concatenate(list(bh.res_ar))


def lee_scan(observed, reference):
    scan = lee.BumpScan.from_histogram(
        EDGES, reference, 1, WIDTH_MAX, scan_feature="m", p_value="poisson"
    )
    centres = 0.5 * (EDGES[1:] + EDGES[:-1])
    return scan, scan.run(np.repeat(centres, observed))


def test_windows_are_bumphunters_in_its_order():
    reference, observed = histograms(seed=0)
    scan, _ = lee_scan(observed, reference)
    expected = [
        (EDGES[start], EDGES[start + width])
        for width in range(1, WIDTH_MAX + 1)
        for start in range(len(EDGES) - width)
    ]
    assert [tuple(w.sr) for w in scan.windows] == expected


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_local_p_values_agree_to_1e6_relative_on_excesses(seed):
    reference, observed = histograms(seed)
    _, result = lee_scan(observed, reference)
    theirs = bumphunter_local_p(observed, reference)
    ours = result.p_values[:, 0]
    excess = result.observed[:, 0] > result.expected[:, 0]

    assert excess.sum() >= 10  # the bump guarantees excess windows to compare
    np.testing.assert_allclose(ours[excess], theirs[excess], rtol=1e-6, atol=0)


def test_deficits_follow_each_tools_documented_convention():
    # pyBumpHunter sets p = 1 where n <= b; lee keeps p >= 0.5 and Z = 0 there.
    reference, observed = histograms(seed=1)
    _, result = lee_scan(observed, reference)
    theirs = bumphunter_local_p(observed, reference)
    deficit = result.observed[:, 0] <= result.expected[:, 0]

    assert deficit.any()
    assert np.all(theirs[deficit] == 1.0)
    assert np.all(result.p_values[deficit, 0] >= 0.5)
    assert np.all(result.significances[deficit, 0] == 0.0)
