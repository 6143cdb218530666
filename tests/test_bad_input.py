"""Bad input across the public API: each mistake fails early, naming the fix.

`CASES` is the table: one `Case(id, api, mistake, call, error, match)` per
mistake, where `call(tmp)` makes the mistake (`tmp`: an empty folder), `error`
is the exception type it must raise and `match` a regex its message must
match (the argument's name and the fix). Calls that would train do so for
`LONG` epochs, so a check that came after the start of training would time
the test out rather than pass. Command-line cases run `keras_dde.cli.main`
and turn a non-zero exit status into `CommandLineError("exit status N: ...")`
with the one line it printed.

The troubleshooting table of docs/reliability.md is this table, rendered with the messages
the calls really give:

    KERAS_BACKEND=jax python tests/test_bad_input.py > troubleshooting.md
"""

import collections
import contextlib
import importlib
import io
import os
import re
import sys
import tempfile
import time

import keras
import numpy as np
import pytest

import keras_dde
import keras_dde.recipes
from keras_dde import cli
from keras_dde.callbacks import DensityFrames
from keras_dde.estimators import DDEDensity
from keras_dde.training import StopOnDivergence
from keras_dde.utils.validation import check_data

LONG = 100_000  # epochs: a check made after training starts would hang.
# What a case may take, with model construction, on a busy machine: far less
# than the minutes that LONG epochs would take.
MAX_SECONDS = 60.0


class CommandLineError(Exception):
    """A `keras-dde` command that exited with a non-zero status."""


Case = collections.namedtuple(
    "Case", ["id", "api", "mistake", "call", "error", "match", "requires"],
    defaults=[None],
)


# --- Helpers that make the mistakes short to write ----------------------------


def multiscale_on_a_generator():
    dde = keras_dde.MultiScaleDDE(
        keras_dde.models.conditional_energy_mlp(2, width=16), 0.1, sigma_max=1.0
    )
    dde.compile(keras.optimizers.Adam(1e-3))
    # A dataset or PyDataset is read once for the statistics; a generator cannot be.
    dde.fit(((points(64),) for _ in range(LONG)), epochs=1, verbose=0)


class PanelMessage(Exception):
    """An error message that a `TrainingPanel` showed in its status line."""


def panel(**kwargs):
    from keras_dde.widgets import TrainingPanel

    settings = dict(dataset="8gaussians", n_samples=512, width=8, depth=1, epochs=1,
                    resolution=16, frames_per_run=2)
    settings.update(kwargs)
    return TrainingPanel(**settings)


def trained_panel():
    trained = panel()
    trained.train()
    if not trained.wait(timeout=MAX_SECONDS):
        raise TimeoutError("the panel's one-epoch run did not finish")
    return trained


def panel_message(target, click=None, **values):
    """Sets widget values (and clicks), then raises the panel's error, if any."""
    for name, value in values.items():
        getattr(target, name).value = value
    if click:
        getattr(target, click).click()
    if target.message_level == "error":
        raise PanelMessage(" ".join(target.message.split()))


def points(n=256, features=2):
    return np.random.default_rng(0).normal(size=(n, features)).astype("float32")


def dde(sigma=0.3):
    model = keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=8, depth=1), sigma)
    model.compile()
    return model


def fit_dde(x, **kwargs):
    return dde().fit(x, epochs=LONG, verbose=0, **kwargs)


def gan(**kwargs):
    return keras_dde.EnergyGAN(
        kwargs.pop("generator", keras_dde.models.generator_mlp(2, 2, width=8, depth=1)),
        kwargs.pop("real_dde", dde()),
        kwargs.pop("fake_dde", dde()),
        **kwargs,
    )


def compiled_gan():
    model = gan()
    model.compile(generator_optimizer="adam", dde_optimizer="adam")
    return model


def fit_with(callback, model=None):
    model = model or dde()
    return model.fit(points(), epochs=LONG, verbose=0, callbacks=[callback])


def ten_unit_energy():
    inputs = keras.Input((2,))
    return keras.Model(inputs, keras.layers.Dense(10)(inputs))


def save(tmp, name, array):
    path = os.path.join(tmp, name)
    np.save(path, array)
    return path


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as handle:
        handle.write(text)
    return path


def non_empty_folder(tmp):
    folder = os.path.join(tmp, "run")
    os.makedirs(folder, exist_ok=True)
    write(folder, "notes.txt", "an earlier run")
    return folder


def run_cli(*argv):
    """Runs `keras-dde argv...`; a non-zero exit raises CommandLineError."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main([str(a) for a in argv])
    if code:
        raise CommandLineError(f"exit status {code}: {stderr.getvalue().strip()}")
    return code


def train(tmp, data, *options):
    """`keras-dde train DATA --out TMP/out --epochs LONG ...`."""
    return run_cli("train", data, "--out", os.path.join(tmp, "out"), "--epochs",
                   LONG, "--quiet", *options)


# --- The table --------------------------------------------------------------------

CASES = [
    # DDEModel: construction.
    Case("dde-energy-not-a-layer", "DDEModel", "`energy` is not a Keras layer",
         lambda tmp: keras_dde.DDEModel("mlp", sigma=0.1),
         TypeError, r"`energy` must be a Keras layer or model"),
    Case("dde-energy-not-scalar", "DDEModel", "energy network with 10 outputs",
         lambda tmp: keras_dde.DDEModel(ten_unit_energy(), sigma=0.1),
         ValueError, r"`energy` must return one scalar per sample.*EnergyHead"),
    Case("dde-sigma-zero", "DDEModel", "`sigma=0`",
         lambda tmp: keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=0),
         ValueError, r"`sigma` must be a positive, finite number"),
    Case("dde-sigma-nan", "DDEModel", "`sigma=nan`",
         lambda tmp: keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=float("nan")),
         ValueError, r"`sigma` must be a positive, finite number"),
    Case("dde-sigma-string", "DDEModel", "`sigma='0.1'` (a string)",
         lambda tmp: keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma="0.1"),
         TypeError, r"`sigma` must be a positive number"),
    Case("dde-compile-loss", "DDEModel.compile", "`loss='mse'`",
         lambda tmp: dde().compile(loss="mse"),
         ValueError, r"do not pass `loss`"),
    Case("dde-compile-metrics", "DDEModel.compile", "`metrics=['mae']`",
         lambda tmp: dde().compile(metrics=["mae"]),
         ValueError, r"do not pass `metrics`"),
    # DDEModel: data.
    Case("dde-fit-nan", "DDEModel.fit", "NaN in the data",
         lambda tmp: fit_dde(np.where(points() > 2, np.nan, points())),
         ValueError, r"`x` contains NaN or Inf values in \d+ of 256 samples.*remove or impute"),
    Case("dde-fit-inf", "DDEModel.fit", "Inf in the data",
         lambda tmp: fit_dde(np.full((8, 2), np.inf)),
         ValueError, r"`x` contains NaN or Inf"),
    Case("dde-fit-empty", "DDEModel.fit", "empty data",
         lambda tmp: fit_dde(np.zeros((0, 2))),
         ValueError, r"`x` is empty.*at least one sample"),
    Case("dde-fit-1d", "DDEModel.fit", "1-D data of shape (n,)",
         lambda tmp: fit_dde(np.arange(10.0)),
         ValueError, r"`x` must have shape \(n_samples, n_features\).*reshape\(-1, 1\)"),
    Case("dde-fit-features", "DDEModel.fit", "3 features for a 2-feature network",
         lambda tmp: fit_dde(points(features=3)),
         ValueError, r"`x` has per-sample shape \(3,\), but the model expects \(2,\).*energy_mlp\(3\)"),
    Case("dde-fit-strings", "DDEModel.fit", "an array of strings",
         lambda tmp: fit_dde(np.array([["1.0", "2.0"]])),
         TypeError, r"`x` must hold numbers.*np.asarray"),
    Case("dde-fit-ragged", "DDEModel.fit", "a ragged list",
         lambda tmp: fit_dde([[0.0, 1.0], [2.0]]),
         TypeError, r"`x` must be a numeric array of shape \(n_samples, n_features\)"),
    Case("dde-fit-validation-nan", "DDEModel.fit", "NaN in `validation_data`",
         lambda tmp: fit_dde(points(), validation_data=np.full((4, 2), np.nan)),
         ValueError, r"`validation_data` contains NaN or Inf"),
    Case("dde-fit-weight-shape", "DDEModel.fit", "`sample_weight` of the wrong length",
         lambda tmp: fit_dde(points(), sample_weight=np.ones(10)),
         ValueError, r"`sample_weight` must have shape \(256,\), one weight per sample"),
    Case("dde-fit-weight-negative", "DDEModel.fit", "negative `sample_weight`",
         lambda tmp: fit_dde(points(), sample_weight=-np.ones(256)),
         ValueError, r"`sample_weight` must be finite and non-negative"),
    Case("dde-fit-weight-zero", "DDEModel.fit", "`sample_weight` all zero",
         lambda tmp: fit_dde(points(), sample_weight=np.zeros(256)),
         ValueError, r"`sample_weight` is zero for every sample.*positive weight"),
    Case("dde-fit-guard-flag", "DDEModel.fit", "`stop_on_divergence='yes'`",
         lambda tmp: fit_dde(points(), stop_on_divergence="yes"),
         TypeError, r"`stop_on_divergence` must be True or False.*StopOnDivergence"),
    Case("dde-sample-zero", "DDEModel.sample", "`n=0`",
         lambda tmp: dde().sample(0),
         ValueError, r"`n` must be a positive integer"),
    # EnergyGAN.
    Case("gan-generator-not-model", "EnergyGAN", "`generator` is a function",
         lambda tmp: gan(generator=lambda z: z),
         TypeError, r"`generator` must be a Keras model.*generator_mlp"),
    Case("gan-real-dde-not-dde", "EnergyGAN", "`real_dde` is a plain network",
         lambda tmp: gan(real_dde=keras_dde.models.energy_mlp(2)),
         TypeError, r"`real_dde` must be a keras_dde.DDEModel"),
    Case("gan-same-dde", "EnergyGAN", "the same DDE for `real_dde` and `fake_dde`",
         lambda tmp: (lambda d: gan(real_dde=d, fake_dde=d))(dde()),
         ValueError, r"`real_dde` and `fake_dde` must be different models; create two"),
    Case("gan-sigma-mismatch", "EnergyGAN", "DDEs with different sigma",
         lambda tmp: gan(real_dde=dde(0.3), fake_dde=dde(0.2)),
         ValueError, r"`real_dde` has sigma 0.3 but `fake_dde` has sigma 0.2.*allow_different_sigma=True"),
    Case("gan-shapes", "EnergyGAN", "generator makes 3 features, DDEs take 2",
         lambda tmp: gan(generator=keras_dde.models.generator_mlp(2, 3)),
         ValueError, r"generator makes samples of shape \(3,\), but `real_dde` takes inputs of shape \(2,\): make"),
    Case("gan-dde-steps", "EnergyGAN", "`dde_steps=0`",
         lambda tmp: gan(dde_steps=0),
         ValueError, r"`dde_steps` must be a positive integer"),
    Case("gan-compile-missing", "EnergyGAN.compile", "no `dde_optimizer`",
         lambda tmp: gan().compile(generator_optimizer="adam"),
         ValueError, r"needs both `generator_optimizer` and `dde_optimizer`; missing: dde_optimizer"),
    Case("gan-compile-loss", "EnergyGAN.compile", "a `loss`",
         lambda tmp: gan().compile(generator_optimizer="adam", dde_optimizer="adam",
                                   loss="mse"),
         ValueError, r"takes no `loss`"),
    Case("gan-fit-nan", "EnergyGAN.fit", "NaN in the data",
         lambda tmp: compiled_gan().fit(np.full((8, 2), np.nan), epochs=LONG, verbose=0),
         ValueError, r"`x` contains NaN or Inf"),
    Case("gan-fit-features", "EnergyGAN.fit", "3 features for 2-D samples",
         lambda tmp: compiled_gan().fit(points(features=3), epochs=LONG, verbose=0),
         ValueError, r"`x` has per-sample shape \(3,\), but the model expects \(2,\)"),
    Case("gan-generate-zero", "EnergyGAN.generate", "`n=0`",
         lambda tmp: gan().generate(0),
         ValueError, r"`n` must be a positive integer"),
    Case("gan-generate-string", "EnergyGAN.generate", "`n='100'`",
         lambda tmp: gan().generate("100"),
         TypeError, r"`n` must be a positive integer; received '100'"),
    # Callbacks.
    Case("frames-not-gif", "DensityFrames", "`gif_path` ending in .png",
         lambda tmp: DensityFrames("training.png"),
         ValueError, r"`gif_path` must end with .gif"),
    Case("frames-every-zero", "DensityFrames", "`every=0`",
         lambda tmp: DensityFrames(every=0),
         ValueError, r"`every` must be a positive integer"),
    Case("frames-every-word", "VectorFieldFrames", "`every='often'`",
         lambda tmp: keras_dde.callbacks.VectorFieldFrames(every="often"),
         ValueError, r"`every` must be a positive int or 'log'"),
    Case("frames-unit", "SampleFrames", "`unit='step'`",
         lambda tmp: keras_dde.callbacks.SampleFrames(unit="step"),
         ValueError, r"`unit` must be one of \('epoch', 'batch'\)"),
    Case("frames-fps", "DensityFrames", "`fps=0`",
         lambda tmp: DensityFrames(fps=0),
         ValueError, r"`fps` must be a positive number"),
    Case("frames-unwritable", "DensityFrames", "`gif_path` inside a file",
         lambda tmp: fit_with(DensityFrames(os.path.join(write(tmp, "f.txt", ""), "a.gif"))),
         ValueError, r"`gif_path` cannot be written"),
    Case("frames-gan-which-dde", "DensityFrames", "no `dde=` for an EnergyGAN",
         lambda tmp: fit_with(DensityFrames(), compiled_gan()),
         ValueError, r"DensityFrames cannot draw this EnergyGAN itself.*`dde='real'`"),
    Case("frames-gan-unknown-dde", "DensityFrames", "`dde='middle'` for an EnergyGAN",
         lambda tmp: fit_with(DensityFrames(dde="middle"), compiled_gan()),
         ValueError, r"has no DDE named 'middle'"),
    Case("guard-monitor", "StopOnDivergence", "`monitor=3`",
         lambda tmp: StopOnDivergence(monitor=3),
         TypeError, r"`monitor` must be None, a log name such as 'loss'"),
    # Estimators.
    Case("estimator-bandwidth", "DDEDensity.fit", "`bandwidth=-1`",
         lambda tmp: DDEDensity(bandwidth=-1).fit(points()),
         ValueError, r"The 'bandwidth' parameter of DDEDensity must be a float in the range \(0.0, inf\) or a str among"),
    Case("estimator-bandwidth-rule", "DDEDensity.fit", "`bandwidth='scot'`",
         lambda tmp: DDEDensity(bandwidth="scot").fit(points()),
         ValueError, r"The 'bandwidth' parameter of DDEDensity must be .* a str among \{.*'scott'.*\}"),
    Case("estimator-steps", "DDEDensity.fit", "`steps=0`",
         lambda tmp: DDEDensity(steps=0).fit(points()),
         ValueError, r"The 'steps' parameter of DDEDensity must be an int in the range \[1, inf\)"),
    Case("estimator-learning-rate", "DDEDensity.fit", "`learning_rate=0`",
         lambda tmp: DDEDensity(learning_rate=0).fit(points()),
         ValueError, r"The 'learning_rate' parameter of DDEDensity must be a float in the range \(0.0, inf\)"),
    Case("estimator-random-state", "DDEDensity.fit", "`random_state='seed'`",
         lambda tmp: DDEDensity(random_state="seed").fit(points()),
         TypeError, r"The 'random_state' parameter of DDEDensity must be an int .*RandomState' or None"),
    Case("estimator-1d", "DDEDensity.fit", "1-D `X` of shape (n,)",
         lambda tmp: DDEDensity(steps=LONG).fit(np.arange(10.0)),
         ValueError, r"`X` must have shape \(n_samples, n_features\).*`X.reshape\(-1, 1\)`"),
    Case("estimator-not-fitted", "DDEDensity.score_samples", "called before `fit`",
         lambda tmp: DDEDensity().score_samples(points()),
         ValueError, r"not fitted yet; call `fit` first"),
    Case("estimator-batch-size", "DDEDensity.fit", "`batch_size=0`",
         lambda tmp: DDEDensity(batch_size=0).fit(points()),
         ValueError, r"The 'batch_size' parameter of DDEDensity must be an int in the range \[1, inf\)"),
    # Data sets and ready networks.
    Case("toy2d-name", "datasets.toy2d", "an unknown name",
         lambda tmp: keras_dde.datasets.toy2d("spiral", 100),
         ValueError, r"Unknown toy data set 'spiral'; valid names are: .*2spirals"),
    Case("toy2d-count", "datasets.toy2d", "`n=0`",
         lambda tmp: keras_dde.datasets.toy2d("2spirals", 0),
         ValueError, r"`n` must be a positive integer"),
    Case("energy-mlp-input-dim", "models.energy_mlp", "`input_dim=2.5`",
         lambda tmp: keras_dde.models.energy_mlp(2.5),
         TypeError, r"`input_dim` must be a positive integer"),
    # Multi-scale DDEs.
    Case("multiscale-generator-without-statistics", "MultiScaleDDE.fit",
         "a Python generator, with no data statistics for the Gaussian base",
         lambda tmp: multiscale_on_a_generator(),
         ValueError, r"The Gaussian base needs the data's moments before training: call "
         r"`set_data_statistics\(data\)` before fitting a Python generator .* or pass "
         r"`gaussian_base=False`"),
    Case("multiscale-gaussian-base", "MultiScaleDDE", "`gaussian_base='yes'`",
         lambda tmp: keras_dde.MultiScaleDDE(
             keras_dde.models.conditional_energy_mlp(2), 0.1, gaussian_base="yes"),
         TypeError, r"`gaussian_base` must be True or False; received 'yes'"),
    Case("multiscale-weight-averaging", "MultiScaleDDE", "`weight_averaging=1`",
         lambda tmp: keras_dde.MultiScaleDDE(
             keras_dde.models.conditional_energy_mlp(2), 0.1, weight_averaging=1),
         ValueError, r"`weight_averaging` must be a decay in \(0, 1\), e.g. 0.999, "
         r"or None to train without it; received 1"),
    # Recipes (the CLI's and the panel's models).
    Case("recipe-kind", "recipes.build_model", "an unknown `kind`",
         lambda tmp: keras_dde.recipes.build_model("vae", 2),
         ValueError, r"`kind` must be one of 'dde', 'gan', 'multiscale'; received 'vae'"),
    Case("recipe-image-shape", "recipes.build_dde", "`feature_shape=(28, 28)`",
         lambda tmp: keras_dde.recipes.build_dde((28, 28)),
         ValueError, r"`feature_shape` must be the number of features.*image shape.*channel axis"),
    Case("recipe-unknown-setting", "recipes.build_model", "a GAN setting for a DDE",
         lambda tmp: keras_dde.recipes.build_model("dde", 2, latent_dim=4),
         TypeError, r"Unknown setting\(s\) latent_dim for kind 'dde'"),
    # Command line.
    Case("cli-unknown-name", "keras-dde train", "an unknown data set name",
         lambda tmp: train(tmp, "spiral"),
         CommandLineError, r"exit status 2: keras-dde: error: unknown data set 'spiral': give a .npy or .csv file, fashion-mnist, or one of .*2spirals"),
    Case("cli-missing-file", "keras-dde train", "a data file that does not exist",
         lambda tmp: train(tmp, os.path.join(tmp, "data.npy")),
         CommandLineError, r"exit status 2: .*data file not found"),
    Case("cli-epochs", "keras-dde train", "`--epochs 0`",
         lambda tmp: run_cli("train", "2spirals", "--out", os.path.join(tmp, "o"),
                             "--epochs", 0),
         CommandLineError, r"exit status 2: .*--epochs must be a positive int; received '0'"),
    Case("cli-sigma", "keras-dde gan", "`--sigma -0.1`",
         lambda tmp: run_cli("gan", "8gaussians", "--out", os.path.join(tmp, "o"),
                             "--sigma", "-0.1"),
         CommandLineError, r"exit status 2: .*--sigma must be a positive float"),
    Case("cli-single-sigma-max", "keras-dde train", "`--single-sigma --sigma-max 2`",
         lambda tmp: run_cli("train", "2spirals", "--out", os.path.join(tmp, "o"),
                             "--single-sigma", "--sigma-max", "2"),
         CommandLineError, r"exit status 2: .*--sigma-max sets the MultiScaleDDE's "
         r"noise levels; drop --single-sigma or --sigma-max"),
    Case("cli-no-out", "keras-dde train", "no `--out`",
         lambda tmp: run_cli("train", "2spirals"),
         CommandLineError, r"exit status 2: .*required: --out"),
    Case("cli-non-empty-out", "keras-dde train", "`--out` is a non-empty folder",
         lambda tmp: train(tmp, "2spirals", "--out", non_empty_folder(tmp)),
         CommandLineError, r"exit status 2: .*exists and is not empty; pass --overwrite"),
    Case("cli-out-is-file", "keras-dde gan", "`--out` is a file",
         lambda tmp: run_cli("gan", "8gaussians", "--epochs", LONG, "--out",
                             write(tmp, "out.txt", "")),
         CommandLineError, r"exit status 2: .*--out '.*out.txt' exists and is not a folder"),
    Case("cli-1d-npy", "keras-dde train", "a .npy file of shape (n,)",
         lambda tmp: train(tmp, save(tmp, "x.npy", np.arange(100.0))),
         CommandLineError, r"exit status 2: .*has shape \(100,\); the data must have shape \(n_samples, n_features\)"),
    Case("cli-one-feature", "keras-dde train", "a .npy file with one feature",
         lambda tmp: train(tmp, save(tmp, "x.npy", np.ones((100, 1)))),
         CommandLineError, r"exit status 2: .*needs data with at least 2 features"),
    Case("cli-nan-csv", "keras-dde gan", "a .csv file with a NaN",
         lambda tmp: run_cli("gan", write(tmp, "x.csv", "1,2\n3,nan\n"), "--epochs",
                             LONG, "--out", os.path.join(tmp, "o")),
         CommandLineError, r"exit status 2: .*contains NaN or Inf values in 1 of 2 samples"),
    Case("cli-bad-npy", "keras-dde train", "a file that is not a .npy array",
         lambda tmp: train(tmp, write(tmp, "x.npy", "not numpy")),
         CommandLineError, r"exit status 2: .*cannot read '.*x.npy': it is not a .npy file of numbers; write one with numpy.save"),
    # Widgets: mistakes typed into the panel are messages in its status line
    # (the notebook must not see a traceback), checked here as `PanelMessage`.
    Case("widget-dataset", "TrainingPanel", "an unknown `dataset`",
         lambda tmp: panel(dataset="spiral"),
         ValueError, r"`dataset` must be one of .*2spirals.*received 'spiral'",
         requires="ipywidgets"),
    Case("widget-sigma-argument", "TrainingPanel", "`sigma=0`",
         lambda tmp: panel(sigma=0.0),
         ValueError, r"`sigma`", requires="ipywidgets"),
    Case("widget-sigma-typed", "TrainingPanel (sigma box)", "sigma 0 typed into the text box",
         lambda tmp: panel_message(panel(), sigma_text="0"),
         PanelMessage, r"sigma '0' is not positive", requires="ipywidgets"),
    Case("widget-export-path", "TrainingPanel (Export GIF)", "an export path inside a file",
         lambda tmp: panel_message(
             trained_panel(), export_path_text=os.path.join(write(tmp, "f.txt", ""), "a.gif"),
             click="export_button",
         ),
         PanelMessage, r"Could not export the GIF.*cannot be written", requires="ipywidgets"),
]


def _run(case, tmp):
    if case.requires:
        importlib.import_module(case.requires)
    case.call(str(tmp))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case, tmp_path):
    if case.requires:
        pytest.importorskip(case.requires)
    keras.utils.set_random_seed(0)
    start = time.perf_counter()
    with pytest.raises(case.error, match=case.match) as info:
        _run(case, tmp_path)
    assert time.perf_counter() - start < MAX_SECONDS
    message = str(info.value)
    # One line, as the table and the command line show it.
    assert "\n" not in message.strip(), message
    if case.error is CommandLineError:
        assert message.startswith("exit status 2: keras-dde")
        # No run folder is left behind by a refused command.
        assert not os.path.exists(tmp_path / "out")


def test_the_table_is_big_and_its_ids_unique():
    ids = [case.id for case in CASES]
    assert len(set(ids)) == len(ids) >= 30
    apis = {case.api.split(".")[0].split(" ")[0] for case in CASES}
    assert {"DDEModel", "EnergyGAN", "DensityFrames", "DDEDensity", "keras-dde"} <= apis


# --- What is accepted: integer and float64 data is cast to float32 -------------


@pytest.mark.parametrize("dtype", ["int64", "int32", "float64", "bool"])
def test_integer_and_float64_data_is_cast_to_float32(dtype):
    x = (points(64) > 0) if dtype == "bool" else (points(64) * 2).round()
    x = x.astype(dtype)
    checked = check_data(x, "x", (2,))
    assert checked.dtype == np.float32
    np.testing.assert_array_equal(checked, x.astype("float32"))


def test_integer_data_trains_everywhere(tmp_path):
    x = (points(128) * 2).round().astype("int64")
    model = dde()
    history = model.fit(x, batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    model = compiled_gan()
    history = model.fit(x.astype("float64"), batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["generator_loss"][0])
    estimator = DDEDensity(steps=4, batch_size=64, log_z_samples=1000, random_state=0)
    scores = estimator.fit(x).score_samples(x[:5])
    assert scores.shape == (5,) and np.isfinite(scores).all()
    assert run_cli("train", save(str(tmp_path), "x.npy", x), "--out", tmp_path / "o",
                   "--epochs", 1, "--frames", 2, "--width", 4, "--depth", 1,
                   "--model-samples", 0, "--quiet") == 0


# --- The troubleshooting table of docs/reliability.md -------------------------


def render_markdown(cases=CASES):
    """The table as Markdown, with the message each call really gives."""
    rows = [
        "| API | mistake | error | message |",
        "| --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for index, case in enumerate(cases):
            tmp = os.path.join(folder, str(index))
            os.makedirs(tmp)
            keras.utils.set_random_seed(0)
            try:
                _run(case, tmp)
            except ImportError:
                continue
            except Exception as error:  # What the table documents.
                message, raised = str(error), type(error)
            else:
                raise AssertionError(f"case {case.id} raised nothing")
            if not (issubclass(raised, case.error) and re.search(case.match, message)):
                raise AssertionError(f"case {case.id}: {raised.__name__}: {message}")
            if case.error is CommandLineError:
                code, _, message = message.partition(": ")
                error_name = code.replace("exit status", "exit")
            else:
                error_name = case.error.__name__
            message = " ".join(message.replace(folder, "...").split())
            rows.append(
                f"| `{case.api}` | {case.mistake} | {error_name} | "
                f"{message.replace('|', '&#124;')} |"
            )
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    sys.stdout.write(render_markdown())
