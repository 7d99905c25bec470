"""The outcome of a scan: local significances per window and selection efficiency.

:class:`ScanResult` is what :meth:`lee.CWoLaScan.run` and :meth:`lee.BumpScan.run`
return and what the toy engine stores. Arrays indexed ``[window, efficiency]`` hold
NaN where a window is invalid (too few events, failed fit); such entries are left
out of :attr:`ScanResult.max_significance`, the test statistic of a dataset, and
counted in :attr:`ScanResult.n_invalid`, with the reason in
:attr:`ScanResult.reasons`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .background import BackgroundFit
from .regions import SlidingWindows, Window

__all__ = ["ScanResult", "Spectrum"]


@dataclasses.dataclass(frozen=True, eq=False)
class Spectrum:
    """Histogram of the selected events in one window and what it is tested against.

    Attributes
    ----------
    counts : ndarray of int
        Selected events per bin of the window's ``edges``.
    expected : ndarray of float or None
        Background prediction per bin (sideband fit or reference histogram).
    expected_err : ndarray of float or None
        Its standard deviation per bin.
    fit : BackgroundFit or None
        The sideband fit behind ``expected``, when one was made.
    method : str
        How ``expected`` was obtained: ``"fit"`` (sideband fit of these counts),
        ``"transfer"`` (sparse selected sidebands scaled by the shape of the
        unselected window's fit), ``"reference"`` or ``""`` (none, invalid).
    """

    counts: np.ndarray
    expected: np.ndarray | None = None
    expected_err: np.ndarray | None = None
    fit: BackgroundFit | None = None
    method: str = ""


@dataclasses.dataclass(eq=False)
class ScanResult:
    """Local significances of every window at every selection efficiency.

    Attributes
    ----------
    windows : SlidingWindows
    efficiencies : tuple of float
        Fractions of each window's SR + SB events kept (1.0 for :class:`BumpScan`).
    p_value : str
        The local p-value mode, ``"poisson"`` or ``"profile"``.
    significances, p_values : ndarray of shape (n_windows, n_efficiencies)
        One-sided local Z and p; NaN for invalid entries.
    observed : ndarray of shape (n_windows, n_efficiencies)
        Selected SR counts.
    expected, expected_err : ndarray of shape (n_windows, n_efficiencies)
        Predicted SR background and its uncertainty.
    auc : ndarray of shape (n_windows,)
        Out-of-fold SR-versus-SB AUC of each window's classifier (NaN without one).
    auc_null_sd : ndarray of shape (n_windows,)
        Standard deviation of the AUC expected when SR and SB are identical.
    n_sr, n_sb : ndarray of shape (n_windows,)
        Events in the SR and in the sidebands before any selection.
    reasons : list of list of str
        Why each entry is invalid, ``""`` when it is valid.
    spectra : list of list of Spectrum
        Histograms and fits, ``spectra[window][efficiency]``.
    scan_feature : str
    """

    windows: SlidingWindows
    efficiencies: tuple[float, ...]
    p_value: str
    significances: np.ndarray
    p_values: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    expected_err: np.ndarray
    auc: np.ndarray
    auc_null_sd: np.ndarray
    n_sr: np.ndarray
    n_sb: np.ndarray
    reasons: list
    spectra: list
    scan_feature: str = ""

    # -- the test statistic ------------------------------------------------------------

    @property
    def valid(self) -> np.ndarray:
        """Mask of the valid entries, shape (n_windows, n_efficiencies)."""
        return np.isfinite(self.significances)

    @property
    def n_invalid(self) -> int:
        """Number of invalid (window, efficiency) entries."""
        return int((~self.valid).sum())

    @property
    def max_significance(self) -> float:
        """Largest valid local significance; NaN if every entry is invalid."""
        if not self.valid.any():
            return float("nan")
        return float(np.max(self.significances[self.valid]))

    @property
    def best_index(self) -> tuple[int, int] | None:
        """(window, efficiency) indices of the largest significance, or None."""
        if not self.valid.any():
            return None
        z = np.where(self.valid, self.significances, -np.inf)
        i, j = np.unravel_index(int(np.argmax(z)), z.shape)

        return int(i), int(j)

    @property
    def best_window(self) -> Window | None:
        """The window with the largest local significance, or None if none is valid."""
        best = self.best_index
        return None if best is None else self.windows[best[0]]

    @property
    def best_efficiency(self) -> float | None:
        best = self.best_index
        return None if best is None else self.efficiencies[best[1]]

    @property
    def min_p_value(self) -> float:
        """Smallest valid local p-value; NaN if every entry is invalid."""
        if not self.valid.any():
            return float("nan")
        return float(np.min(self.p_values[self.valid]))

    # -- export ------------------------------------------------------------------------

    def to_dict(self, spectra: bool = True) -> dict:
        """JSON-ready summary: NaN becomes None, arrays become lists.

        Parameters
        ----------
        spectra : bool
            Include every window's histogram, prediction and fit.
        """
        out = {
            "scan_feature": self.scan_feature,
            "p_value": self.p_value,
            "efficiencies": list(self.efficiencies),
            "windows": self.windows.to_dict(),
            "max_significance": _num(self.max_significance),
            "best_index": None if self.best_index is None else list(self.best_index),
            "n_invalid": self.n_invalid,
        }
        for name in (
            "significances",
            "p_values",
            "observed",
            "expected",
            "expected_err",
        ):
            out[name] = _nested(getattr(self, name))
        for name in ("auc", "auc_null_sd", "n_sr", "n_sb"):
            out[name] = _nested(getattr(self, name))
        out["reasons"] = [list(r) for r in self.reasons]
        if spectra:
            out["spectra"] = [[_spectrum_dict(s) for s in row] for row in self.spectra]

        return out

    def plot(self, window: int | None = None, figsize=(11.0, 7.0)):
        """Selected spectra of one window and the local significance of all windows.

        The top row shows, for each efficiency, the selected events of ``window``
        (by default the most significant one) with the background fit or reference
        and its one-sigma band, the SR shaded. The bottom panel is the local Z of
        every window against its SR centre, one curve per efficiency.

        Returns
        -------
        matplotlib.figure.Figure
            Drawn with the Agg canvas; pyplot's global state is not used.
        """
        from .scan_plot import plot_scan

        return plot_scan(self, window=window, figsize=figsize)

    def __repr__(self) -> str:
        best = self.best_window
        where = "none valid" if best is None else f"best SR {best.sr}"
        return (
            f"ScanResult(max_significance={self.max_significance:.3f}, {where}, "
            f"{len(self.windows)} windows x {len(self.efficiencies)} efficiencies, "
            f"n_invalid={self.n_invalid})"
        )


def _num(x):
    x = float(x)
    return x if np.isfinite(x) else None


def _nested(a):
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return _num(a)
    return [_nested(v) for v in a]


def _spectrum_dict(s: Spectrum) -> dict:
    return {
        "counts": [int(c) for c in s.counts],
        "expected": None if s.expected is None else _nested(s.expected),
        "expected_err": None if s.expected_err is None else _nested(s.expected_err),
        "fit": None if s.fit is None else s.fit.to_dict(),
        "method": s.method,
    }
