"""The bundled reference samples and the :class:`EventSample` that holds them.

Two samples ship with the package, both made by ``examples/make_reference_samples.py``
with :class:`generators.mc.PythiaGenerator`:

``ttbar_dilepton``
    500,000 selected dilepton top-pair events, the background.
``hsh_signal``
    50,000 selected ``H -> S h`` events (270 and 140 GeV), the seed paper's signal.

Each sample carries a fixed train/test split (70/30): generators train on ``train``;
pseudo-data, validation and coverage studies draw from ``test``, which no shipped
generator has seen. Files are NumPy ``.npz`` archives read with
``allow_pickle=False``, so loading one never executes code.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import Path

import numpy as np

from .kinematics import FEATURES, UNITS

__all__ = ["SPLITS", "EventSample", "available_samples", "load_sample", "write_sample"]

SPLITS = ("all", "train", "test")

# Low mantissa bits dropped before compression: float32 keeps 23 bits; 15 kept bits
# leave a relative precision of 3e-5, far below any resolution in the sample. The
# events are stored as byte planes (all first bytes of a column, then all second
# bytes, ...), which zlib compresses far better than interleaved floats: 500,000
# events take 10 MB instead of 16 MB.
_DROPPED_MANTISSA_BITS = 8


def _to_planes(X: np.ndarray) -> np.ndarray:
    mask = np.uint32(0xFFFFFFFF << _DROPPED_MANTISSA_BITS & 0xFFFFFFFF)
    rounded = X.astype("<f4").view("<u4") & mask
    return np.ascontiguousarray(rounded.view(np.uint8).reshape(*X.shape, 4).T)


def _from_planes(planes: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(planes.T).view("<f4")[..., 0].astype(np.float32)


@dataclasses.dataclass(frozen=True)
class EventSample:
    """Events as a float32 array with named columns.

    Attributes
    ----------
    X : ndarray of shape (n_events, n_features), float32
    features : tuple of str
        Column names, in the order of ``X``'s columns.
    units : tuple of str
        Unit of each column ("GeV", "rad" or "" for dimensionless).
    metadata : dict
        Provenance: generator and version, seeds, settings, selection, date.
    """

    X: np.ndarray
    features: tuple[str, ...]
    units: tuple[str, ...]
    metadata: dict

    def __len__(self) -> int:
        return len(self.X)

    def column(self, name: str) -> np.ndarray:
        """The column called ``name`` as a 1-D array."""
        return self.X[:, self.index(name)]

    def index(self, name: str) -> int:
        """Position of column ``name``; ValueError listing the columns otherwise."""
        try:
            return self.features.index(name)
        except ValueError:
            raise ValueError(
                f"unknown column {name!r}; this sample has {list(self.features)}."
            ) from None

    def __repr__(self) -> str:
        name = self.metadata.get("name", "events")
        split = self.metadata.get("split", "all")
        return (
            f"EventSample({name!r}, split={split!r}, n={len(self)}, "
            f"features={list(self.features)})"
        )


def _data_dir() -> Path:
    return Path(str(resources.files("generators") / "data"))


def available_samples() -> list[str]:
    """Names of the bundled samples."""
    return sorted(p.stem for p in _data_dir().glob("*.npz"))


def load_sample(name: str, split: str = "all") -> EventSample:
    """Load a bundled sample.

    Parameters
    ----------
    name : str
        One of :func:`available_samples`: ``"ttbar_dilepton"`` or ``"hsh_signal"``.
    split : {"all", "train", "test"}
        The stored 70/30 split: ``train`` for fitting generators, ``test`` for
        pseudo-data and validation.

    Examples
    --------
    >>> import generators
    >>> s = generators.load_sample("ttbar_dilepton", split="train")
    >>> s.features[-1], s.X.dtype
    ('m_bb', dtype('float32'))
    """
    names = available_samples()
    if name not in names:
        raise ValueError(f"unknown sample {name!r}; the bundled samples are {names}.")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {list(SPLITS)}.")

    return read_sample(_data_dir() / f"{name}.npz", split=split)


def read_sample(path, split: str = "all") -> EventSample:
    """Read a sample file written by :func:`write_sample`."""
    with np.load(path, allow_pickle=False) as f:
        X = _from_planes(f["X_planes"])
        n = len(X)
        is_train = np.unpackbits(f["is_train"], count=n).astype(bool)
        features = tuple(str(s) for s in f["features"])
        units = tuple(str(s) for s in f["units"])
        metadata = json.loads(str(f["metadata"]))

    if split == "train":
        X = X[is_train]
    elif split == "test":
        X = X[~is_train]
    metadata["split"] = split
    X.setflags(write=False)

    return EventSample(X=X, features=features, units=units, metadata=metadata)


def write_sample(
    path,
    X: np.ndarray,
    is_train: np.ndarray,
    metadata: dict,
    features=FEATURES,
    units=UNITS,
) -> Path:
    """Write events, their split and provenance as a compressed ``.npz`` file."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != len(features):
        raise ValueError(
            f"X must have shape (n, {len(features)}) to match features; got {X.shape}."
        )
    if is_train.shape != (len(X),):
        raise ValueError(f"is_train must have shape ({len(X)},); got {is_train.shape}.")
    path = Path(path)
    np.savez_compressed(
        path,
        X_planes=_to_planes(X),
        is_train=np.packbits(is_train.astype(bool)),
        features=np.array(features),
        units=np.array(units),
        metadata=np.array(json.dumps(metadata, sort_keys=True)),
    )
    return path
