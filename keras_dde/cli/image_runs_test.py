"""`keras-dde gan|train fashion-mnist`: image recipes, grid PNGs and GIFs."""

import os

import imageio.v3 as iio
import keras
import numpy as np

from keras_dde import recipe_distillation
from keras_dde.cli.commands_test import run
from keras_dde.datasets import fashion_mnist

# 128 images, batch 64: two steps; frames at steps 0, 1 and 2.
TINY = ["--n", "128", "--epochs", "1", "--batch-size", "64", "--frames", "4",
        "--quiet"]


def test_gan_on_fashion_mnist_writes_model_grid_and_gif(tmp_path, capsys, monkeypatch):
    from keras_dde.models import energy_gan_objectives

    # The regression warm-up's 500 steps and the 2,048 ODE pairs of the bank
    # are measured in benchmarks/images.py; 64 pairs run the same code.
    monkeypatch.setattr(energy_gan_objectives, "regression_warmup",
                        lambda gan, steps, batch_size: None)
    monkeypatch.setitem(recipe_distillation.IMAGE_DISTILLATION, "n_pairs", 64)
    out = tmp_path / "fashion"
    code, stdout, err = run(capsys, "gan", "fashion-mnist", "--out", str(out), *TINY)
    assert code == 0, err
    assert sorted(os.listdir(out)) == ["model.keras", "samples.gif", "samples.png"]
    assert stdout.split() == [str(out / n) for n in
                              ("model.keras", "samples.png", "samples.gif")]
    gif = iio.imread(out / "samples.gif", index=None)
    # One frame before training and after each of the 2 steps; an 8x8 grid
    # of 28-pixel tiles at 64 dpi x 0.5 in = 32 px per tile.
    assert gif.shape[0] == 3 and gif.shape[2] == 8 * 32
    gan = keras.models.load_model(out / "model.keras")
    assert tuple(gan.generate(3, seed=0).shape) == (3, 28, 28, 1)
    # The default: the distilled GAN of benchmarks/images.py, its teacher
    # fitted for 2 epochs first, then trained on beside the generator.
    assert gan.objective == "distillation" and gan.train_real
    assert gan.real_dde.noise_range == (0.5, 2.0)  # the image defaults
    assert int(gan.real_dde.optimizer.iterations) == 2 * 2
    assert int(gan.generator_optimizer.iterations) == 2
    samples = keras.ops.convert_to_numpy(gan.generate(64, seed=0))
    assert samples.std(axis=0).mean() > 0.01  # Not one image 64 times.
    assert gan.pair_samples.shape == (64, 28, 28, 1)


def test_single_sigma_gan_on_fashion_mnist(tmp_path, capsys):
    out = tmp_path / "fashion"
    code, _, err = run(capsys, "gan", "fashion-mnist", "--single-sigma", "--out",
                       str(out), *TINY)
    assert code == 0, err
    gan = keras.models.load_model(out / "model.keras")
    assert gan.objective == "kl" and gan.latent_dim == 32
    assert gan.real_dde.sigma == 0.5  # the image default, not the toys'


def test_train_on_fashion_mnist_writes_denoising_and_gif(tmp_path, capsys):
    out = tmp_path / "fashion"
    code, _, err = run(capsys, "train", "fashion-mnist", "--out", str(out), *TINY,
                       "--depth", "1", "--width", "8")
    assert code == 0, err
    assert sorted(os.listdir(out)) == ["denoising.png", "model.keras", "training.gif"]
    gif = iio.imread(out / "training.gif", index=None)
    assert gif.shape[0] == 3 and not np.array_equal(gif[0], gif[-1])
    dde = keras.models.load_model(out / "model.keras")
    images = np.zeros((2, 28, 28, 1), "float32")
    assert tuple(keras.ops.shape(dde.denoise(images))) == (2, 28, 28, 1)


def test_a_missing_data_set_is_one_line_naming_how_to_get_it(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    out = tmp_path / "run"
    code, _, err = run(capsys, "gan", "fashion-mnist", "--out", str(out), *TINY)
    assert code == 1 and err.count("\n") == 1
    assert "dataset-fashion-mnist" in err and "keras.datasets" in err, err
    assert not out.exists()
