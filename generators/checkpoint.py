"""Saving and loading samplers: plain tensors plus JSON, never pickled objects.

A checkpoint file is ``torch.save`` of a dict with exactly two entries:

``"metadata"``
    a JSON string: the file format and its version, the sampler type, its
    features, its constructor parameters and whatever else the sampler records
    (training history, provenance);
``"tensors"``
    a flat dict from dotted names to tensors (network weights, preprocessing
    state, bootstrap events);
``"sha256"``
    the SHA-256 digest of the metadata string and of every tensor's name, dtype,
    shape and bytes (format version 2 on).

It is read back with ``torch.load(..., weights_only=True)``, whose unpickler builds
only tensors and plain containers, so a crafted file cannot run code. The digest is
checked on reading, because the zip archive of ``torch.save`` is read without
verifying its checksums: a flipped bit in a tensor would otherwise load as a
silently different model. Files of format version 1 carry no digest and are read
unchecked. The sampler type named in the metadata is looked up in a closed registry
(:data:`REGISTRY`); nothing is imported from a name found in the file.

Examples
--------
>>> import numpy as np, generators
>>> s = generators.EmpiricalSampler(features=("a", "b")).fit(np.ones((3, 2)))
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "s.pt")
>>> s.save(path)
>>> generators.load(path).sample(2, random_state=0).shape
(2, 2)
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import warnings
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import torch

__all__ = ["FORMAT", "REGISTRY", "load", "pretrained", "read", "save", "write"]

#: Name and version written into every file.
FORMAT = "lee-toys-sampler"
FORMAT_VERSION = 2

#: Sampler type name -> (module, class). Closed: loading any other name fails.
REGISTRY: dict[str, tuple[str, str]] = {
    "EmpiricalSampler": ("generators.empirical", "EmpiricalSampler"),
    "GAN": ("generators.gan", "GAN"),
    "WGAN": ("generators.gan", "WGAN"),
    "WGANGP": ("generators.gan", "WGANGP"),
    "ConditionalWGANGP": ("generators.gan", "ConditionalWGANGP"),
    "PythiaGenerator": ("generators.mc", "PythiaGenerator"),
}


def _sampler_class(name: str):
    import importlib

    module, attr = REGISTRY[name]
    return getattr(importlib.import_module(module), attr)


def write(path, metadata: dict, tensors: dict[str, torch.Tensor]) -> Path:
    """Write ``metadata`` (JSON-ready) and ``tensors`` atomically to ``path``."""
    path = Path(path)
    for key, value in tensors.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"tensor {key!r} must be a torch.Tensor; got {type(value)}."
            )
    text = json.dumps(metadata, sort_keys=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    payload = {"metadata": text, "tensors": tensors, "sha256": _digest(text, tensors)}

    # Write next to the target and rename, so a crash never leaves half a file
    # under the final name.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)

    return path


def read(path) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read a file written by :func:`write`.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is anything else: not a zip archive, truncated, corrupt (its
        digest does not match), holding objects other than tensors and plain
        containers (refused, never executed), or written by a newer version.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}.")
    try:
        if not zipfile.is_zipfile(path):
            # torch.save writes a zip archive; anything else (a bare pickle, a
            # truncated file) is refused before an unpickler ever sees it.
            raise zipfile.BadZipFile("not a zip archive as written by torch.save")
        with warnings.catch_warnings():
            # torch warns about pickle protocols other than 2 even though the
            # weights-only unpickler reads them; the file is refused either way
            # if it holds anything but tensors and plain containers.
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        # A damaged archive fails anywhere inside torch's reader and unpickler
        # (UnpicklingError, RuntimeError, EOFError, UnicodeDecodeError, IndexError,
        # ...); for a file of unknown origin each means the same thing.
        raise ValueError(
            f"cannot read {str(path)!r} as a lee-toys checkpoint: the file is "
            "truncated or corrupt, or holds objects other than tensors and plain "
            "containers (such objects are refused, never executed). Re-create it "
            f"with Sampler.save. Reason: {type(err).__name__}: "
            f"{(str(err).splitlines() or [''])[0]}"
        ) from err

    if (
        not isinstance(payload, dict)
        or set(payload) - {"sha256"} != {"metadata", "tensors"}
        or not isinstance(payload["metadata"], str)
        or not isinstance(payload["tensors"], dict)
        or not all(isinstance(k, str) for k in payload["tensors"])
        or not all(isinstance(v, torch.Tensor) for v in payload["tensors"].values())
        or not isinstance(payload.get("sha256", ""), str)
    ):
        raise ValueError(
            f"{str(path)!r} is a PyTorch file but not a lee-toys checkpoint (expected "
            "a dict with a JSON 'metadata' string and a dict of 'tensors'). Save "
            "samplers with Sampler.save or generators.checkpoint.save."
        )
    digest = payload.get("sha256")
    metadata_text, tensors = payload["metadata"], payload["tensors"]
    if digest is not None and digest != _digest(metadata_text, tensors):
        raise ValueError(
            f"{str(path)!r} is corrupt: its contents do not match the SHA-256 digest "
            "stored with them (a damaged copy or an edited file). Re-create it with "
            "Sampler.save or copy it again."
        )
    try:
        metadata = json.loads(metadata_text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r} has unreadable metadata: {err}.") from err
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ValueError(
            f"{str(path)!r} is not a {FORMAT} file (format "
            f"{metadata.get('format') if isinstance(metadata, dict) else None!r})."
        )
    version = metadata.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(
            f"{str(path)!r} has format_version {version!r}, not a non-negative "
            "integer; the file is corrupt. Re-create it with Sampler.save."
        )
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} was written by a newer lee-toys (format version "
            f"{version} > {FORMAT_VERSION}); upgrade lee-toys."
        )

    # Version 1 files have no digest; from version 2 on it is required.
    if digest is None and version >= 2:
        raise ValueError(
            f"{str(path)!r} (format version {version}) has no 'sha256' digest; the "
            "file is corrupt or was not written by Sampler.save. Re-create it."
        )

    return metadata, tensors


def _digest(metadata: str, tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 of the metadata text and each tensor's name, dtype, shape and bytes."""
    h = hashlib.sha256(metadata.encode("utf-8", "surrogatepass"))
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        head = f"\0{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0"
        h.update(head.encode("utf-8", "surrogatepass"))
        if tensor.numel():  # an empty tensor has no bytes to view
            h.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())

    return h.hexdigest()


def save(sampler, path, extra: dict | None = None) -> Path:
    """Save any registered sampler to ``path``.

    Samplers of this package provide ``_checkpoint_state() -> (params, tensors)``.
    :class:`~generators.mc.PythiaGenerator` is saved from its ``get_params()``
    alone: a loaded one starts a fresh Pythia stream from the same settings.
    """
    name = type(sampler).__name__
    if name not in REGISTRY or not isinstance(sampler, _sampler_class(name)):
        raise TypeError(
            f"cannot save a {name}; savable samplers are {sorted(REGISTRY)}."
        )
    if hasattr(sampler, "_checkpoint_state"):
        state, tensors = sampler._checkpoint_state()
    else:
        state, tensors = {"params": sampler.get_params()}, {}

    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "type": name,
        "features": list(sampler.features),
        "state": state,
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "torch_version": torch.__version__,
        **({"extra": extra} if extra else {}),
    }

    return write(path, metadata, tensors)


def load(path, *, features=None, expected_type=None, device=None):
    """Load a sampler saved by :func:`save` (or any ``Sampler.save``).

    Parameters
    ----------
    path : str or Path
    features : sequence of str, optional
        Columns the caller expects; a ValueError names the difference if the file
        holds a sampler of other columns (or another order).
    expected_type : type, optional
        Raise TypeError unless the stored sampler is an instance of this class.
    device : str or torch.device, optional
        Where network weights go; default CUDA when available, else CPU.

    Returns
    -------
    Sampler

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not an intact checkpoint (see :func:`read`), names a type
        outside :data:`REGISTRY`, holds a state the type cannot be rebuilt from,
        or was trained on other ``features``.
    TypeError
        If the stored sampler is not an ``expected_type``.
    """
    metadata, tensors = read(path)
    name = metadata.get("type")
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(
            f"{str(path)!r} holds a sampler of unknown type {name!r}; this version "
            f"of lee-toys loads only {sorted(REGISTRY)}."
        )
    cls = _sampler_class(name)
    if expected_type is not None and not issubclass(cls, expected_type):
        raise TypeError(
            f"{str(path)!r} holds a {name}, not a {expected_type.__name__}; load it "
            "with generators.load(path) instead."
        )

    stored = metadata.get("features", [])
    if not isinstance(stored, list) or not all(isinstance(f, str) for f in stored):
        raise ValueError(
            f"{str(path)!r} has features {stored!r}, not a list of column names; "
            "the file is corrupt. Re-create it with Sampler.save."
        )
    stored = tuple(stored)
    if features is not None and tuple(features) != stored:
        raise ValueError(
            f"{str(path)!r} was trained on features {list(stored)} but "
            f"{list(features)} were expected; pass the columns the model knows, in "
            "its order, or retrain."
        )

    # Only a tampered file gets here with a state its type cannot be built from.
    state = metadata.get("state", {})
    try:
        if hasattr(cls, "_from_checkpoint_state"):
            sampler = cls._from_checkpoint_state(state, tensors, device=device)
        else:
            sampler = cls.from_params(state["params"])
    except (
        KeyError,
        TypeError,
        ValueError,
        IndexError,
        AttributeError,
        RuntimeError,
    ) as err:
        raise ValueError(
            f"{str(path)!r} claims to hold a {name} but its state cannot rebuild "
            f"one ({type(err).__name__}: {err}); the file is corrupt or edited. "
            "Re-create it with Sampler.save."
        ) from err
    sampler.checkpoint_metadata_ = metadata.get("extra", {})

    return sampler


def _data_dir() -> Path:
    return Path(str(resources.files("generators") / "data"))


def available_pretrained() -> list[str]:
    """Names of the checkpoints shipped in ``generators/data``."""
    return sorted(p.stem for p in _data_dir().glob("*.pt"))


def pretrained(name: str, *, device=None):
    """Load a shipped checkpoint by name, e.g. ``"ttbar_dilepton_wgangp"``.

    Raises ValueError listing the available names when ``name`` is not one of them.
    """
    names = available_pretrained()
    if name not in names:
        raise ValueError(
            f"no pretrained sampler called {name!r}; available: {names}. "
            "examples/train_reference_wgangp.py regenerates the shipped WGAN-GP."
        )

    return load(_data_dir() / f"{name}.pt", device=device)


def tensor_dict(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """``{prefix.key: tensor}`` for a dict of NumPy arrays (float64 kept exact)."""
    return {f"{prefix}.{k}": torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}


def array_dict(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Inverse of :func:`tensor_dict`: the entries under ``prefix.``, as arrays."""
    start = prefix + "."
    return {
        k[len(start) :]: v.numpy() for k, v in tensors.items() if k.startswith(start)
    }
