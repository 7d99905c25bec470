"""Sphinx configuration for the lee-toys documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html``; the test
suite runs the same build (tests/test_docs.py), so a warning fails CI. Nothing here
needs the network or executes example code.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# The packages from this checkout, and the local extension in _ext/.
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS / "_ext"))

project = "lee-toys"
author = "The lee-toys developers"
copyright = "The lee-toys developers, BSD-3-Clause"

try:
    from importlib.metadata import version as _version

    release = _version("lee-toys")
except Exception:  # not installed: building from a bare checkout
    release = "0.1.0"
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "lee_docs",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: $...$ math, ::: fences, definition lists, {{ substitutions }}, and anchors
# for ## headings.
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3

# autodoc + napoleon: numpydoc docstrings; a module's ``__all__`` picks its members.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# Docstring types such as "ndarray of shape (n_events, n_features)" make every word a
# cross-reference, and "n_events" is the name of several attributes; those links are
# ambiguous by nature, so the "more than one target" warning is turned off. Missing
# targets still pass silently (nitpicky is off), duplicates and bad markup still fail.
suppress_warnings = ["ref.python"]

html_theme = "alabaster"
html_title = f"lee-toys {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "Global significance of weakly supervised bump hunts from toys",
    "fixed_sidebar": True,
}

# The demo's settings, quoted on docs/demo.md from the code that runs it.
from lee import demo as _demo  # noqa: E402

myst_substitutions = {
    "demo_events": f"{_demo.DEMO_EVENTS:,}",
    "demo_signal": f"{_demo.DEMO_SIGNAL:,}",
    "demo_toys": f"{_demo.DEMO_TOYS:,}",
    "demo_generator": _demo.DEMO_GENERATOR,
    "quick_events": f"{_demo.QUICK['n_events']:,}",
    "quick_signal": f"{_demo.QUICK['n_signal']:,}",
    "quick_toys": f"{_demo.QUICK['n_toys']:,}",
}
