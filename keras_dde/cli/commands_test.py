"""The `keras-dde` commands end to end: files written, exit statuses, Ctrl-C."""

import os
import subprocess
import sys

import imageio.v3 as iio
import keras
import numpy as np
import pytest

from keras_dde import cli
from keras_dde import recipes
from keras_dde.cli import progress
from keras_dde.datasets import toy2d
from keras_dde.datasets import toy2d_names

FAST = ["--epochs", "2", "--n-samples", "512", "--batch-size", "128", "--frames",
        "3", "--width", "8", "--depth", "1", "--model-samples", "0", "--quiet"]
# Three epochs with a 10-frame log schedule: frames at epochs 0, 1, 2 and 3.
GAN_FAST = ["--epochs", "3", "--n-samples", "256", "--batch-size", "128",
            "--frames", "10", "--latent-dim", "2", "--quiet"]
# The seed's single-sigma GAN (the default, the covering GAN, fits a teacher
# first: test_gan_default_distils_a_teacher_fitted_first).
GAN_SINGLE_FAST = [*GAN_FAST, "--single-sigma"]
GAN_GIFS = ["den_fake.gif", "den_real.gif", "samples.gif"]
# What a Ctrl-C must leave behind: the GIFs, and no model.
COMMANDS = {"train": (FAST, ["training.gif"]), "gan": (GAN_SINGLE_FAST, GAN_GIFS)}


def run(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_writes_model_pictures_and_gif(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "8gaussians", "--out", str(out), *FAST]
    argv[argv.index("--model-samples") + 1] = "300"
    code, stdout, _ = run(capsys, *argv)
    assert code == 0
    names = sorted(os.listdir(out))
    assert names == ["density.png", "model.keras", "samples.png", "training.gif",
                     "vectorfield.png"]
    assert str(out / "model.keras") in stdout
    gif = iio.imread(out / "training.gif", index=None)
    assert gif.shape[0] >= 3 and gif.shape[1:3] == (200, 200)
    assert iio.imread(out / "density.png").shape[:2] == (400, 400)
    model = keras.models.load_model(out / "model.keras")
    assert model.predict(np.zeros((3, 2), "float32"), verbose=0).shape == (3,)


def test_gan_writes_model_pictures_and_gifs(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["gan", "8gaussians", "--out", str(out), *GAN_SINGLE_FAST]
    argv.remove("--quiet")
    code, stdout, err = run(capsys, *argv)
    assert code == 0, err
    assert sorted(os.listdir(out)) == sorted(
        GAN_GIFS + ["den_fake.png", "den_real.png", "model.keras", "samples.png"]
    )
    progress, *written = stdout.rstrip("\n").rsplit("\n", 7)
    assert written == [str(out / name) for name in (
        "model.keras", "den_real.png", "den_fake.png", "samples.png",
        "den_real.gif", "den_fake.gif", "samples.gif",
    )]
    # One progress bar over the epochs, with the three losses.
    assert "3/3" in progress
    for name in ("generator_loss", "real_dde_loss", "fake_dde_loss"):
        assert name in progress
    for name in GAN_GIFS:
        gif = iio.imread(out / name, index=None)
        assert gif.shape[:3] == (4, 200, 200), (name, gif.shape)
    # The generated points move between frames: the generator is training.
    samples = iio.imread(out / "samples.gif", index=None)
    assert not np.array_equal(samples[0], samples[-1])
    for name in ("den_real.png", "den_fake.png", "samples.png"):
        assert iio.imread(out / name).shape[:2] == (400, 400)
    model = keras.models.load_model(out / "model.keras")
    assert type(model).__name__ == "EnergyGAN"
    assert model.latent_dim == 2 and model.dde_steps == 2
    assert model.real_dde.sigma == pytest.approx(0.3)
    assert model.generate(5, seed=0).shape == (5, 2)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_refuses_a_non_empty_folder_without_overwrite(tmp_path, capsys, command):
    fast, gifs = COMMANDS[command]
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code, _, err = run(capsys, command, "rings", "--out", str(out), *fast)
    assert code == 2
    assert err.count("\n") == 1 and "--overwrite" in err
    assert os.listdir(out) == ["notes.txt"]
    code, _, _ = run(capsys, command, "rings", "--out", str(out), "--overwrite",
                     *fast)
    assert code == 0 and (out / "notes.txt").exists()
    assert all((out / gif).exists() for gif in gifs)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_ctrl_c_writes_the_frames_so_far(tmp_path, capsys, monkeypatch, command):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    monkeypatch.setattr(progress, "EpochProgress", Interrupt)
    fast, gifs = COMMANDS[command]
    out = tmp_path / "run"
    argv = [command, "2spirals", "--out", str(out), *fast]
    argv[argv.index("--epochs") + 1] = "50"
    argv.remove("--quiet")
    code, _, err = run(capsys, *argv)
    assert code == 130 and "interrupted" in err
    for gif in gifs:
        assert iio.imread(out / gif, index=None).shape[0] >= 2
        assert f"to {out / gif}" in err
    assert not (out / "model.keras").exists()


def test_examples_writes_the_readme_images(tmp_path, capsys, monkeypatch):
    # The example settings, on few points so that the test is fast.
    monkeypatch.setitem(cli.EXAMPLE, "n", 512)
    monkeypatch.setitem(cli.GAN_EXAMPLE, "n", 512)
    out = tmp_path / "images"
    code, stdout, err = run(capsys, "examples", "--out", str(out), "--epochs", "1",
                            "--gan-epochs", "2", "--quiet")
    assert code == 0, err
    names = ["training_2spirals.gif", "density_2spirals.png",
             "vectorfield_2spirals.png", "samples_2spirals.png",
             "den_real.gif", "den_fake.gif", "samples.gif"]
    assert stdout.split() == [str(out / name) for name in names]
    assert sorted(os.listdir(out)) == sorted(names)
    for name in ("den_real.gif", "den_fake.gif", "samples.gif"):
        # Frames at epochs 0, 1 and 2, at 160 px.
        assert iio.imread(out / name, index=None).shape[:3] == (3, 160, 160)


def test_console_module_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "keras_dde", "train", "nope", "--out",
         str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "keras-dde: error: unknown data set 'nope'"
    )


def test_divergence_exits_3_with_one_line_and_keeps_the_last_finite_model(
    tmp_path, capsys
):
    out = tmp_path / "run"
    argv = ["train", "8gaussians", "--out", str(out), *FAST]
    argv[argv.index("--epochs") + 1] = "20"
    code, stdout, err = run(capsys, *argv, "--learning-rate", "1e30")
    assert code == 3
    assert err.count("\n") == 1 and "Training diverged: loss = nan" in err
    assert "Lower the learning rate" in err and "last finite model" in err
    # Everything is written, from the restored (finite) weights.
    assert sorted(os.listdir(out)) == ["density.png", "model.keras", "samples.png",
                                       "training.gif", "vectorfield.png"]
    assert len(stdout.split()) == 5
    model = keras.models.load_model(out / "model.keras")
    assert all(np.isfinite(np.array(w)).all() for w in model.trainable_weights)
    assert iio.imread(out / "training.gif", index=None).shape[0] >= 1


def test_files_are_written_atomically(tmp_path, capsys, monkeypatch):
    # A finished run leaves no temporary files behind.
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "rings", "--out", str(out), *FAST)
    assert code == 0, err
    names = sorted(os.listdir(out))
    assert not [name for name in names if name.startswith(".")]
    old = {name: (out / name).read_bytes() for name in names}

    # A second run into the same folder (--overwrite), interrupted while it
    # trains: each file is either the old one, whole, or a complete new one.
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    monkeypatch.setattr(progress, "EpochProgress", Interrupt)
    argv = ["train", "rings", "--out", str(out), "--overwrite", *FAST]
    argv[argv.index("--epochs") + 1] = "50"
    argv.remove("--quiet")
    code, _, _ = run(capsys, *argv)
    assert code == 130
    assert sorted(os.listdir(out)) == names
    for name in ("model.keras", "density.png", "vectorfield.png", "samples.png"):
        assert (out / name).read_bytes() == old[name], name
    keras.models.load_model(out / "model.keras")
    gif = iio.imread(out / "training.gif", index=None)
    assert gif.shape[0] >= 2 and (out / "training.gif").read_bytes() != old["training.gif"]


def test_train_defaults_to_multiscale_decaying_the_learning_rate_over_the_run(
    tmp_path, capsys
):
    out = tmp_path / "ms"
    argv = ["train", "8gaussians", "--out", str(out), "--sigma-max", "1.5", *FAST]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert sorted(os.listdir(out)) == ["density.png", "model.keras", "samples.png",
                                       "training.gif", "vectorfield.png"]
    model = keras.models.load_model(out / "model.keras")
    assert type(model).__name__ == "MultiScaleDDE"
    # 512 points at batch 128, 2 epochs: the cosine decay spans the 8 steps,
    # so the learning rate is 0 at the end (the recipe starts at 4e-3).
    assert int(model.optimizer.iterations) == 8
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) < 1e-6
    assert model.noise_range == (0.1, 1.5)


def test_train_single_sigma_trains_the_seed_model(tmp_path, capsys):
    out = tmp_path / "single"
    code, _, err = run(capsys, "train", "8gaussians", "--single-sigma", "--out",
                       str(out), *FAST)
    assert code == 0, err
    model = keras.models.load_model(out / "model.keras")
    assert type(model).__name__ == "DDEModel" and model.sigma == 0.1

def test_gan_multiscale_shares_sigma_max_and_decays_the_generator(tmp_path, capsys):
    out = tmp_path / "msgan"
    argv = ["gan", "8gaussians", "--multiscale", "--sigma", "0.1", "--out", str(out),
            *GAN_FAST]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    gan = keras.models.load_model(out / "model.keras")
    data = toy2d("8gaussians", 256, seed=0)  # The CLI's data: --seed 0.
    top = np.sqrt(np.linalg.eigvalsh(np.cov(data, rowvar=False))[-1])
    for dde in (gan.real_dde, gan.fake_dde):
        assert type(dde).__name__ == "MultiScaleDDE"
        assert dde.noise_range == pytest.approx((0.1, top), rel=1e-5)
    # 256 points at batch 128, 3 epochs: the generator's cosine spans the 6
    # steps and ends at the recipe's fraction of 1e-3.
    generator_optimizer = gan.optimizer.optimizers["generator"]
    assert int(generator_optimizer.iterations) == 6
    final = float(keras.ops.convert_to_numpy(generator_optimizer.learning_rate))
    assert final == pytest.approx(1e-3 * recipes.GENERATOR_DECAY_ALPHA, rel=1e-4)


def test_gan_multiscale_takes_sigma_max_and_target_fraction(tmp_path, capsys):
    out = tmp_path / "msgan"
    code, _, err = run(capsys, "gan", "8gaussians", "--multiscale", "--sigma", "0.1",
                       "--sigma-max", "1.5", "--target-fraction", "0.1",
                       "--out", str(out), *GAN_FAST)
    assert code == 0, err
    gan = keras.models.load_model(out / "model.keras")
    assert gan.target_fraction == pytest.approx(0.1)
    for dde in (gan.real_dde, gan.fake_dde):
        assert dde.noise_range == pytest.approx((0.1, 1.5))


@pytest.mark.tensorflow_only
def test_the_terminal_shows_no_engine_start_up_lines_unless_asked(tmp_path):
    # TensorFlow loads with the package on its own backend, and writes its
    # start-up lines (oneDNN, absl) from C++ whatever TF_CPP_MIN_LOG_LEVEL says.
    command = [sys.executable, "-m", "keras_dde", "train", "nope", "--out",
               str(tmp_path / "o")]
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_DDE_VERBOSE")}
    quiet = subprocess.run(command, capture_output=True, text=True, timeout=120,
                           env=environment)
    assert quiet.returncode == 2
    assert quiet.stderr.splitlines() == [
        "keras-dde: error: unknown data set 'nope': give a .npy or .csv file, "
        "fashion-mnist, or one of " + ", ".join(toy2d_names())
    ]
    for asked in ({"KERAS_DDE_VERBOSE": "1"}, {}):
        argv = command + (["--verbose"] if not asked else [])
        verbose = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                                 env={**environment, **asked})
        assert verbose.returncode == 2
        assert "absl::InitializeLog" in verbose.stderr, verbose.stderr
        assert verbose.stderr.strip().splitlines()[-1].startswith("keras-dde: error")


@pytest.mark.slow
def test_gan_default_distils_a_teacher_fitted_first(tmp_path, capsys, monkeypatch):
    from keras_dde.models import energy_gan_objectives

    # The regression warm-up's thousands of steps are measured in benchmarks/.
    monkeypatch.setattr(energy_gan_objectives, "regression_warmup",
                        lambda gan, steps, batch_size: None)
    out = tmp_path / "covering"
    code, _, err = run(capsys, "gan", "8gaussians", "--sigma", "0.2",
                       "--teacher-epochs", "2", "--regression-weight", "0.5",
                       "--target-fraction", "0.25", "--out", str(out), *GAN_FAST)
    assert code == 0, err
    gan = keras.models.load_model(out / "model.keras")
    assert gan.objective == "distillation" and not gan.train_real
    assert gan.regression_weight == 0.5 and gan.target_fraction == 0.25
    data = toy2d("8gaussians", 256, seed=0)
    # The teacher's fit sets sigma_max from its (maximum-likelihood) covariance.
    top = np.sqrt(np.linalg.eigvalsh(np.cov(data, rowvar=False, bias=True))[-1])
    for dde in (gan.real_dde, gan.fake_dde):
        assert type(dde).__name__ == "MultiScaleDDE"
        assert dde.noise_range == pytest.approx((0.2, top), rel=1e-5)
    # 256 points at batch 128: the teacher's 2 epochs, then the GAN's 3.
    assert int(gan.optimizer.optimizers["generator"].iterations) == 6


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--single-sigma", "--sigma-max", "2"], "--sigma-max set the multi-scale"),
        (["--single-sigma", "--regression-weight", "1"], "--regression-weight"),
        (["--single-sigma", "--multiscale"], "exclude each other"),
        (["--multiscale", "--teacher-epochs", "3"], "--teacher-epochs set the covering"),
    ],
)
def test_gan_model_flags_that_conflict_are_usage_errors(tmp_path, capsys, flags, words):
    out = tmp_path / "never"
    code, _, err = run(capsys, "gan", "no-such-data", "--out", str(out), *flags)
    assert code == 2 and words in err, err
    assert not out.exists()


def test_train_memory_maps_a_large_npy_file(tmp_path, capsys, monkeypatch):
    # Above `MEMMAP_MIN_BYTES` (lowered here), `train` hands `fit` the
    # memory-mapped file itself, and the pictures a sample of its rows.
    from keras_dde.cli import data as cli_data
    from keras_dde.training.checked_model import CheckedModel

    monkeypatch.setattr(cli_data, "MEMMAP_MIN_BYTES", 1000)
    monkeypatch.setattr(cli_data, "PICTURE_ROWS", 300)
    path = tmp_path / "big.npy"
    np.save(path, toy2d("8gaussians", 1024, seed=0))
    seen = []
    fit = CheckedModel.fit

    def recording_fit(self, x=None, *args, **kwargs):
        seen.append(type(x))
        return fit(self, x, *args, **kwargs)

    monkeypatch.setattr(CheckedModel, "fit", recording_fit)
    out = tmp_path / "run"
    code, printed, _ = run(capsys, "train", str(path), "--out", str(out), *FAST)
    assert code == 0, printed
    assert seen == [np.memmap]
    for name in ("model.keras", "density.png", "training.gif"):
        assert (out / name).is_file(), name
    assert np.isfinite(
        keras.models.load_model(out / "model.keras").data_mean
    ).all()
    shown = cli_data.picture_rows(np.load(path, mmap_mode="r"))
    assert shown.shape == (300, 2) and not isinstance(shown, np.memmap)
    # Small files are read whole, as before.
    monkeypatch.setattr(cli_data, "MEMMAP_MIN_BYTES", 2**30)
    assert not isinstance(cli_data.load_data(str(path), None, 0, memory_map=True), np.memmap)


def _recording_fits(monkeypatch):
    """The type of `x` of every `fit` of a keras-dde model, in order."""
    from keras_dde.training.checked_model import CheckedModel

    seen = []
    fit = CheckedModel.fit

    def recording_fit(self, x=None, *args, **kwargs):
        seen.append((type(self).__name__, type(x)))
        return fit(self, x, *args, **kwargs)

    monkeypatch.setattr(CheckedModel, "fit", recording_fit)
    return seen


@pytest.mark.parametrize("flags", [["--multiscale"], ["--teacher-epochs", "1"]])
def test_gan_memory_maps_a_large_npy_file(tmp_path, capsys, monkeypatch, flags):
    # The GAN (and its teacher) fit on the memory-mapped file itself; the
    # multi-scale GAN's sigma_max comes from the file's covariance, read in
    # chunks; the pictures show a sample of the rows.
    from keras_dde.cli import data as cli_data
    from keras_dde.models import energy_gan_objectives
    from keras_dde.models.multi_scale_dde import sigma_max_for

    # The covering GAN's bank (the teacher's ODE) and regression warm-up need
    # no data, and take most of its time: tested elsewhere, skipped here.
    monkeypatch.setattr(energy_gan_objectives, "regression_warmup",
                        lambda gan, steps, batch_size: None)
    monkeypatch.setattr(
        energy_gan_objectives, "make_pairs",
        lambda real_dde, n_pairs, latent_dim, seed, ode_steps, to_zero: (
            np.zeros((n_pairs, latent_dim), "float32"),
            np.zeros((n_pairs, 2), "float32"),
        ),
    )
    monkeypatch.setattr(cli_data, "MEMMAP_MIN_BYTES", 1000)
    monkeypatch.setattr(cli_data, "PICTURE_ROWS", 200)
    data = toy2d("8gaussians", 512, seed=0)
    np.save(tmp_path / "big.npy", data)
    seen = _recording_fits(monkeypatch)
    out = tmp_path / "run"
    code, _, err = run(capsys, "gan", str(tmp_path / "big.npy"), "--out", str(out),
                       "--sigma", "0.2", *GAN_FAST, *flags)
    assert code == 0, err
    teacher = [("MultiScaleDDE", np.memmap)] if "--teacher-epochs" in flags else []
    assert seen == [*teacher, ("EnergyGAN", np.memmap)]
    gan = keras.models.load_model(out / "model.keras")
    assert float(keras.ops.convert_to_numpy(gan.real_dde.data_statistics.count)) == 512
    if "--multiscale" in flags:
        expected = sigma_max_for(np.cov(data, rowvar=False), 0.2)
        assert gan.fake_dde.sigma_max == pytest.approx(expected, rel=1e-5)
    for name in GAN_GIFS:
        assert iio.imread(out / name, index=None).shape[0] >= 2, name


def test_data_covariance_of_a_memmap_is_read_in_chunks(tmp_path):
    from keras_dde.cli.data import data_covariance

    data = np.random.default_rng(0).normal(size=(1000, 3)).astype("float32") * [1, 2, 3]
    np.save(tmp_path / "x.npy", data)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    np.testing.assert_allclose(data_covariance(mapped, chunk=128),
                               np.cov(data, rowvar=False), rtol=1e-6, atol=1e-9)
