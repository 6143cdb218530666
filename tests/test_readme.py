"""The README is the contract with a newcomer: keep its commands and code working."""

import os
import re
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def code_blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readme_test_command():
    test_commands = [b.strip() for b in code_blocks("bash") if "pytest" in b]
    assert len(test_commands) == 1
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert test_commands[0] in ci_script.splitlines()


# On Keras's default backend, the one the README's first command installs: the
# examples train small models for a minute, and every API they call is tested
# on all three backends beside its module.
@pytest.mark.tensorflow_only
def test_every_python_example_runs(tmp_path, monkeypatch):
    """The README's Python blocks run in order, in one namespace, like a notebook."""
    blocks = code_blocks("python")
    assert blocks and "MultiScaleDDE" in blocks[0]  # the quickstart: the default model
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for index, block in enumerate(blocks):
        exec(compile(block, f"README python block {index + 1}", "exec"), namespace)
    loaded = keras.models.load_model(os.path.join(tmp_path, "spirals.keras"))
    assert loaded.sigma == 0.1
