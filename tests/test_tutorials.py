"""The tutorial notebooks are clean, run top to bottom, and their results are checked.

The notebooks are the source (edited in Jupyter, committed without outputs);
the tests here lint their code cells and execute them.

Each notebook executes in a fresh kernel (nbclient) in quick mode
(`KERAS_DDE_TUTORIAL_QUICK=1`), in a temporary folder that receives its
outputs. Executing them is marked `notebooks` and runs on one backend only
(JAX, the fastest here), to keep CI short: the notebooks use nothing
backend-specific that the package's own tests don't already cover on every
backend.
"""

import ast
import builtins
import importlib.util
import json
import os
import re
import time
from pathlib import Path

import keras
import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")

import imageio.v3 as iio  # noqa: E402

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"
NOTEBOOKS = sorted(path.name for path in TUTORIALS.glob("[0-9][0-9]_*.ipynb"))
# Wall-clock budget per notebook in quick mode, kernel start included.
SECONDS_PER_NOTEBOOK = 180

on_jax_only = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="the notebooks are executed on the JAX backend only",
)


def execute(name, tmp_path, monkeypatch, results_code):
    """Runs notebook `name` in `tmp_path`, then `results_code` in its kernel.

    `results_code` evaluates to a dict of the notebook's results, which is
    returned (it travels as JSON through the cell's output).
    """
    notebook = nbformat.read(TUTORIALS / name, as_version=4)
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            f"import json\nprint('RESULTS ' + json.dumps({results_code}))"
        )
    )
    monkeypatch.setenv("KERAS_DDE_TUTORIAL_QUICK", "1")
    # The kernel imports this checkout's keras_dde, not an installed copy.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(TUTORIALS.parent), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("KERAS_BACKEND", keras.backend.backend())
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    client = nbclient.NotebookClient(
        notebook,
        timeout=SECONDS_PER_NOTEBOOK,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.monotonic()
    client.execute()
    seconds = time.monotonic() - start
    print(f"{name}: {seconds:.0f} s")
    assert seconds < SECONDS_PER_NOTEBOOK, f"{name} took {seconds:.0f} s"
    text = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )
    match = re.search(r"^RESULTS (.*)$", text, flags=re.M)
    assert match, f"{name} printed no results:\n{text[-2000:]}"
    return json.loads(match.group(1)), text


def gif_frame_count(path):
    return iio.imread(path, index=None).shape[0]


def test_the_notebooks_exist_with_parameters_and_without_outputs():
    assert NOTEBOOKS == [
        "01_dde_basics.ipynb",
        "02_energy_gan.ipynb",
        "03_normalized_density.ipynb",
        "04_interactive_explorer.ipynb",
        "05_images.ipynb",
    ]
    for name in NOTEBOOKS:
        notebook = nbformat.read(TUTORIALS / name, as_version=4)
        nbformat.validate(notebook)
        code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
        tagged = [
            cell for cell in code_cells if "parameters" in cell.metadata.get("tags", [])
        ]
        assert len(tagged) == 1, name
        assert "KERAS_DDE_TUTORIAL_QUICK" in tagged[0].source
        # Notebooks pick the backend up from the environment.
        assert "KERAS_BACKEND" not in "".join(cell.source for cell in code_cells)
        assert all(not cell.outputs and cell.execution_count is None
                   for cell in code_cells), f"{name} is committed with outputs"


def code_cells(name):
    notebook = nbformat.read(TUTORIALS / name, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def bound_and_read_names(tree):
    """The names a module binds anywhere (any scope), and those it reads."""
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0]
                         for alias in node.names)
    return bound, read


def unresolved_imports(tree):
    """The imports in `tree` that do not resolve in this environment."""
    missing = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            missing += [alias.name for alias in node.names
                        if importlib.util.find_spec(alias.name) is None]
        elif isinstance(node, ast.ImportFrom):
            module = importlib.import_module(node.module)
            missing += [f"{node.module}.{alias.name}" for alias in node.names
                        if not hasattr(module, alias.name)
                        and importlib.util.find_spec(f"{node.module}.{alias.name}") is None]
    return missing


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_notebooks_code_is_clean(name):
    # The lint of the notebooks (they are the source, edited in Jupyter): every
    # code cell parses, every import resolves, and, over the whole notebook
    # (cells share one namespace), no import goes unused and no name is read
    # that nothing binds: a cheap stand-in for pyflakes. Scopes are merged,
    # so this misses a name bound in one function and read in another.
    trees = []
    for index, source in enumerate(code_cells(name)):
        try:
            trees.append(ast.parse(source))
        except SyntaxError as error:
            pytest.fail(f"{name}, code cell {index}: {error}")
    module = ast.Module(body=[node for tree in trees for node in tree.body],
                        type_ignores=[])
    assert unresolved_imports(module) == [], name
    bound, read = bound_and_read_names(module)
    imported = {(alias.asname or alias.name).split(".")[0]
                for node in ast.walk(module)
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    assert sorted(imported - read) == [], f"{name}: unused imports"
    assert sorted(read - bound - set(dir(builtins))) == [], f"{name}: unbound names"


@pytest.mark.notebooks
@on_jax_only
def test_01_dde_basics(tmp_path, monkeypatch):
    results, _ = execute(
        "01_dde_basics.ipynb", tmp_path, monkeypatch,
        '{"epochs": epochs, "every": every, "final_loss": float(final_loss), '
        '"gif_frames": int(gif_frames), "error_before": float(error_before), '
        '"error_after": float(error_after), "same": bool(same), '
        '"arm_log_density": arm_log_density, "arm_gap": arm_gap}',
    )
    outputs = tmp_path / "outputs"
    gif = outputs / "training_2spirals.gif"
    expected_frames = results["epochs"] // results["every"] + 1
    assert gif_frame_count(gif) == results["gif_frames"] == expected_frames
    assert gif_frame_count(outputs / "vectorfield_2spirals.gif") > 1
    for picture in ("samples_2spirals.png", "density_2spirals.png",
                    "vectorfield_2spirals.png", "loss.png", "denoised.png",
                    "single_vs_multiscale_2spirals.png"):
        assert iio.imread(outputs / picture).ndim == 3, picture
    # Below 3, the multi-scale loss of a zero energy in 2-D: the DDE has learned.
    assert 0 < results["final_loss"] < 3.0
    # The denoised error is sigma^2 times the loss: a small gain in quick mode.
    assert results["error_after"] < results["error_before"] * 1.01
    assert results["same"] and (outputs / "dde_2spirals.keras").exists()
    # The two arms hold equal mass: the multi-scale DDE gives them the same
    # mean log-density (0.02 nats apart in full mode, 0.1 is its target),
    # and closer than the single-sigma DDEModel does.
    gap = results["arm_gap"]
    assert gap["exact KDE"] < 0.05, gap
    assert gap["MultiScaleDDE"] < 0.1, gap
    assert gap["MultiScaleDDE"] < gap["DDEModel"], gap
    kde_level = np.mean(results["arm_log_density"]["exact KDE"])
    assert abs(np.mean(results["arm_log_density"]["MultiScaleDDE"]) - kde_level) < 0.5


@pytest.mark.notebooks
@on_jax_only
def test_02_energy_gan(tmp_path, monkeypatch):
    results, text = execute(
        "02_energy_gan.ipynb", tmp_path, monkeypatch,
        '{"epochs": epochs, "gif_frames": gif_frames, '
        '"losses": {k: v[-1] for k, v in history.history.items()}, '
        '"modes_covered": int(modes_covered), "close": float(close.mean())}',
    )
    for name in ("den_real", "den_fake", "samples"):
        path = tmp_path / "outputs" / f"{name}.gif"
        assert gif_frame_count(path) == results["gif_frames"][name] > 1
    assert set(results["losses"]) == {"generator_loss", "real_dde_loss", "fake_dde_loss"}
    # Keras reports the real losses (the seed's History showed `loss: 0.0`).
    assert all(value != 0.0 for value in results["losses"].values())
    assert 1 <= results["modes_covered"] <= 8
    assert "modes have samples" in text


@pytest.mark.notebooks
@on_jax_only
def test_03_normalized_density(tmp_path, monkeypatch):
    results, _ = execute(
        "03_normalized_density.ipynb", tmp_path, monkeypatch,
        "summary",
    )
    # Importance sampling agrees with quadrature on the trained energy.
    assert abs(results["log_z"] - results["grid_log_z"]) < max(
        0.05, 4 * results["log_z_stderr"]
    )
    # After a short run the DDE is a rough KDE, but a density all the same.
    assert results["dde_log_likelihood"] < results["kde_log_likelihood"] + 0.5
    assert results["dde_log_likelihood"] > -6.0
    assert results["auroc"] > 0.9
    for picture in ("density.png", "langevin_samples.png", "ood_histogram.png",
                    "mode_masses.png"):
        assert (tmp_path / "outputs" / picture).exists()
    # Mode masses on three separated Gaussians (weights 0.5, 0.3, 0.2): the
    # single-sigma DDE gets them wrong, the multi-scale DDE right.
    kde = np.array(results["kde_masses"])
    assert np.abs(kde - [0.5, 0.3, 0.2]).max() < 0.05
    dde_error = np.abs(np.log(np.array(results["dde_masses"]) / kde)).max()
    multiscale_error = np.abs(np.log(np.array(results["multiscale_masses"]) / kde)).max()
    assert dde_error > max(0.5, 2 * multiscale_error), (dde_error, multiscale_error)
    assert multiscale_error < 0.3, multiscale_error


@pytest.mark.notebooks
@on_jax_only
def test_04_interactive_explorer(tmp_path, monkeypatch):
    results, text = execute(
        "04_interactive_explorer.ipynb", tmp_path, monkeypatch,
        '{"frames": len(panel.frames), "epochs_done": panel.epochs_done, '
        '"exported": exported, "level": panel.message_level, '
        '"model": type(panel.model).__name__}',
    )
    assert results["level"] == "success"
    assert results["model"] == "MultiScaleDDE"  # The panel's default.
    assert results["epochs_done"] == 3 and results["frames"] == 4
    assert Path(results["exported"]) == tmp_path / "outputs" / "explorer.gif"
    assert gif_frame_count(results["exported"]) == 4
    assert "4 frames recorded" in text


@pytest.mark.notebooks
@on_jax_only
def test_05_images(tmp_path, monkeypatch):
    results, text = execute(
        "05_images.ipynb", tmp_path, monkeypatch,
        '{"losses": losses, "shape": list(samples.shape), '
        '"low": float(samples.min()), "high": float(samples.max()), '
        '"std": float(samples.std()), "grid_path": grid_path, '
        '"frames": len(frames.frames), "steps": epochs * (n_train // batch_size), '
        '"frames_every": frames_every, "mse_noisy": mse_noisy, '
        '"mse_denoised": mse_denoised, "sigma": sigma, "objective": gan.objective, '
        '"teacher_steps": int(teacher.optimizer.iterations), '
        '"teacher_epochs": teacher_epochs}',
    )
    outputs = tmp_path / "outputs"
    # The distilled GAN: its teacher fitted first (its own optimizer), then
    # trained on beside the generator, whose regression is logged.
    assert results["objective"] == "distillation"
    assert results["teacher_steps"] == results["teacher_epochs"] * 256 // 64
    assert set(results["losses"]) == {"generator_loss", "regression_loss",
                                      "real_dde_loss", "fake_dde_loss"}
    assert all(np.isfinite(values).all() and len(values) == 1
               for values in results["losses"].values()), results["losses"]
    # 64 images of the data's shape, from the generator's tanh, not constant.
    assert results["shape"] == [64, 28, 28, 1]
    assert -1.0 <= results["low"] < results["high"] <= 1.0
    assert results["std"] > 1e-3
    # The sample grid: 8 x 8 tiles of 28 pixels at 0.5 inch and 100 dpi.
    assert Path(results["grid_path"]) == outputs / "samples_grid.png"
    grid = iio.imread(results["grid_path"])
    assert grid.ndim == 3 and grid.shape[1] == 400 and grid.shape[0] >= 400, grid.shape
    assert grid.std() > 1.0  # not a blank picture
    for picture in ("data_grid.png", "denoising.png", "teacher_ode_grid.png"):
        assert iio.imread(outputs / picture).ndim == 3, picture
    # One frame before training, then one every `frames_every` batches.
    expected = 1 + results["steps"] // results["frames_every"]
    assert gif_frame_count(outputs / "samples.gif") == results["frames"] == expected
    # The noisy images' error is sigma^2; the barely trained DDE's
    # denoising must not make it worse by much.
    assert abs(results["mse_noisy"] / results["sigma"] ** 2 - 1) < 0.05
    assert results["mse_denoised"] < results["mse_noisy"] * 1.05
    assert "epochs of 256 images" in text
