"""Signal-region windows and their sidebands along the scan variable.

A resonance search slides a signal region (SR) over a mass-like scan variable. Each
:class:`Window` holds its SR, the two sidebands (SB) that flank it, and the bin
edges used to fit a smooth background to the sideband bins. Two ways to build a set:

:class:`SlidingWindows`
    SRs of fixed width stepping over a range, with linear spacing (``width``,
    ``step`` and ``sideband`` in the scan variable's units, GeV) or log spacing
    (the same three as fractions of the window centre, so the SR grows with the
    mass like a detector resolution does). ``bins`` equal bins cover the SR and the
    sidebands use the same bin width. ``scan_range`` bounds the whole SR + SB extent.
:meth:`SlidingWindows.from_edges`
    every run of ``width_min`` to ``width_max`` adjacent bins of a histogram, the
    window set of BumpHunter (G. Choudalakis, arXiv:1101.0390, section 2).

Windows are half-open intervals ``[lo, hi)``, like :func:`numpy.histogram` bins
(except its last bin), so an event on a boundary belongs to exactly one region.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["SlidingWindows", "Window"]

# Relative tolerance when a sideband must hold a whole number of SR bins.
_GRID_RTOL = 1e-6


@dataclasses.dataclass(frozen=True, eq=False)
class Window:
    """One signal region with its sidebands and fit binning.

    Attributes
    ----------
    index : int
        Position in the window set.
    edges : ndarray of float
        Bin edges from the low sideband's lower edge to the high sideband's upper
        edge. Bins ``sr_bins`` are the SR; the others are sideband bins.
    sr_bins : slice
        The SR's bins within ``edges``.
    """

    index: int
    edges: np.ndarray
    sr_bins: slice

    @property
    def sr(self) -> tuple[float, float]:
        """(lo, hi) of the signal region."""
        return float(self.edges[self.sr_bins.start]), float(
            self.edges[self.sr_bins.stop]
        )

    @property
    def sb_low(self) -> tuple[float, float]:
        """(lo, hi) of the lower sideband; empty (lo == hi) if there is none."""
        return float(self.edges[0]), float(self.edges[self.sr_bins.start])

    @property
    def sb_high(self) -> tuple[float, float]:
        """(lo, hi) of the upper sideband; empty (lo == hi) if there is none."""
        return float(self.edges[self.sr_bins.stop]), float(self.edges[-1])

    @property
    def extent(self) -> tuple[float, float]:
        """(lo, hi) of SR and sidebands together."""
        return float(self.edges[0]), float(self.edges[-1])

    @property
    def center(self) -> float:
        """Middle of the signal region."""
        lo, hi = self.sr
        return 0.5 * (lo + hi)

    @property
    def n_bins(self) -> int:
        return len(self.edges) - 1

    @property
    def sr_mask(self) -> np.ndarray:
        """Boolean mask over the bins: True for SR bins."""
        mask = np.zeros(self.n_bins, dtype=bool)
        mask[self.sr_bins] = True
        return mask

    @property
    def has_sidebands(self) -> bool:
        return self.sr_bins.start > 0 or self.sr_bins.stop < self.n_bins

    def in_sr(self, x: np.ndarray) -> np.ndarray:
        """Mask of the values of ``x`` inside the SR."""
        lo, hi = self.sr
        return (x >= lo) & (x < hi)

    def in_sidebands(self, x: np.ndarray) -> np.ndarray:
        """Mask of the values of ``x`` inside either sideband."""
        lo, hi = self.extent
        return (x >= lo) & (x < hi) & ~self.in_sr(x)

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "sr": list(self.sr),
            "sb_low": list(self.sb_low),
            "sb_high": list(self.sb_high),
            "edges": [float(e) for e in self.edges],
        }

    def __repr__(self) -> str:
        lo, hi = self.sr
        return (
            f"Window({self.index}, sr=({lo:g}, {hi:g}), "
            f"sb_low={self.sb_low}, sb_high={self.sb_high})"
        )


class SlidingWindows(Sequence):
    """Signal regions sliding over a range of the scan variable, with sidebands.

    Parameters
    ----------
    scan_range : (float, float)
        Bounds of the whole scan: every window's SR and both sidebands lie inside.
    width : float
        SR width: in the scan variable's units for ``spacing="linear"``, a fraction
        of the window centre for ``spacing="log"``.
    step : float
        Distance between consecutive SRs, same units as ``width`` (for log spacing
        the centre is multiplied by ``1 + step`` each time).
    sideband : float
        Width of each sideband, same units as ``width``. It must hold a whole number
        of SR bins (``sideband / (width / bins)`` an integer).
    bins : int
        Number of equal bins in the SR; the sidebands use the same bin width.
    spacing : {"linear", "log"}

    Examples
    --------
    >>> w = SlidingWindows(scan_range=(40, 400), width=40, step=20, sideband=30, bins=8)
    >>> len(w), w[0].sr, w[0].sb_low, w[0].sb_high
    (15, (70.0, 110.0), (40.0, 70.0), (110.0, 140.0))
    """

    def __init__(
        self,
        scan_range: tuple[float, float],
        width: float,
        step: float,
        sideband: float,
        bins: int = 8,
        spacing: str = "linear",
    ):
        lo, hi = _check_range(scan_range)
        width = _positive("width", width)
        step = _positive("step", step)
        sideband = _positive("sideband", sideband, allow_zero=True)
        if (
            isinstance(bins, bool)
            or not isinstance(bins, (int, np.integer))
            or bins < 1
        ):
            raise ValueError(f"bins must be an int >= 1; got {bins!r}.")
        bins = int(bins)
        if spacing not in ("linear", "log"):
            raise ValueError(f"spacing must be 'linear' or 'log'; got {spacing!r}.")
        n_sb = _sideband_bins(width, sideband, bins)

        # SR centres: arithmetic for linear spacing, geometric for log spacing.
        if spacing == "linear":
            first = lo + sideband + 0.5 * width
            n = math.floor((hi - sideband - 0.5 * width - first) / step * (1 + 1e-12))
            centres = first + step * np.arange(n + 1) if n >= 0 else np.empty(0)
            half = np.full(len(centres), 0.5 * width)
        else:
            reach = 0.5 * width + sideband
            if width >= 2 or reach >= 1:
                raise ValueError(
                    "with spacing='log', width/2 + sideband must be below 1 (they are "
                    f"fractions of the window centre); got width={width}, "
                    f"sideband={sideband}. Use smaller fractions."
                )
            first = lo / (1 - reach)
            last = hi / (1 + reach)
            n = (
                math.floor(math.log(last / first) / math.log1p(step) * (1 + 1e-12))
                if last >= first
                else -1
            )
            centres = first * (1 + step) ** np.arange(n + 1) if n >= 0 else np.empty(0)
            half = 0.5 * width * centres

        if len(centres) == 0:
            raise ValueError(
                f"no window fits in scan_range={tuple(scan_range)}: one window with "
                f"its sidebands spans width + 2 * sideband = {width + 2 * sideband:g}"
                f"{' times its centre' if spacing == 'log' else ''}. Widen scan_range "
                "or shrink width or sideband."
            )

        windows = []
        for k, (c, h) in enumerate(zip(centres, half, strict=True)):
            bw = 2 * h / bins
            edges = (c - h - n_sb * bw) + bw * np.arange(bins + 2 * n_sb + 1)
            edges[0], edges[-1] = max(edges[0], lo), min(edges[-1], hi)
            windows.append(Window(k, edges, slice(n_sb, n_sb + bins)))

        self._windows = tuple(windows)
        self._params = {
            "kind": "sliding",
            "scan_range": [lo, hi],
            "width": width,
            "step": step,
            "sideband": sideband,
            "bins": bins,
            "spacing": spacing,
        }

    @classmethod
    def from_edges(
        cls,
        edges: Sequence[float],
        width_min: int = 1,
        width_max: int | None = None,
        step: int = 1,
        sideband_bins: int = 0,
    ) -> SlidingWindows:
        """All windows of ``width_min`` to ``width_max`` adjacent histogram bins.

        This is BumpHunter's window set (arXiv:1101.0390): every contiguous run of
        bins of each allowed width, starting at every ``step``-th bin. With
        ``sideband_bins > 0`` each window also gets that many bins on either side
        (windows whose sidebands would leave the histogram are dropped), so a
        sideband fit can be used instead of a reference histogram.

        Parameters
        ----------
        edges : sequence of float
            Strictly increasing histogram bin edges.
        width_min, width_max : int
            Smallest and largest SR width in bins; ``width_max`` defaults to
            half the number of bins.
        step : int
            Stride of the window start, in bins.
        sideband_bins : int
            Bins in each sideband.
        """
        edges = np.asarray(edges, dtype=float)
        if edges.ndim != 1 or len(edges) < 2 or not np.all(np.isfinite(edges)):
            raise ValueError(
                "edges must be a 1-D array of at least two finite bin edges; got "
                f"shape {edges.shape}."
            )
        if np.any(np.diff(edges) <= 0):
            raise ValueError(
                "edges must be strictly increasing (no empty or overlapping bins); "
                f"first bad position {int(np.argmax(np.diff(edges) <= 0))}."
            )
        n_bins = len(edges) - 1
        if width_max is None:
            width_max = max(width_min, n_bins // 2)
        for name, value in (
            ("width_min", width_min),
            ("width_max", width_max),
            ("step", step),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int; got {value!r}.")
            if value < 1:
                raise ValueError(f"{name} must be >= 1; got {value}.")
        if width_max < width_min:
            raise ValueError(
                f"width_max={width_max} is below width_min={width_min}; pass "
                "width_max >= width_min."
            )
        if sideband_bins < 0:
            raise ValueError(f"sideband_bins must be >= 0; got {sideband_bins}.")
        if width_min + 2 * sideband_bins > n_bins:
            raise ValueError(
                f"a window of width_min={width_min} bins with {sideband_bins} sideband "
                f"bins per side needs {width_min + 2 * sideband_bins} bins but the "
                f"histogram has {n_bins}; pass finer edges or smaller widths."
            )

        windows = []
        for width in range(int(width_min), int(width_max) + 1):
            for start in range(sideband_bins, n_bins - width - sideband_bins + 1, step):
                sub = edges[start - sideband_bins : start + width + sideband_bins + 1]
                windows.append(
                    Window(
                        len(windows),
                        sub.copy(),
                        slice(sideband_bins, sideband_bins + width),
                    )
                )

        self = cls.__new__(cls)
        self._windows = tuple(windows)
        self._params = {
            "kind": "edges",
            "edges": [float(e) for e in edges],
            "width_min": int(width_min),
            "width_max": int(width_max),
            "step": int(step),
            "sideband_bins": int(sideband_bins),
        }
        return self

    # -- sequence protocol -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._windows)

    def __getitem__(self, index):
        return self._windows[index]

    def __iter__(self) -> Iterator[Window]:
        return iter(self._windows)

    # -- description -------------------------------------------------------------------

    @property
    def centers(self) -> np.ndarray:
        """SR centres, in window order."""
        return np.array([w.center for w in self._windows])

    @property
    def extent(self) -> tuple[float, float]:
        """(lo, hi) covered by any window's SR or sidebands."""
        return (
            min(w.extent[0] for w in self._windows),
            max(w.extent[1] for w in self._windows),
        )

    def get_params(self) -> dict:
        """JSON-ready arguments that rebuild this window set."""
        return dict(self._params)

    @classmethod
    def from_params(cls, params: dict) -> SlidingWindows:
        """Inverse of :meth:`get_params`."""
        params = dict(params)
        kind = params.pop("kind")
        if kind == "edges":
            return cls.from_edges(**params)
        return cls(**params)

    def to_dict(self) -> dict:
        return {**self.get_params(), "windows": [w.to_dict() for w in self._windows]}

    def __eq__(self, other) -> bool:
        return isinstance(other, SlidingWindows) and self._params == other._params

    def __hash__(self) -> int:
        return hash(repr(sorted(self._params.items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items() if k != "kind")
        if self._params["kind"] == "edges":
            args = f"n_edges={len(self._params['edges'])}, " + ", ".join(
                f"{k}={v!r}"
                for k, v in self._params.items()
                if k not in ("kind", "edges")
            )
            return f"SlidingWindows.from_edges({args}) # {len(self)} windows"
        return f"SlidingWindows({args}) # {len(self)} windows"


def _check_range(scan_range) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in scan_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"scan_range must be a pair (lo, hi) of numbers; got {scan_range!r}."
        ) from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        raise ValueError(f"scan_range must be finite with lo < hi; got {scan_range!r}.")
    return lo, hi


def _positive(name: str, value, allow_zero: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number; got {value!r}.") from None
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}; got {value}.")
    return value


def _sideband_bins(width: float, sideband: float, bins: int) -> int:
    """Number of SR-width bins in a sideband; error if it is not whole."""
    ratio = sideband / (width / bins)
    n = round(ratio)
    if abs(ratio - n) > _GRID_RTOL * max(1.0, ratio):
        good = [k * width / bins for k in (max(n, 1), n + 1)]
        raise ValueError(
            f"sideband={sideband:g} is not a whole number of SR bins of width "
            f"width / bins = {width / bins:g}; use e.g. sideband={good[0]:g} or "
            f"{good[1]:g}, or change bins."
        )
    return n
