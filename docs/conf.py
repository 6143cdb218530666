"""Sphinx configuration of the keras-dde site.

Build: `sphinx-build -W --keep-going -b html docs docs/_build/html` (what
.ci/run does). Every warning fails the build, naming the page and the line: a
broken cross-reference, a docstring that is not valid reStructuredText, a
notebook cell that raises.
"""

import os
import pathlib
import re
import shutil
import sys
import tempfile

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

# The notebooks run at build time (they are stored without outputs), as
# tests/test_tutorials.py runs them: quick mode, on JAX, in fresh kernels that
# import this checkout. autodoc imports the package with the same backend.
os.environ["KERAS_BACKEND"] = "jax"
os.environ["KERAS_DDE_TUTORIAL_QUICK"] = "1"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
# JAX's persistent compilation cache, in the directory the test suite uses
# (conftest.py): in CI the notebook tests have just compiled the same programs,
# so the kernels load them instead of compiling again.
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR",
    os.path.join(tempfile.gettempdir(), "keras-dde-test-jax-cache"),
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

import keras_dde  # noqa: E402

project = "keras-dde"
author = "keras-dde developers"
copyright = "keras-dde developers"
release = keras_dde.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
]
templates_path = ["_templates"]
exclude_patterns = ["_build"]
# The docstrings write `name` for code, as Markdown does.
default_role = "code"
# Every Python cross-reference must resolve (with -W, a broken one fails).
nitpicky = True

html_theme = "pydata_sphinx_theme"
html_title = "keras-dde"
html_theme_options = {
    "github_url": "https://github.com/keras-dde/keras-dde",
    "navigation_with_keys": False,
}

# --- API reference -----------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# --- Markdown and notebooks --------------------------------------------------
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3
nb_execution_mode = "cache"  # CI starts from a clean tree: every notebook runs.
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_in_temp = True  # The notebooks write GIFs and models into their folder.
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# The kernels' stderr holds only TensorFlow's start-up logging (absl), which
# TF_CPP_MIN_LOG_LEVEL does not silence; a failing cell still fails the build.
nb_output_stderr = "remove"

GENERATED = DOCS / "generated"


def _generate_sources():
    """Copies the notebooks and wraps the benchmark results as pages.

    Both live outside docs/ (tutorials/, benchmarks/results/) and stay the
    one copy: the pages here are made from them at each build.
    """
    if GENERATED.exists():
        shutil.rmtree(GENERATED)
    tutorials = GENERATED / "tutorials"
    tutorials.mkdir(parents=True)
    for notebook in sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.ipynb")):
        shutil.copy(notebook, tutorials / notebook.name)
    results = GENERATED / "benchmarks"
    results.mkdir(parents=True)
    pngs = sorted((ROOT / "benchmarks" / "results").glob("*.png"))
    for page in sorted((ROOT / "benchmarks" / "results").glob("*.md")):
        text = page.read_text()
        # The figures a results file names, or that carry its name.
        figures = [p for p in pngs if p.name in text or p.stem.startswith(page.stem + "_")
                   or p.stem == page.stem]
        lines = []
        if not text.lstrip().startswith("# "):
            lines += [f"# {page.stem.replace('_', ' ').capitalize()}", ""]
        lines += [
            f"```{{include}} ../../../benchmarks/results/{page.name}",
            "```",
            "",
            f"Source: `benchmarks/results/{page.name}`.",
        ]
        for figure in figures:
            lines += ["", f"```{{figure}} ../../../benchmarks/results/{figure.name}",
                      f"`{figure.name}`", "```"]
        (results / page.name).write_text("\n".join(lines) + "\n")


_generate_sources()

FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
SECTION = re.compile(r"^\s*Examples?:\s*$")


def _fences_to_code_blocks(app, what, name, obj, options, lines):
    """The docstrings fence their examples Markdown-style (```python, which
    tests/test_docstring_examples.py runs); reST needs a code-block.

    Runs before napoleon, which takes `Example:` as a section only when what
    follows is indented: a block right under it is indented by four.
    """
    out, inside, indent = [], False, ""
    for line in lines:
        match = FENCE.match(line)
        if match and not inside:
            previous = next((text for text in reversed(out) if text.strip()), "")
            indent = match.group(1) + ("    " if SECTION.match(previous) else "")
            out += [f"{indent}.. code-block:: {match.group(2) or 'text'}", ""]
            strip, inside = len(match.group(1)), True
        elif match and inside:
            out.append("")
            inside = False
        elif inside:
            out.append(f"{indent}   {line[strip:]}" if line.strip() else "")
        else:
            out.append(line)
    lines[:] = out


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Members a class inherits from scikit-learn or Keras are theirs to document."""
    module = getattr(obj, "__module__", None) or ""
    if module and not module.startswith("keras_dde"):
        return True
    return None


def setup(app):
    # Before napoleon (priority 500), so that its sections keep the block.
    app.connect("autodoc-process-docstring", _fences_to_code_blocks, priority=100)
    app.connect("autodoc-skip-member", _skip_foreign_members)
