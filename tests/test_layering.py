"""The package's layering, enforced: the core knows nothing of pictures.

Bottom to top: `backend` -> `layers`, `losses` -> `models`, `partition`,
`sampling`, `training` (with `utils` below all) -> `callbacks`, `plotting`,
`estimators` -> `widgets`, `cli`. The core never imports the picture
packages, matplotlib or ipywidgets, neither at module level nor inside
functions.
"""

import ast
import importlib
import pathlib
import pkgutil
import subprocess
import sys
import textwrap

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "keras_dde"
CORE = (
    "backend",
    "layers",
    "losses",
    "models",
    "partition",
    "sampling",
    "training",
    "utils",
)
FORBIDDEN = (
    "keras_dde.callbacks",
    "keras_dde.plotting",
    "keras_dde.widgets",
    "keras_dde.cli",
    "matplotlib",
    "ipywidgets",
)


def _modules(paths):
    for path in sorted(paths):
        if path.name.endswith("_test.py"):
            continue
        yield path


def _core_modules():
    for name in CORE:
        single = PACKAGE / f"{name}.py"
        if single.exists():
            yield single
        yield from _modules((PACKAGE / name).rglob("*.py"))


def _imported_names(tree, path):
    """Every module an `import` or `from ... import` anywhere in `tree` names."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([module] if module else []))
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            yield node.lineno, str(node.args[0].value)


def _is_forbidden(name):
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)


def test_the_core_imports_no_pictures_widgets_or_cli():
    modules = list(_core_modules())
    assert len(modules) > 20  # The walk found the core.
    offenders = []
    for path in modules:
        tree = ast.parse(path.read_text(), filename=str(path))
        for lineno, name in _imported_names(tree, path):
            if _is_forbidden(name):
                offenders.append(f"{path.relative_to(PACKAGE)}:{lineno} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_the_import_check_catches_a_function_level_import():
    source = textwrap.dedent(
        """
        def draw():
            from keras_dde.plotting import common
            import matplotlib.figure
        """
    )
    path = PACKAGE / "models" / "example.py"
    names = [name for _, name in _imported_names(ast.parse(source), path)]
    assert [name for name in names if _is_forbidden(name)] == [
        "keras_dde.plotting",
        "keras_dde.plotting.common",
        "matplotlib.figure",
    ]


# Keras 3 itself imports matplotlib when it is installed (for
# `keras.visualization`), so the core's independence is shown with matplotlib
# and ipywidgets made unimportable: the core must import and train without them.
_WITHOUT_PICTURES = textwrap.dedent(
    """
    import importlib.abc
    import sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("matplotlib", "ipywidgets"):
                raise ImportError(f"{name} is blocked by the layering test")
            return None

    sys.meta_path.insert(0, Block())
    import numpy as np
    import keras_dde

    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=8, depth=1), 0.3)
    dde.compile()
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    dde.fit(x, batch_size=32, epochs=1, verbose=0)
    dde.log_prob(x[:4])
    loaded = sorted(
        name for name in sys.modules
        if name.split(".")[0] in ("matplotlib", "ipywidgets")
        or name.startswith(("keras_dde.callbacks", "keras_dde.plotting",
                            "keras_dde.widgets", "keras_dde.cli"))
    )
    print("LOADED", loaded)
    """
)


def test_keras_dde_trains_without_matplotlib_and_loads_no_picture_package():
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PICTURES],
        capture_output=True,
        text=True,
        cwd=PACKAGE.parent,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "LOADED []" in result.stdout, result.stdout


def test_import_keras_dde_adds_no_matplotlib_module_beyond_keras():
    script = textwrap.dedent(
        """
        import sys
        import keras
        before = {m for m in sys.modules if m.split(".")[0] == "matplotlib"}
        import keras_dde
        keras_dde.DDEModel, keras_dde.EnergyGAN, keras_dde.models.DDEModel
        after = {m for m in sys.modules if m.split(".")[0] == "matplotlib"}
        print("NEW", sorted(after - before))
        print("PICTURES", "keras_dde.plotting" in sys.modules,
              "keras_dde.callbacks" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=PACKAGE.parent,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "NEW []" in result.stdout, result.stdout
    assert "PICTURES False False" in result.stdout, result.stdout


def test_lazy_subpackages_load_on_first_access():
    import keras_dde

    assert keras_dde.plotting.plot_density is not None
    assert keras_dde.callbacks.DensityFrames is not None
    with pytest.raises(AttributeError, match="no attribute"):
        keras_dde.not_a_module  # noqa: B018


def test_every_module_is_an_attribute_after_import_keras_dde():
    # What the docstrings and the README write, `keras_dde.recipes.build_dde`,
    # must work after a bare `import keras_dde`: in a fresh interpreter, so
    # that no other test has imported the modules already.
    names = sorted(
        info.name for info in pkgutil.iter_modules([str(PACKAGE)])
        if not info.name.endswith("_test") and not info.name.startswith("_")
    )
    assert {"recipes", "cli", "estimators", "widgets", "testing"} <= set(names)
    code = (
        "import keras_dde\n"
        f"missing = [n for n in {names!r} if not hasattr(keras_dde, n)]\n"
        "print(missing)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, timeout=300, cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_every_public_name_has_one_home():
    """A module's `__all__` exports only what is defined in its own package:
    no module re-exports another's names (the old alias modules did)."""
    import types

    offenders = []
    for info in pkgutil.walk_packages([str(PACKAGE)], "keras_dde."):
        if info.name.endswith("_test") or info.name.startswith("keras_dde.testing"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError as error:  # An optional extra (ipywidgets) is missing.
            if error.name and not error.name.startswith("keras_dde"):
                continue
            raise
        package = info.name if info.ispkg else info.name.rpartition(".")[0]
        for name in getattr(module, "__all__", ()):
            home = getattr(getattr(module, name), "__module__", None)
            if isinstance(getattr(module, name), types.ModuleType) or home is None:
                continue
            if home != package and not home.startswith(package + "."):
                offenders.append(f"{info.name}.{name} is {home}.{name}")
    assert not offenders, "\n".join(offenders)

