"""A toy study described by a TOML file.

One file holds everything the command line needs: the observed events, the
generator that makes toys (and how ``lee train`` fits it), the reference events for
``lee fidelity``, the windows and the scan, the toys and the global-significance
methods. Every command-line option sets one key of it, and an option given on the
command line wins over the file. A complete file, with every key at its default::

    name = "study"
    seed = 0
    out = "lee_study"
    columns = []

    [data]
    path = "events.npz"
    n_events = 0
    signal = ""
    n_signal = 0

    [generator]
    checkpoint = "generator.pt"
    ...

:meth:`Study.to_toml` writes such a file, with each key's meaning as a comment.
Relative paths in a file are relative to the file's folder, so a study folder can
be moved as a whole.

Events are named by a file (``.npz``, ``.csv``, ``.parquet``, ``file.root:tree``;
see :func:`lee.io.read_events`) or by a bundled sample, ``"bundled:NAME"`` or
``"bundled:NAME/SPLIT"`` (for instance ``"bundled:ttbar_dilepton/test"``).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import sys
import typing
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "DataSection",
    "FidelitySection",
    "GeneratorSection",
    "ScanSection",
    "SignificanceSection",
    "Study",
    "StudyError",
    "ToysSection",
    "WindowsSection",
    "load_study",
    "parse_value",
]


class StudyError(ValueError):
    """A study file or override is malformed; the message names the key.

    Attributes
    ----------
    key : str or None
        Dotted key at fault (``"toys.n_toys"``), when there is one.
    """

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def _meta(help: str, **checks) -> dict:
    """A key's meaning and the constraints on its value, as field metadata."""
    return {"help": help, **checks}


def _key(default, help: str, **checks):
    """A study key with an immutable default."""
    return dataclasses.field(default=default, metadata=_meta(help, **checks))


# -- the sections ----------------------------------------------------------------------


@dataclasses.dataclass
class DataSection:
    """``[data]``: the observed events the scan runs on."""

    path: str = _key(
        "",
        "observed events: a file (.npz, .csv, .parquet, file.root:tree) or "
        "'bundled:NAME/SPLIT'",
    )
    n_events: int = _key(
        0, "keep this many events, drawn without replacement (0: all)", min=0
    )
    signal: str = _key(
        "", "signal events to inject into the data (file or 'bundled:NAME/SPLIT')"
    )
    n_signal: int = _key(0, "number of signal events injected", min=0)


@dataclasses.dataclass
class GeneratorSection:
    """``[generator]``: the sampler that makes toys, and how ``lee train`` fits it."""

    checkpoint: str = _key(
        "generator.pt",
        "saved sampler (lee train writes it) or 'pretrained:NAME' for a shipped one",
    )
    kind: str = _key(
        "wgangp",
        "lee train: the sampler to fit",
        choices=("gan", "wgan", "wgangp", "conditional-wgangp", "empirical"),
    )
    preset: str = _key(
        "default", "lee train: hyper-parameter preset", choices=("default", "paper")
    )
    condition: str = _key(
        "", "lee train, conditional-wgangp: the condition column (the scan variable)"
    )
    events: str = _key("", "lee train: training events (file or 'bundled:NAME/SPLIT')")
    weights: str = _key(
        "", "lee train: column of per-event weights in the training file ('': none)"
    )
    epochs: int = _key(
        0, "lee train: training epochs (0: the sampler's default)", min=0
    )
    max_time: float = _key(
        0.0, "lee train: wall-clock budget of the training in seconds (0: none)", min=0
    )
    device: str = _key("", "lee train: torch device ('': CUDA when present, else CPU)")


@dataclasses.dataclass
class FidelitySection:
    """``[fidelity]``: comparing the generator with reference events."""

    reference: str = _key(
        "", "reference events, never seen by the generator (file or bundled)"
    )
    n_events: int = _key(
        0, "events used from the reference and drawn from the generator (0: all)", min=0
    )
    out: str = _key("fidelity", "folder for the fidelity report and figures")


@dataclasses.dataclass
class WindowsSection:
    """``[windows]``: the signal regions and sidebands (see lee.SlidingWindows)."""

    scan_range: list[float] = dataclasses.field(
        default_factory=lambda: [40.0, 400.0],
        metadata=_meta("bounds of the whole scan, SR and sidebands", length=2),
    )
    width: float = _key(40.0, "SR width (GeV; a fraction of the centre for log)", gt=0)
    step: float = _key(20.0, "distance between SRs, units of width", gt=0)
    sideband: float = _key(30.0, "width of each sideband, units of width", min=0)
    bins: int = _key(8, "equal bins in the SR; sidebands use the same width", min=1)
    spacing: str = _key("linear", "window spacing", choices=("linear", "log"))


@dataclasses.dataclass
class ScanSection:
    """``[scan]``: the scan run on the data and on every toy."""

    kind: str = _key(
        "cwola",
        "weakly supervised CWoLa scan or plain bump scan",
        choices=("cwola", "bump"),
    )
    scan_feature: str = _key("m_bb", "the scan variable (a column name)")
    features: list[str] = dataclasses.field(
        default_factory=list,
        metadata=_meta(
            "cwola: classifier features (empty: every column but the scan variable)"
        ),
    )
    classifier: str = _key("hgb", "cwola: classifier", choices=("hgb", "mlp"))
    n_folds: int = _key(5, "cwola: cross-validation folds", min=2)
    efficiencies: list[float] = dataclasses.field(
        default_factory=lambda: [0.1, 0.01],
        metadata=_meta("cwola: fractions of each window's events kept", gt=0, max=1),
    )
    p_value: str = _key("profile", "local p-value mode", choices=("profile", "poisson"))


@dataclasses.dataclass
class ToysSection:
    """``[toys]``: the background-only toy study."""

    n_toys: int = _key(200, "number of toys wanted in total (a run resumes)", min=0)
    n_events: int = _key(
        0, "mean events per toy, Poisson fluctuated (0: as many as the data)", min=0
    )
    store: str = _key("", "SQLite toy store ('': toys.sqlite in the out folder)")
    n_jobs: int = _key(2, "parallel workers (-1: all cores)", min=-1)
    backend: str = _key("loky", "joblib backend", choices=("loky", "dask"))
    scheduler: str = _key(
        "", "dask: scheduler address ('': a LocalCluster with n_jobs workers)"
    )


@dataclasses.dataclass
class SignificanceSection:
    """``[significance]``: how toys turn into a global significance."""

    methods: list[str] = dataclasses.field(
        default_factory=lambda: ["empirical", "gross-vitells", "trials-factor"],
        metadata=_meta(
            "global-significance methods",
            choices=("empirical", "gross-vitells", "trials-factor"),
        ),
    )
    cl: float = _key(0.6827, "confidence level of the intervals", gt=0, max=1)


_SECTIONS = {
    "data": DataSection,
    "generator": GeneratorSection,
    "fidelity": FidelitySection,
    "windows": WindowsSection,
    "scan": ScanSection,
    "toys": ToysSection,
    "significance": SignificanceSection,
}


@dataclasses.dataclass
class Study:
    """A complete toy study: top-level keys and one dataclass per TOML table.

    Build one with :func:`load_study` or :meth:`from_dict`, change it with
    :meth:`with_overrides`, write it with :meth:`to_toml`. Values are validated on
    the way in; a :class:`StudyError` names the key, the expected type and the value
    found.

    Attributes
    ----------
    base_dir : Path
        Folder that relative paths are resolved against (the study file's folder);
        not written to the file.
    """

    name: str = _key("study", "name of the study, written into reports")
    seed: int = _key(
        0, "master seed: data, scans, toys and fidelity derive theirs", min=0
    )
    out: str = _key("lee_study", "output folder: report, figures, default toy store")
    progress: bool = _key(True, "show progress bars (training, toys)")
    columns: list[str] = dataclasses.field(
        default_factory=list,
        metadata=_meta(
            "event columns read from every file, in this order (empty: all)"
        ),
    )
    data: DataSection = dataclasses.field(default_factory=DataSection)
    generator: GeneratorSection = dataclasses.field(default_factory=GeneratorSection)
    fidelity: FidelitySection = dataclasses.field(default_factory=FidelitySection)
    windows: WindowsSection = dataclasses.field(default_factory=WindowsSection)
    scan: ScanSection = dataclasses.field(default_factory=ScanSection)
    toys: ToysSection = dataclasses.field(default_factory=ToysSection)
    significance: SignificanceSection = dataclasses.field(
        default_factory=SignificanceSection
    )
    base_dir: Path = dataclasses.field(
        default_factory=Path.cwd, compare=False, repr=False
    )

    # -- building ----------------------------------------------------------------------

    @classmethod
    def from_dict(cls, table: dict, base_dir=None, source: str = "study") -> Study:
        """Validate a parsed TOML table and build the study.

        Raises
        ------
        StudyError
            For an unknown key (with the closest known one), a table given as a
            value or the reverse, or a value of the wrong type or out of range.
        """
        top = {}
        sections = {}
        for key, value in table.items():
            if key in _SECTIONS:
                if not isinstance(value, dict):
                    raise StudyError(
                        f"{source}: {key!r} must be a table ([{key}]); got "
                        f"{_describe(value)}.",
                        key,
                    )
                sections[key] = _build(_SECTIONS[key], value, key, source)
            elif key in _top_fields():
                top[key] = _check(_top_fields()[key], value, key, source)
            else:
                raise StudyError(_unknown(key, "", _known_top(), source), key)

        study = cls(**top, **sections)
        if base_dir is not None:
            study.base_dir = Path(base_dir)

        return study

    def to_dict(self) -> dict:
        """The study as nested plain dicts, as :func:`tomllib.loads` would give."""
        table = {}
        for field in dataclasses.fields(self):
            if field.name == "base_dir":
                continue
            value = getattr(self, field.name)
            if dataclasses.is_dataclass(value):
                table[field.name] = {
                    f.name: _plain(getattr(value, f.name))
                    for f in dataclasses.fields(value)
                }
            else:
                table[field.name] = _plain(value)

        return table

    def with_overrides(self, overrides: dict[str, object], source="command line"):
        """A copy with dotted keys replaced, e.g. ``{"toys.n_toys": 500}``.

        Keys and values are validated like a file's.
        """
        table = self.to_dict()
        for dotted, value in overrides.items():
            head, _, tail = dotted.partition(".")
            if tail:
                if head not in _SECTIONS:
                    raise StudyError(
                        _unknown(head, "", list(_SECTIONS), source), dotted
                    )
                table[head][tail] = value
            else:
                table[head] = value

        return Study.from_dict(table, base_dir=self.base_dir, source=source)

    # -- writing -----------------------------------------------------------------------

    def to_toml(self, comments: bool = True) -> str:
        """The study as TOML text; :func:`load_study` reads it back to an equal study.

        Parameters
        ----------
        comments : bool
            Write each key's meaning as a comment after it.
        """
        lines = []
        table = self.to_dict()
        for field in dataclasses.fields(self):
            if field.name in _SECTIONS or field.name == "base_dir":
                continue
            lines.append(_toml_line(field, table[field.name], comments))

        for name, cls in _SECTIONS.items():
            lines += ["", f"[{name}]"]
            for field in dataclasses.fields(cls):
                lines.append(_toml_line(field, table[name][field.name], comments))

        return "\n".join(lines) + "\n"

    def write(self, path) -> Path:
        """Write :meth:`to_toml` to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_toml())

        return path

    # -- paths -------------------------------------------------------------------------

    def resolve(self, path: str) -> Path:
        """``path`` relative to :attr:`base_dir`, unless it is absolute."""
        p = Path(path).expanduser()

        return p if p.is_absolute() else self.base_dir / p

    @property
    def out_dir(self) -> Path:
        return self.resolve(self.out)

    @property
    def store_path(self) -> Path:
        """The toy store: ``toys.store``, or ``toys.sqlite`` in the out folder."""
        return (
            self.resolve(self.toys.store)
            if self.toys.store
            else (self.out_dir / "toys.sqlite")
        )

    def resolve_events(self, spec: str) -> str:
        """An events spec with a relative file made absolute; bundled ones unchanged."""
        if spec.startswith(("bundled:", "pretrained:")) or not spec:
            return spec

        return str(self.resolve(spec))


def load_study(path) -> Study:
    """Read and validate a study file.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    StudyError
        For a file that is not UTF-8 text, TOML syntax errors (with line and
        column), nesting too deep to parse, and any key or value the study does
        not accept (the message names the key, the expected type and the value
        found).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"study file {str(path)!r} does not exist.")
    try:
        table = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise StudyError(
            f"{path}: not UTF-8 text ({error}); TOML files are UTF-8, so re-save "
            "it with that encoding."
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise StudyError(f"{path}: not valid TOML: {error}.") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively.
        raise StudyError(
            f"{path}: arrays or inline tables nested too deeply to parse; no study "
            "key takes more than a flat list."
        ) from None

    return Study.from_dict(table, base_dir=path.resolve().parent, source=str(path))


def parse_value(text: str):
    """A command-line value as TOML would read it, else the text itself.

    ``"3"`` gives 3, ``"[0.1, 0.01]"`` a list, ``"true"`` True, and ``"m_bb"`` (not
    valid TOML) stays a string, so ``--set scan.scan_feature=m_bb`` needs no quotes.
    """
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except (tomllib.TOMLDecodeError, RecursionError):
        return text


# -- validation ------------------------------------------------------------------------

# Counts and seeds end up in NumPy and SQLite integers, which hold 64 bits.
_INT64 = (-(2**63), 2**63 - 1)

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean (true or false)",
}


def _top_fields() -> dict[str, dataclasses.Field]:
    return {
        f.name: f
        for f in dataclasses.fields(Study)
        if f.name not in _SECTIONS and f.name != "base_dir"
    }


def _known_top() -> list[str]:
    return [*_top_fields(), *_SECTIONS]


def _build(cls, values: dict, section: str, source: str):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    checked = {}
    for key, value in values.items():
        if key not in fields:
            raise StudyError(
                _unknown(key, section, list(fields), source), f"{section}.{key}"
            )
        checked[key] = _check(fields[key], value, f"{section}.{key}", source)

    return cls(**checked)


def _check(field: dataclasses.Field, value, key: str, source: str):
    """``value`` if it suits ``field``'s type and constraints, else a StudyError."""
    kind = typing.get_type_hints(_owner(field))[field.name]
    meta = field.metadata
    origin = typing.get_origin(kind)

    def fail(expected: str, found=value):
        raise StudyError(
            f"{source}: key {key!r} must be {expected}; got {_describe(found)}.", key
        )

    # Type: lists element by element, scalars directly.
    if origin is list:
        (item,) = typing.get_args(kind)
        if not isinstance(value, list):
            fail(f"a list of {_TYPE_NAMES[item][2:]}s")
        items = [
            _scalar(item, v, fail, f"a list of {_TYPE_NAMES[item][2:]}s") for v in value
        ]
        if "length" in meta and len(items) != meta["length"]:
            fail(f"a list of {meta['length']} {_TYPE_NAMES[item][2:]}s")
        value = items
    else:
        value = _scalar(kind, value, fail, _TYPE_NAMES[kind])

    # Constraints apply to a scalar or to every element of a list.
    for v in value if isinstance(value, list) else [value]:
        if "choices" in meta and v not in meta["choices"]:
            fail(f"one of {list(meta['choices'])}", v)
        if "min" in meta and v < meta["min"]:
            fail(f">= {meta['min']}", v)
        if "gt" in meta and not v > meta["gt"]:
            fail(f"> {meta['gt']}", v)
        if "max" in meta and v > meta["max"]:
            fail(f"<= {meta['max']}", v)

    return value


def _scalar(kind, value, fail, expected):
    # TOML integers are valid floats; booleans are never numbers.
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is float and isinstance(value, float):
        if not math.isfinite(value):
            fail(f"{expected}, finite")
        return value
    if kind is int and type(value) is int and not _INT64[0] <= value <= _INT64[1]:
        fail(f"{expected} that fits in 64 bits")
    if kind in (int, str, bool) and type(value) is kind:
        return value
    fail(expected)


def _owner(field: dataclasses.Field):
    for cls in (Study, *_SECTIONS.values()):
        if any(f is field for f in dataclasses.fields(cls)):
            return cls
    raise LookupError(field.name)  # unreachable: every field has an owner


def _describe(value) -> str:
    names = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        list: "list",
        dict: "table",
    }

    name = names.get(type(value), type(value).__name__)
    article = "an" if name[0] in "aeiou" else "a"

    return f"{value!r} ({article} {name})"


def _unknown(key: str, section: str, known: list[str], source: str) -> str:
    where = f"in [{section}]" if section else "at the top level"
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""

    return f"{source}: unknown key {key!r} {where}; known keys: {known}.{hint}"


# -- TOML writing ----------------------------------------------------------------------


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _toml_line(field: dataclasses.Field, value, comments: bool) -> str:
    line = f"{field.name} = {_toml_value(value)}"
    if comments:
        line = f"# {field.metadata['help']}\n{line}"

    return line


# Backslash, quote and every control character, which TOML strings cannot hold raw.
_ESCAPES = {"\\": "\\\\", '"': '\\"'} | {
    chr(c): f"\\u{c:04x}" for c in [*range(0x20), 0x7F]
}


def _toml_value(value) -> str:
    """A TOML literal for the value types a study holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # repr is the shortest round-tripping form; TOML needs a digit after ".".
        text = repr(value)
        return text if any(c in text for c in ".e") else text + ".0"
    if isinstance(value, str):
        return '"' + "".join(_ESCAPES.get(c, c) for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as a TOML value")
