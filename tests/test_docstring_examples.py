"""Every docstring's `Example:` runs, so that the examples cannot drift from the API.

Each ```python block of a docstring in the package (modules, their classes,
functions and methods) is executed in a fresh namespace, in a temporary
folder (examples write files). Examples are written as a user would, against
their own data and model; the namespace provides those, and nothing else:

- `keras`, `keras_dde`, `np` (numpy);
- `x`: 2-D training data (1,024 points of "8gaussians"), `x_test`: 256 more;
- `dde`: a `keras_dde.MultiScaleDDE` already fitted on `x`.

Everything else an example needs it creates or imports itself. The examples
train for the epochs a user would on 1,024 points, which takes seconds; they
run on JAX only (the fastest backend here): every API they call is tested on
all three backends beside its module.
"""

import importlib
import inspect
import pkgutil
import re
import textwrap

import keras
import numpy as np
import pytest

import keras_dde

pytestmark = pytest.mark.jax_only

FENCE = re.compile(r"```python\n(.*?)```", re.S)
# The optional parts: without their extra installed, their examples skip.
OPTIONAL = {"keras_dde.widgets": "ipywidgets"}


def _documented_objects(module):
    """The module and what it defines: classes, functions, their methods."""
    found = [module]
    for _, member in inspect.getmembers(module):
        if getattr(member, "__module__", None) != module.__name__:
            continue
        found.append(member)
        if inspect.isclass(member):
            found += [
                method for name, method in vars(member).items()
                if inspect.isfunction(method) or isinstance(method, property)
            ]
    return found


def _first_line(module, member, block):
    """The line of `module`'s file where `block` starts, searched from
    `member`'s own definition on (1 if not found)."""
    first = next((line.strip() for line in block.splitlines() if line.strip()), "")
    lines = inspect.getsource(module).splitlines()
    try:
        start = inspect.getsourcelines(getattr(member, "fget", member))[1]
    except (OSError, TypeError):
        start = 1
    for number in range(max(start, 1), len(lines)):
        if lines[number - 1].strip() == "```python" and lines[number].strip() == first:
            return number + 1
    return 1


def _examples():
    """(source, file, line) of every example, each once: a failing example's
    traceback names the module's file and the line in its docstring."""
    examples, seen = [], set()
    for info in pkgutil.walk_packages(keras_dde.__path__, "keras_dde."):
        name = info.name
        if name.rsplit(".", 1)[-1].endswith("_test"):
            continue
        optional = next((m for p, m in OPTIONAL.items() if name.startswith(p)), None)
        if optional and importlib.util.find_spec(optional) is None:
            continue
        module = importlib.import_module(name)
        for member in _documented_objects(module):
            for index, block in enumerate(FENCE.findall(inspect.getdoc(member) or "")):
                block = textwrap.dedent(block)
                if block in seen:
                    continue
                seen.add(block)
                label = getattr(member, "__qualname__", None) or getattr(
                    getattr(member, "fget", None), "__qualname__", name
                )
                where = (inspect.getsourcefile(module), _first_line(module, member, block))
                examples.append(pytest.param((block, *where), id=f"{name}:{label}#{index}"))
    return examples


EXAMPLES = _examples()


def test_the_package_has_examples():
    assert len(EXAMPLES) >= 40


@pytest.fixture(scope="module")
def data():
    x = keras_dde.datasets.toy2d("8gaussians", 1280, seed=0)
    return x[:1024], x[1024:]


@pytest.fixture(scope="module")
def fitted_dde(data):
    dde = keras_dde.recipes.build_multiscale_dde(2, sigma=0.2, width=32)
    dde.fit(data[0], batch_size=512, epochs=20, verbose=0)
    return dde


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_runs(example, data, fitted_dde, tmp_path, monkeypatch):
    source, path, line = example
    monkeypatch.chdir(tmp_path)
    namespace = dict(keras=keras, keras_dde=keras_dde, np=np, x=data[0],
                     x_test=data[1], dde=fitted_dde)
    # Blank lines before the block put its lines where they are in the file.
    exec(compile("\n" * (line - 1) + source, path, "exec"), namespace)
