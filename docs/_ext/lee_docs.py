"""Local Sphinx extension of the lee-toys documentation.

What plain autodoc and MyST do not do:

- escape ``|x|`` (an absolute value in a docstring formula) so that reST does not
  read it as a substitution, skip scikit-learn's generated helper methods, and
  document a name that a module imports from another only where it is defined;
- resolve references to the public name of an object (``lee.CWoLaScan``) to the
  entry of the module that defines it (``lee.scan.CWoLaScan``), where autodoc puts it;
- ``optional-figure`` and ``fidelity-summary``: show a figure or the numbers of a
  fidelity report made by a run the build does not repeat (the demo, the shipped
  generator's fidelity report) when the file is there, and a note otherwise;
- ``study-keys`` and ``study-example``: the TOML study-file reference, generated from
  :mod:`lee.study` itself so that the page cannot drift from the code;
- ``click-help``: the ``--help`` text of a ``lee`` command, from the command itself;
- a check that every public module of ``generators`` and ``lee`` is in the API
  reference, so a new module cannot be left out unnoticed.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import re
import typing
from pathlib import Path
from typing import ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

PACKAGES = ("generators", "lee")


# -- public names -----------------------------------------------------------------


def resolve_public_alias(app, env, node, contnode):
    """Resolve ``generators.X`` or ``lee.X`` to where ``X`` is documented."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "").lstrip(".~")
    package, *names = target.split(".")
    if package not in PACKAGES or not names:
        return None

    try:
        obj = importlib.import_module(package)
        for name in names:
            obj = getattr(obj, name)
    except Exception:
        return None
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or f"{module}.{qualname}" == target:
        return None

    return env.get_domain("py").resolve_xref(
        env,
        node["refdoc"],
        app.builder,
        node["reftype"],
        f"{module}.{qualname}",
        node,
        contnode,
    )


# -- docstrings -------------------------------------------------------------------

# scikit-learn adds ``set_<method>_request`` helpers (metadata routing) to every
# estimator subclass; their docstrings point into scikit-learn's own documentation.
_SKLEARN_HELPER = re.compile(r"set_\w+_request")

# ``|x|`` is an absolute value in the docstrings' plain-text formulas, but reST reads
# it as a substitution reference. Outside backquotes it is escaped, so it prints as
# written.
_BARS = re.compile(r"(?<![\\\w|])\|(?=\S)([^|`]+?)(?<=\S)\|(?![\w|])")

_QUOTED = re.compile(r"(``.*?``|`[^`]*`)")


def note_module(app, what, name, obj, options, lines):
    """Remember the module autodoc is documenting (its docstring comes first)."""
    if what == "module":
        app.env.temp_data["lee_docs_module"] = name


def skip_members(app, what, name, obj, skip, options):
    """Skip scikit-learn's helpers, and names a module imports from another one.

    A module may list an imported name in ``__all__`` (``lee.scan`` re-exports
    ``ScanResult`` from ``lee.result``); it is documented once, where it is defined.
    """
    if _SKLEARN_HELPER.fullmatch(name):
        return True
    module = app.env.temp_data.get("lee_docs_module")
    defined_in = getattr(obj, "__module__", None)
    is_definition = inspect.isclass(obj) or inspect.isfunction(obj)
    if what == "module" and module and is_definition and defined_in != module:
        return True
    return None


def escape_absolute_values(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        stripped = line.strip()
        if (
            "|" not in line
            or stripped == "|"
            or stripped.startswith(("| ", "+-", "+="))
        ):
            continue  # a line block or a table
        parts = _QUOTED.split(line)  # odd parts are ``literals`` or `roles`
        parts[::2] = [_BARS.sub(r"\\|\1\\|", part) for part in parts[::2]]
        lines[i] = "".join(parts)


# -- figures from runs ------------------------------------------------------------


class OptionalFigure(SphinxDirective):
    """A figure shown when its file exists, otherwise its caption alone.

    The content is the caption: its first paragraph becomes the figure caption and
    the rest the legend. Without the file, a note names the missing path and the
    caption follows as plain text, so the page still says what the figure shows.
    """

    required_arguments = 1
    has_content = True
    option_spec: ClassVar = {"alt": directives.unchanged, "width": directives.unchanged}

    def run(self):
        path = self.arguments[0]
        _, full_path = self.env.relfn2path(path, self.env.docname)
        # A missing dependency makes Sphinx reread the page on every build, so an
        # incremental build picks the figure up as soon as it is copied in.
        self.env.note_dependency(full_path)
        caption = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, caption)

        if not Path(full_path).is_file():
            note = nodes.paragraph()
            note += nodes.emphasis(text="Figure not included in this build: ")
            note += nodes.literal(text=path)
            return [note, *caption.children]

        image = nodes.image(uri=path, alt=self.options.get("alt", path))
        if "width" in self.options:
            image["width"] = self.options["width"]
        figure = nodes.figure("", image)
        paragraphs = list(caption.children)
        if paragraphs and isinstance(paragraphs[0], nodes.paragraph):
            figure += nodes.caption("", "", *paragraphs[0].children)
            paragraphs = paragraphs[1:]
        if paragraphs:
            figure += nodes.legend("", *paragraphs)

        return [figure]


class FidelitySummary(SphinxDirective):
    """The numbers of a fidelity report (``FidelityReport.to_dict()`` as JSON).

    Without the file, a note names it, as ``optional-figure`` does for images.
    """

    required_arguments = 1

    def run(self):
        path = self.arguments[0]
        _, full_path = self.env.relfn2path(path, self.env.docname)
        self.env.note_dependency(full_path)
        if not Path(full_path).is_file():
            note = nodes.paragraph()
            note += nodes.emphasis(text="Fidelity numbers not included in this build: ")
            note += nodes.literal(text=path)
            return [note]
        report = json.loads(Path(full_path).read_text())

        def number(key, row=report, fmt="{:.4f}"):
            value = row.get(key)
            return fmt.format(value) if isinstance(value, (int, float)) else "-"

        def auc(row):
            return f"{number('c2st_auc', row)} +- {number('c2st_auc_err', row)}"

        headline = _table(
            (
                "reference events",
                "generated events",
                "C2ST AUC",
                "largest relative mean difference",
                "largest correlation difference",
            ),
            [
                (
                    number("n_reference", fmt="{:,}"),
                    number("n_generated", fmt="{:,}"),
                    auc(report),
                    number("max_rel_mean_diff"),
                    number("max_abs_corr_diff"),
                )
            ],
        )
        ks = report.get("ks", {})
        w1 = report.get("wasserstein", {})
        means = _table(
            (
                "feature",
                "MC mean",
                "generated mean",
                "relative difference",
                "KS",
                "W1 / std",
            ),
            [
                (
                    nodes.literal(text=row.get("feature", "?")),
                    number("reference_mean", row, "{:.4g}"),
                    number("generated_mean", row, "{:.4g}"),
                    number("relative_difference", row, "{:+.4f}"),
                    number(row.get("feature"), ks),
                    number(row.get("feature"), w1),
                )
                for row in report.get("table", [])
            ],
        )
        out = [headline, means]
        if report.get("slices"):
            name = report.get("slice_by") or "slice"
            out.append(
                _table(
                    (
                        f"{name} slice",
                        "MC events",
                        "generated events",
                        "C2ST AUC",
                        "largest relative mean difference",
                        "largest correlation difference",
                    ),
                    [
                        (
                            f"[{number('low', row, '{:g}')}, "
                            f"{number('high', row, '{:g}')})",
                            number("n_reference", row, "{:,}"),
                            number("n_generated", row, "{:,}"),
                            auc(row),
                            number("max_rel_mean_diff", row),
                            number("max_abs_corr_diff", row),
                        )
                        for row in report["slices"]
                    ],
                )
            )

        return out


# -- the study file ---------------------------------------------------------------

_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _study_sections() -> dict[str, type | None]:
    """``{"": None, "data": DataSection, ...}``: the top level, then each table."""
    from lee.study import Study

    hints = typing.get_type_hints(Study)
    sections: dict[str, type | None] = {"": None}
    for field in dataclasses.fields(Study):
        if dataclasses.is_dataclass(hints[field.name]):
            sections[field.name] = hints[field.name]

    return sections


def _study_fields(section: str) -> list[tuple[dataclasses.Field, object, object]]:
    """``(field, type, default)`` of every key written to a study file."""
    from lee.study import Study

    cls = _study_sections()[section] or Study
    hints = typing.get_type_hints(cls)
    rows = []
    for field in dataclasses.fields(cls):
        if "help" not in field.metadata:  # not a key of the file (base_dir)
            continue
        if dataclasses.is_dataclass(hints[field.name]):
            continue
        if field.default is not dataclasses.MISSING:
            default = field.default
        else:
            default = field.default_factory()
        rows.append((field, hints[field.name], default))

    return rows


def _type_name(kind) -> str:
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind)
        return f"list of {_TYPE_NAMES.get(item, item.__name__)}s"

    return _TYPE_NAMES.get(kind, getattr(kind, "__name__", str(kind)))


def _constraints(meta) -> str:
    parts = []
    if "choices" in meta:
        parts.append("one of " + ", ".join(json.dumps(c) for c in meta["choices"]))
    if "length" in meta:
        parts.append(f"exactly {meta['length']} values")
    if "min" in meta:
        parts.append(f">= {meta['min']}")
    if "gt" in meta:
        parts.append(f"> {meta['gt']}")
    if "max" in meta:
        parts.append(f"<= {meta['max']}")

    return "; ".join(parts)


def _cell(content) -> nodes.entry:
    entry = nodes.entry()
    if isinstance(content, nodes.Node):
        entry += nodes.paragraph("", "", content)
    else:
        entry += nodes.paragraph(text=content)
    return entry


def _table(header, rows, widths=None) -> nodes.table:
    """A docutils table; cells are strings or inline nodes."""
    group = nodes.tgroup(cols=len(header))
    for width in widths or [1] * len(header):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    head += nodes.row("", *(_cell(h) for h in header))
    group += head
    body = nodes.tbody()
    for row in rows:
        body += nodes.row("", *(_cell(c) for c in row))
    group += body

    return nodes.table("", group)


class StudyKeys(SphinxDirective):
    """The keys of one table of a study file (``top`` for the top level)."""

    required_arguments = 1

    def run(self):
        section = "" if self.arguments[0] == "top" else self.arguments[0]
        sections = _study_sections()
        if section not in sections:
            raise self.error(
                f"study-keys: no table [{section}] in lee.study.Study; the tables "
                f"are {[s for s in sections if s]}."
            )
        if not hasattr(self.env, "lee_study_sections"):
            self.env.lee_study_sections = {}
        self.env.lee_study_sections.setdefault(self.env.docname, set()).add(section)

        rows = [
            (
                nodes.literal(text=field.name),
                _type_name(kind),
                nodes.literal(text=json.dumps(default)),
                _constraints(field.metadata),
                field.metadata["help"],
            )
            for field, kind, default in _study_fields(section)
        ]
        header = ("key", "type", "default", "allowed values", "meaning")

        return [_table(header, rows, widths=(14, 10, 14, 18, 44))]


class StudyExample(SphinxDirective):
    """A complete study file with every key at its default, as ``Study`` writes it."""

    def run(self):
        from lee.study import Study

        text = Study().to_toml()
        block = nodes.literal_block(text, text, language="toml")

        return [block]


def check_study_coverage(app, env):
    """Warn when a table of the study file has no ``study-keys`` on any page."""
    pages = getattr(env, "lee_study_sections", {})
    if not pages:
        return
    covered = set().union(*pages.values())
    missing = [s or "top" for s in _study_sections() if s not in covered]
    if missing:
        logger.warning(
            "the study-file reference documents no keys of %s; add a study-keys "
            "directive for each",
            ", ".join(missing),
        )


# -- the command line -------------------------------------------------------------


class ClickHelp(SphinxDirective):
    """The ``--help`` text of a click command, e.g. ``lee.cli:lee demo``.

    The first word names the command object as ``module:attribute``; the rest is the
    path of subcommands. The text is what the terminal shows, at a width of 88.
    """

    required_arguments = 1
    optional_arguments = 4

    def run(self):
        import click

        module_name, _, attribute = self.arguments[0].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        path = list(self.arguments[1:])

        # Walk down the groups with a context per level, as click does when the
        # command runs, so the usage line shows the full command path.
        context = click.Context(
            command, info_name="lee", terminal_width=88, max_content_width=88
        )
        for name in path:
            if not isinstance(command, click.Group) or name not in command.commands:
                raise self.error(f"click-help: no subcommand {name!r} in {path}.")
            command = command.commands[name]
            context = click.Context(
                command,
                info_name=name,
                parent=context,
                terminal_width=88,
                max_content_width=88,
            )
        text = command.get_help(context)

        return [nodes.literal_block(text, text, language="text")]


def check_api_coverage(app, env):
    """Warn when a public module of the packages has no entry in the API reference."""
    documented = set(env.get_domain("py").modules)
    if not documented:  # a build of a subset of pages, without the API reference
        return
    missing = []
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        for info in pkgutil.walk_packages(path, prefix=f"{package}."):
            private = any(part.startswith("_") for part in info.name.split("."))
            if not private and info.name not in documented:
                missing.append(info.name)
    if missing:
        logger.warning(
            "modules missing from the API reference (add an automodule to "
            "docs/api/): %s",
            ", ".join(sorted(missing)),
        )


def purge_study_sections(app, env, docname):
    getattr(env, "lee_study_sections", {}).pop(docname, None)


def setup(app):
    app.connect("missing-reference", resolve_public_alias)
    app.connect("autodoc-process-docstring", note_module)
    app.connect("autodoc-process-docstring", escape_absolute_values)
    app.connect("autodoc-skip-member", skip_members)
    app.connect("env-purge-doc", purge_study_sections)
    app.connect("env-check-consistency", check_study_coverage)
    app.connect("env-check-consistency", check_api_coverage)
    app.add_directive("optional-figure", OptionalFigure)
    app.add_directive("study-keys", StudyKeys)
    app.add_directive("study-example", StudyExample)
    app.add_directive("click-help", ClickHelp)
    app.add_directive("fidelity-summary", FidelitySummary)

    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True}
