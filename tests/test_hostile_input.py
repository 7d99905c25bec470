"""Hostile input: malformed study files, event files, checkpoints and command lines.

Every generated case must end in the documented outcome, never in a crash with an
undocumented exception, a silently wrong result or code execution:

- study files: a :class:`lee.StudyError` (a ``ValueError``), or a study holding
  exactly the values written;
- event files: a ``ValueError`` (``TypeError`` for a ``columns`` argument that is
  not a list of names), or finite float64 events equal to the values written;
- checkpoints: a ``ValueError`` (``TypeError`` when a class's ``load`` is given
  another sampler type), or a sampler identical to the one saved; crafted pickles
  never run;
- the command line: exit code 2 for usage errors, 1 for failures, with a one-line
  ``Error:`` message and no traceback.

The cases come from hypothesis with ``derandomize=True``, so every run tries the
same ones; ``pytest --hypothesis-show-statistics`` prints how many each test ran.
"""

import dataclasses
import io
import json
import math
import os
import pickle
import re
import string
import zipfile

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import generators
from generators import (
    GAN,
    WGAN,
    WGANGP,
    ConditionalWGANGP,
    EmpiricalSampler,
    checkpoint,
)
from lee import Study, StudyError, load_study, read_events
from lee.cli import lee as lee_command
from lee.study import _SECTIONS, parse_value


def fast(max_examples: int):
    """Deterministic hypothesis settings; files are rewritten in one folder."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


def write(path, content: bytes | str):
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


# Text without lone surrogates, which no UTF-8 file can hold.
TEXT = st.characters(exclude_categories=("Cs",))
NAMES = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=6)


# -- study files -----------------------------------------------------------------------

# The study file's sections and their dataclasses, as the loader knows them.
SECTIONS = _SECTIONS
TOP_KEYS = [
    f.name for f in dataclasses.fields(Study) if f.name not in (*SECTIONS, "base_dir")
]


def toml_value(value) -> str:
    """A TOML literal: inline tables for dicts, the TOML spelling of nan and inf."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{toml_value(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return value.isoformat()  # date or datetime


TOML_SCALARS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.booleans(),
    st.text(TEXT, max_size=8),
    st.dates(),
    st.datetimes(),
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(TEXT, max_size=4), inner, max_size=2)
    ),
    max_leaves=6,
)


@st.composite
def study_tables(draw):
    """A document of known and unknown keys with values of any TOML type."""
    table = {}
    for key in draw(st.lists(st.sampled_from(TOP_KEYS) | NAMES, max_size=3)):
        table[key] = draw(TOML_VALUES)
    for name in draw(st.lists(st.sampled_from(sorted(SECTIONS)), max_size=3)):
        known = [f.name for f in dataclasses.fields(SECTIONS[name])]
        keys = draw(st.lists(st.sampled_from(known) | NAMES, max_size=3))
        table[name] = {key: draw(TOML_VALUES) for key in keys}
    return table


def field_kind(section: str | None, key: str):
    cls = SECTIONS[section] if section else Study
    return {f.name: f.type for f in dataclasses.fields(cls)}[key]


def expected(value, kind):
    """What the study should hold for ``value`` written to a key of type ``kind``."""
    if "float" in str(kind):
        if isinstance(value, list):
            return [float(v) for v in value]
        return float(value)
    return value


@fast(300)
@given(table=study_tables())
def test_study_table_loads_exactly_or_names_the_bad_key(folder, table):
    text = "".join(f"{toml_value(k)} = {toml_value(v)}\n" for k, v in table.items())
    path = write(folder / "study.toml", text)

    try:
        study = load_study(path)
    except StudyError as error:
        assert error.key is not None and str(error).startswith(str(path))
        return

    # Loaded: every value written is held, unchanged (ints widened to floats).
    loaded = study.to_dict()
    for key, value in table.items():
        if key in SECTIONS:
            for sub, v in value.items():
                kind = field_kind(key, sub)
                assert loaded[key][sub] == expected(v, kind), f"{key}.{sub}"
        else:
            assert loaded[key] == expected(value, field_kind(None, key)), key


@fast(200)
@given(text=st.text(TEXT, max_size=200))
def test_any_text_is_a_study_or_a_study_error(folder, text):
    path = write(folder / "study.toml", text)
    try:
        assert isinstance(load_study(path), Study)
    except StudyError as error:
        assert str(error)


@fast(100)
@given(
    content=st.binary(max_size=200)
    | st.integers(1, 3000).map(lambda n: b"a = " + b"[" * n + b"]" * n)
    | st.integers(1, 3000).map(lambda n: b"a = " + b"{b = " * n + b"1" + b"}" * n)
)
def test_undecodable_or_deeply_nested_files_are_study_errors(folder, content):
    path = write(folder / "study.toml", content)
    try:
        assert isinstance(load_study(path), Study)
    except StudyError as error:
        assert str(error)


DOTTED_KEYS = st.sampled_from(
    TOP_KEYS
    + [f"{s}.{f.name}" for s, c in SECTIONS.items() for f in dataclasses.fields(c)]
)


@fast(200)
@given(key=DOTTED_KEYS | st.text(TEXT, max_size=12), text=st.text(TEXT, max_size=30))
def test_command_line_overrides_are_applied_or_refused(key, text):
    value = parse_value(text)
    try:
        study = Study().with_overrides({key: value})
    except StudyError as error:
        assert str(error)
        return
    head, _, tail = key.partition(".")
    held = study.to_dict()[head][tail] if tail else study.to_dict()[head]
    kind = field_kind(head if tail else None, tail or head)
    assert held == expected(value, kind)


# -- event files -----------------------------------------------------------------------

DTYPES = st.one_of(
    hnp.floating_dtypes(),
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.boolean_dtypes(),
    hnp.complex_number_dtypes(),
    hnp.unicode_string_dtypes(max_len=3),
    hnp.byte_string_dtypes(max_len=3),
    hnp.datetime64_dtypes(),
)
ARRAYS = DTYPES.flatmap(
    lambda dtype: hnp.arrays(
        dtype, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4)
    )
)


def assert_read_exactly(sample, columns: dict):
    """A successful read holds finite float64 copies of exactly these columns."""
    assert sample.features == tuple(columns)
    assert sample.X.dtype == np.float64 and np.isfinite(sample.X).all()
    for k, values in enumerate(columns.values()):
        np.testing.assert_array_equal(sample.X[:, k], np.asarray(values, np.float64))


# Names np.savez takes as its own arguments cannot name an array.
NPZ_NAMES = NAMES.filter(lambda n: n not in ("file", "args", "allow_pickle"))


@fast(250)
@given(columns=st.dictionaries(NPZ_NAMES, ARRAYS, max_size=3), compress=st.booleans())
def test_npz_columns_are_read_exactly_or_refused(folder, columns, compress):
    path = folder / "events.npz"
    (np.savez_compressed if compress else np.savez)(path, **columns)
    try:
        sample = read_events(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    assert_read_exactly(sample, columns)


@fast(150)
@given(
    X=ARRAYS,
    features=hnp.arrays(
        st.sampled_from(["<U2", "int64", "float64", "|S2"]),
        hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4),
        elements=None,
    ),
)
def test_bundled_layout_is_read_exactly_or_refused(folder, X, features):
    path = folder / "events.npz"
    np.savez(path, X=X, features=features)
    try:
        sample = read_events(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    if X.ndim != 2:  # not the bundled layout: two plain columns
        assert_read_exactly(sample, {"X": X, "features": features})
        return
    # Only an X of numbers with one distinct string name per column gets here.
    assert features.dtype.kind == "U" and features.ndim == 1
    assert_read_exactly(sample, {str(n): X[:, k] for k, n in enumerate(features)})


class _WritesMarker:
    """Unpickling this creates a file: reading events must never do it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@fast(40)
@given(
    items=st.lists(st.none() | st.integers() | st.text(max_size=3), max_size=3),
    where=st.sampled_from(["column", "X", "features"]),
)
def test_object_arrays_in_npz_are_refused_without_unpickling(folder, items, where):
    marker = folder / "unpickled"
    objects = np.empty(len(items) + 1, dtype=object)
    objects[:] = [*items, _WritesMarker(marker)]
    path = folder / "events.npz"
    if where == "column":
        np.savez(path, a=np.ones(len(objects)), b=objects)
    elif where == "X":
        np.savez(path, X=objects.reshape(-1, 1), features=np.array(["a"]))
    else:
        np.savez(path, X=np.ones((2, len(objects))), features=objects)

    with pytest.raises(ValueError, match="never loaded"):
        read_events(path)
    assert not marker.exists()


@pytest.fixture(scope="module")
def npz_bytes():
    out = _Saved()
    columns = {"a": np.linspace(0, 1, 20), "b": np.arange(20.0)}
    for compress in (False, True):
        buffer = io.BytesIO()
        (np.savez_compressed if compress else np.savez)(buffer, **columns)
        out[compress] = buffer.getvalue()
    return columns, out


@fast(250)
@given(
    compress=st.booleans(),
    cut=st.none() | st.floats(0, 1, exclude_max=True),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255))),
)
def test_damaged_npz_is_refused_or_read_unchanged(
    folder, npz_bytes, compress, cut, flips
):
    columns, files = npz_bytes
    data = bytearray(files[compress])
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    if cut is not None:
        data = data[: int(cut * len(data))]
    path = write(folder / "events.npz", bytes(data))

    try:
        sample = read_events(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    assert_read_exactly(sample, columns)


CSV_NAMES = st.text(string.ascii_letters + " _", min_size=1, max_size=4)


@fast(250)
@given(
    names=st.lists(CSV_NAMES, min_size=1, max_size=3),
    rows=st.lists(st.lists(st.floats(width=64), min_size=3, max_size=3), max_size=5),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
)
def test_csv_tables_are_read_exactly_or_refused(folder, names, rows, newline, bom):
    lines = [",".join(names)] + [
        ",".join(repr(v) for v in row[: len(names)]) for row in rows
    ]
    text = ("\ufeff" if bom else "") + newline.join(lines) + newline
    path = write(folder / "events.csv", text)

    try:
        sample = read_events(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    table = np.array([row[: len(names)] for row in rows], dtype=np.float64)
    assert_read_exactly(sample, {n.strip(): table[:, k] for k, n in enumerate(names)})


@fast(200)
@given(
    content=st.binary(max_size=120)
    | st.text(string.printable + "\x00\x7f\u00e9", max_size=120).map(str.encode),
    suffix=st.sampled_from([".csv", ".npz"]),
)
def test_arbitrary_event_files_give_finite_events_or_a_value_error(
    folder, content, suffix
):
    path = write(folder / f"events{suffix}", content)
    try:
        sample = read_events(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    assert sample.X.dtype == np.float64 and np.isfinite(sample.X).all()
    assert sample.X.shape[1] == len(sample.features) == len(set(sample.features))


@fast(60)
@given(
    columns=st.one_of(
        st.text(max_size=3),
        st.integers(),
        st.lists(st.integers() | st.none() | st.text(max_size=2), max_size=3),
    )
)
def test_columns_argument_of_the_wrong_kind_is_refused(folder, columns):
    path = folder / "ok.npz"
    np.savez(path, a=np.ones(3))
    try:
        sample = read_events(path, columns)
    except (TypeError, ValueError) as error:
        assert str(error)
        return
    assert sample.features == tuple(columns)


# -- checkpoints -----------------------------------------------------------------------

SMALL_GAN = {
    "generator_layers": (8,),
    "critic_layers": (8,),
    "latent_dim": 2,
    "batch_size": 128,
    "n_threads": 1,
    "progress": False,
    "selection_metric": "ks",
    "n_eval": 200,
    "max_epochs": 1,
    "random_state": 0,
}
SAMPLER_TYPES = (EmpiricalSampler, GAN, WGAN, WGANGP, ConditionalWGANGP)


class _Saved(dict):
    """The saved checkpoints; a short repr keeps hypothesis' failure reports short."""

    def __repr__(self):
        return f"<checkpoints of {[cls.__name__ for cls in self]}>"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One checkpoint per sampler type: {type: (path, bytes, reference sample)}."""
    folder = tmp_path_factory.mktemp("checkpoints")
    X = np.random.default_rng(1).normal(size=(400, 2))
    out = _Saved()
    for cls in SAMPLER_TYPES:
        if cls is EmpiricalSampler:
            sampler = cls(("a", "b")).fit(X, weights=np.linspace(1, 2, len(X)))
        else:
            extra = {"condition": "b"} if cls is ConditionalWGANGP else {}
            sampler = cls(("a", "b"), **SMALL_GAN, **extra).fit(X)
        path = folder / f"{cls.__name__}.pt"
        sampler.save(path)
        out[cls] = (path, path.read_bytes(), sampler.sample(50, random_state=3))
    return out


@fast(150)
@given(cut=st.floats(0, 1, exclude_max=True), kind=st.sampled_from(SAMPLER_TYPES))
def test_truncated_checkpoint_is_refused(folder, saved, cut, kind):
    _, data, _ = saved[kind]
    path = write(folder / "cut.pt", data[: int(cut * len(data))])
    with pytest.raises(ValueError, match=r"checkpoint|corrupt"):
        generators.load(path)


@fast(250)
@given(
    flips=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)),
        min_size=1,
        max_size=3,
    ),
    kind=st.sampled_from([EmpiricalSampler, WGANGP]),
)
def test_damaged_checkpoint_is_refused_or_loads_unchanged(folder, saved, flips, kind):
    _, data, reference = saved[kind]
    data = bytearray(data)
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    path = write(folder / "flipped.pt", bytes(data))

    try:
        loaded = generators.load(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    assert type(loaded) is kind and loaded.features == ("a", "b")
    np.testing.assert_array_equal(loaded.sample(50, random_state=3), reference)


@fast(100)
@given(content=st.binary(max_size=300), zip_magic=st.booleans())
def test_random_bytes_are_not_a_checkpoint(folder, content, zip_magic):
    path = write(folder / "random.pt", (b"PK\x03\x04" if zip_magic else b"") + content)
    with pytest.raises(ValueError):
        generators.load(path)


class _RunsCode:
    """A pickle that would create a marker file when loaded."""

    def __init__(self, marker, how):
        self.marker, self.how = str(marker), how

    def __reduce__(self):
        if self.how == "open":
            return (open, (self.marker, "w"))
        if self.how == "makedirs":
            return (os.makedirs, (self.marker,))
        return (exec, (f"open({self.marker!r}, 'w').close()",))


@fast(60)
@given(
    how=st.sampled_from(["open", "makedirs", "exec"]),
    where=st.sampled_from(["top", "metadata", "tensors", "list"]),
    protocol=st.integers(0, pickle.HIGHEST_PROTOCOL),
    container=st.sampled_from(["torch", "pickle", "zip"]),
)
def test_crafted_pickle_never_runs(folder, how, where, protocol, container):
    marker = folder / "pwned"
    evil = _RunsCode(marker, how)
    good = {"metadata": json.dumps({"format": checkpoint.FORMAT}), "tensors": {}}
    obj = {
        "top": evil,
        "metadata": {**good, "metadata": evil},
        "tensors": {**good, "tensors": {"w": evil}},
        "list": [good, evil],
    }[where]
    path = folder / "evil.pt"
    if container == "torch":
        torch.save(obj, path, pickle_protocol=protocol)
    elif container == "pickle":
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
    else:  # a bare pickle inside a zip archive, where torch looks for data.pkl
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", pickle.dumps(obj, protocol=protocol))

    with pytest.raises(ValueError, match="checkpoint"):
        generators.load(path)
    assert not marker.exists()


@fast(50)
@given(stored=st.sampled_from(SAMPLER_TYPES), loader=st.sampled_from(SAMPLER_TYPES))
def test_loading_through_another_samplers_class(saved, stored, loader):
    path, _, reference = saved[stored]
    if not issubclass(stored, loader):
        with pytest.raises(TypeError, match=f"holds a {stored.__name__}"):
            loader.load(path)
        return
    loaded = loader.load(path)
    assert type(loaded) is stored
    np.testing.assert_array_equal(loaded.sample(50, random_state=3), reference)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
TENSORS = st.dictionaries(
    st.sampled_from(["events", "probabilities", "generator.0.weight"]) | NAMES,
    hnp.arrays(
        st.sampled_from(["float32", "float64", "int64", "bool"]),
        hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3),
    ).map(torch.from_numpy),
    max_size=3,
)


@fast(250)
@given(
    stored=st.sampled_from(SAMPLER_TYPES),
    changes=st.dictionaries(
        st.sampled_from(["format", "format_version", "type", "features", "state"]),
        JSON | st.sampled_from([*checkpoint.REGISTRY, 1, 2, 3, ["a", "b"]]),
        max_size=3,
    ),
    tensors=st.none() | TENSORS,
)
def test_edited_metadata_is_refused_or_loads(folder, saved, stored, changes, tensors):
    # An edit that keeps the digest consistent, as checkpoint.write makes it.
    metadata, original = checkpoint.read(saved[stored][0])
    path = checkpoint.write(
        folder / "edited.pt",
        {**metadata, **changes},
        original if tensors is None else tensors,
    )
    try:
        loaded = generators.load(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    assert type(loaded).__name__ in checkpoint.REGISTRY


# -- the command line ------------------------------------------------------------------


def run_cli(*args):
    result = CliRunner().invoke(lee_command, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output
    )
    assert "Traceback" not in result.output
    if result.exit_code:
        assert "Error:" in result.output or "Usage:" in result.output
    return result


@fast(120)
@given(key=DOTTED_KEYS | st.text(TEXT, max_size=10), text=st.text(TEXT, max_size=20))
def test_cli_init_with_any_set_writes_a_valid_study_or_exits_2(folder, key, text):
    path = folder / "init.toml"
    path.unlink(missing_ok=True)
    result = run_cli("init", path, "--set", f"{key}={text}")

    assert result.exit_code in (0, 2)
    if result.exit_code == 0:
        assert isinstance(load_study(path), Study)
    else:
        assert not path.exists()


@fast(80)
@given(content=st.binary(max_size=100) | st.text(TEXT, max_size=100).map(str.encode))
def test_cli_toys_with_a_malformed_study_exits_with_a_message(folder, content):
    # No generator checkpoint exists, so no case gets as far as running toys.
    (folder / "cli").mkdir(exist_ok=True)
    study = write(folder / "cli" / "study.toml", content)
    result = run_cli("toys", study)

    assert result.exit_code in (1, 2)


VALID_STUDY = """\
progress = false
[data]
path = "data{suffix}"
[generator]
checkpoint = "gen.pt"
[scan]
kind = "bump"
scan_feature = "a"
[toys]
n_toys = 0
n_jobs = 1
"""


@fast(80)
@given(
    content=st.binary(max_size=100)
    | st.text(string.printable, max_size=100).map(str.encode),
    suffix=st.sampled_from([".csv", ".npz"]),
)
def test_cli_toys_with_hostile_events_exits_1_or_2(folder, content, suffix):
    where = folder / "cli-events"
    where.mkdir(exist_ok=True)
    write(where / f"data{suffix}", content)
    study = write(where / "study.toml", VALID_STUDY.format(suffix=suffix))
    result = run_cli("toys", study)

    # Unreadable events fail the run (1); readable ones reach the missing
    # generator checkpoint, a usage error (2).
    assert result.exit_code in (1, 2)


@fast(60)
@given(
    cut=st.floats(0, 1, exclude_max=True),
    flip=st.integers(1, 255),
    how=st.sampled_from(["cut", "flip", "pickle"]),
)
def test_cli_toys_with_a_hostile_checkpoint_exits_1(folder, saved, cut, flip, how):
    where = folder / "cli-checkpoint"
    where.mkdir(exist_ok=True)
    marker = where / "pwned"
    np.savez(where / "data.npz", a=np.linspace(40, 200, 50), b=np.zeros(50))
    study = write(where / "study.toml", VALID_STUDY.format(suffix=".npz"))
    data = bytearray(saved[EmpiricalSampler][1])
    if how == "cut":
        data = data[: int(cut * len(data))]
    elif how == "flip":
        data[int(cut * len(data))] ^= flip
    else:
        data = pickle.dumps(_RunsCode(marker, "open"))
    write(where / "gen.pt", bytes(data))
    result = run_cli("toys", study, "--toys", "0")

    assert not marker.exists()
    # A flip that survives the checks would load the very sampler that was saved,
    # whose columns ('a', 'b') are those of the data: then zero toys run (exit 0).
    assert result.exit_code in (0, 1)
    if result.exit_code == 1:
        assert "gen.pt" in result.output


CLI_TOKENS = [
    *["init", "toys", "report", "train", "fidelity", "--set", "--seed", "-n"],
    *["--toys", "--jobs", "--store", "--events", "--kind", "-q", "--help"],
    *["--force", "--no-progress", "--columns", "x=1", "-1"],
]


@fast(150)
@given(
    argv=st.lists(
        st.sampled_from(CLI_TOKENS)
        | st.text(string.ascii_letters + string.digits + "=.-_/ ", max_size=8),
        max_size=6,
    )
)
def test_cli_any_command_line_exits_0_1_or_2(folder, argv):
    # -vv deliberately re-raises errors with their traceback.
    assume(not any(re.match(r"-[^-]*v|--verb", token) for token in argv))
    # Run in a folder of its own: `init` writes files named by the tokens.
    where = folder / "cli-argv"
    where.mkdir(exist_ok=True)
    before = os.getcwd()
    os.chdir(where)
    try:
        result = CliRunner().invoke(lee_command, argv)
    finally:
        os.chdir(before)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        argv,
        result.output,
    )
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2)
