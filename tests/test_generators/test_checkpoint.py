"""Checkpoints: round trips, the closed registry, and files that must be refused."""

import json
import os
import pickle

import numpy as np
import pytest
import torch
from toy_data import TINY, gaussian_mixture

import generators
from generators import (
    GAN,
    WGAN,
    WGANGP,
    ConditionalWGANGP,
    EmpiricalSampler,
    checkpoint,
)

FEATURES = ("a", "b")


def fitted(cls):
    X = gaussian_mixture(2000, seed=1)
    if cls is EmpiricalSampler:
        return cls(FEATURES).fit(X, weights=np.linspace(1, 2, len(X)))
    extra = {"condition": "b"} if cls is ConditionalWGANGP else {}
    return cls(FEATURES, max_epochs=1, random_state=0, **TINY, **extra).fit(X)


@pytest.mark.parametrize(
    "cls", [EmpiricalSampler, GAN, WGAN, WGANGP, ConditionalWGANGP]
)
def test_round_trip_gives_identical_samples(cls, tmp_path):
    sampler = fitted(cls)
    sampler.save(tmp_path / "s.pt")
    loaded = generators.load(tmp_path / "s.pt")
    assert type(loaded) is cls and loaded.features == FEATURES
    np.testing.assert_array_equal(
        loaded.sample(300, random_state=7), sampler.sample(300, random_state=7)
    )
    assert cls.load(tmp_path / "s.pt").features == FEATURES


def test_file_holds_only_json_tensors_and_a_digest(tmp_path):
    fitted(WGANGP).save(tmp_path / "s.pt")
    payload = torch.load(tmp_path / "s.pt", weights_only=True)
    assert set(payload) == {"metadata", "tensors", "sha256"}
    metadata = json.loads(payload["metadata"])
    assert metadata["type"] == "WGANGP" and metadata["features"] == list(FEATURES)
    assert all(isinstance(v, torch.Tensor) for v in payload["tensors"].values())
    assert len(payload["sha256"]) == 64 and int(payload["sha256"], 16) >= 0


def test_changed_tensor_bytes_are_refused_by_the_digest(tmp_path):
    # torch reads its zip archive without checking CRCs, so without the digest a
    # damaged copy would load as a silently different sampler.
    fitted(EmpiricalSampler).save(tmp_path / "s.pt")
    payload = torch.load(tmp_path / "s.pt", weights_only=True)
    payload["tensors"]["events"][0, 0] += 1.0
    torch.save(payload, tmp_path / "edited.pt")
    with pytest.raises(ValueError, match="SHA-256 digest"):
        generators.load(tmp_path / "edited.pt")


def test_version_1_file_without_a_digest_still_loads(tmp_path):
    sampler = fitted(EmpiricalSampler)
    sampler.save(tmp_path / "s.pt")
    payload = torch.load(tmp_path / "s.pt", weights_only=True)
    metadata = json.loads(payload["metadata"]) | {"format_version": 1}
    legacy = {"metadata": json.dumps(metadata), "tensors": payload["tensors"]}
    torch.save(legacy, tmp_path / "v1.pt")
    np.testing.assert_array_equal(
        generators.load(tmp_path / "v1.pt").sample(20, random_state=1),
        sampler.sample(20, random_state=1),
    )

    # From version 2 on, a missing digest means the file was not written by save.
    legacy["metadata"] = json.dumps(metadata | {"format_version": 2})
    torch.save(legacy, tmp_path / "v2.pt")
    with pytest.raises(ValueError, match="no 'sha256' digest"):
        generators.load(tmp_path / "v2.pt")


def test_pythia_generator_is_saved_from_its_params(tmp_path):
    pytest.importorskip("pythia8mc")
    from generators.mc import PythiaGenerator

    gen = PythiaGenerator("hsh", seed=17, batch_size=500)
    checkpoint.save(gen, tmp_path / "mc.pt")
    loaded = generators.load(tmp_path / "mc.pt")
    assert isinstance(loaded, PythiaGenerator)
    assert loaded.get_params() == gen.get_params()


class _Payload:
    """Unpickling this would create a marker file: the attack load must refuse."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.makedirs, (self.marker,))


@pytest.mark.parametrize("where", ["top", "inside"])
def test_crafted_pickle_is_refused_and_runs_no_code(where, tmp_path):
    marker = tmp_path / "pwned"
    obj = _Payload(marker)
    if where == "inside":
        obj = {
            "metadata": json.dumps({"format": checkpoint.FORMAT}),
            "tensors": {"w": obj},
        }
    torch.save(obj, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="refused"):
        generators.load(tmp_path / "evil.pt")
    assert not marker.exists()


def test_plain_pickle_file_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.pt").write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match="lee-toys checkpoint"):
        generators.load(tmp_path / "evil.pt")
    assert not marker.exists()


def test_type_outside_the_registry_is_refused(tmp_path):
    checkpoint.write(
        tmp_path / "s.pt",
        {
            "format": checkpoint.FORMAT,
            "format_version": 1,
            "type": "os.system",
            "features": [],
            "state": {},
        },
        {},
    )
    with pytest.raises(ValueError, match=r"unknown type 'os\.system'"):
        generators.load(tmp_path / "s.pt")


def test_truncated_file_gets_a_clear_error(tmp_path):
    fitted(WGANGP).save(tmp_path / "s.pt")
    data = (tmp_path / "s.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        generators.load(tmp_path / "cut.pt")


def test_other_torch_files_and_missing_files_are_refused(tmp_path):
    torch.save({"weight": torch.zeros(3)}, tmp_path / "state.pt")
    with pytest.raises(ValueError, match="not a lee-toys checkpoint"):
        generators.load(tmp_path / "state.pt")
    with pytest.raises(FileNotFoundError):
        generators.load(tmp_path / "nothing.pt")


def test_feature_mismatch_and_wrong_type_are_reported(tmp_path):
    fitted(EmpiricalSampler).save(tmp_path / "s.pt")
    with pytest.raises(ValueError, match=r"trained on features \['a', 'b'\]"):
        generators.load(tmp_path / "s.pt", features=("b", "a"))
    with pytest.raises(TypeError, match="holds a EmpiricalSampler"):
        WGANGP.load(tmp_path / "s.pt")


def test_unknown_pretrained_name_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"available: \["):
        generators.pretrained("no_such_model")
