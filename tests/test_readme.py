"""The README is the contract with a newcomer: keep its commands and code working.

The manual it used to hold lives in docs/ (the Sphinx site): the Python blocks
of those pages run here too, after the README's quickstart.
"""

import os
import re
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
# The site's pages, in the order a reader meets them (their examples build on
# the quickstart's `x`, `dde`, `keras` and `keras_dde`).
PAGES = ["index", "guide", "theory", "tutorials", "command_line", "reliability",
         "scaling", "benchmarks", "developers"]


def code_blocks(language, text=README):
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_ci_runs_the_readme_test_command():
    test_commands = [b.strip() for b in code_blocks("bash") if "pytest" in b]
    assert len(test_commands) == 1
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert test_commands[0] in ci_script.splitlines()


def test_the_readme_is_an_entry_point():
    assert len(README.splitlines()) <= 250


def test_every_file_the_readme_names_exists():
    """Links, pictures and repository paths in backticks."""
    names = re.findall(r"\]\(([^)#\s]+)", README) + re.findall(r'src="([^"]+)"', README)
    names += re.findall(
        r"`((?:\.ci|benchmarks|docs|example_images|keras_dde|tests|tutorials)/[^`\s]*)`",
        README)
    local = [name for name in names if "://" not in name]
    assert len(local) > 10
    missing = [name for name in local if not (ROOT / name).exists()]
    assert not missing, missing


def test_every_page_in_the_site_is_in_the_list():
    pages = sorted(path.stem for path in DOCS.glob("*.md") if path.name != "README.md")
    assert pages == sorted(PAGES + ["api"])


# On Keras's default backend, the one the README's first command installs: the
# examples train small models for a minute, and every API they call is tested
# on all three backends beside its module.
@pytest.mark.tensorflow_only
def test_every_python_example_runs(tmp_path, monkeypatch):
    """The README's Python blocks run in order, in one namespace, like a notebook;
    then each page's, in a copy of that namespace."""
    blocks = code_blocks("python")
    assert blocks and "MultiScaleDDE" in blocks[0]  # the quickstart: the default model
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for index, block in enumerate(blocks):
        exec(compile(block, f"README python block {index + 1}", "exec"), namespace)
    loaded = keras.models.load_model(os.path.join(tmp_path, "spirals.keras"))
    assert loaded.sigma == 0.1
    ran = 0
    for page in PAGES:
        page_namespace = dict(namespace)
        text = (DOCS / f"{page}.md").read_text()
        for index, block in enumerate(code_blocks("python", text)):
            exec(compile(block, f"docs/{page}.md python block {index + 1}", "exec"),
                 page_namespace)
            ran += 1
    assert ran >= 8
