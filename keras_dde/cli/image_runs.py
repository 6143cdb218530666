"""A command-line run on images: an image recipe, a grid GIF, a grid PNG.

`train_images_and_draw` trains a conv DDE and writes the model, a
denoising picture (clean / noisy / denoised test images) and a GIF of the
denoised images through training. `train_gan_images_and_draw` trains an
EnergyGAN with a conv generator and writes the model, a grid of generated
images and a GIF of the generator's samples (same latent draws every frame)
through training. Both build the model with `keras_dde.recipes.build_model`
and train through `fit_with_frames` (divergence guard, progress bar, GIFs
written on Ctrl-C), as the 2-D runs do. Frames are log-spaced over training
steps, so that a one-epoch run still shows its progress; the models run one
step per call (`steps_per_execution=1`, cheap next to a conv step), so that
the frames fall where the schedule puts them on every backend.
"""

import os

import numpy as np

from keras_dde import recipes
from keras_dde.callbacks import SampleFrames
from keras_dde.cli.runs import RunPaths
from keras_dde.cli.runs import fit_with_frames
from keras_dde.cli.runs import save_model
from keras_dde.plotting import plot_denoising
from keras_dde.plotting import plot_image_grid
from keras_dde.utils.files import save_figure

IMAGE_TRAIN_FILES = {
    "model": "model.keras",
    "denoising": "denoising.png",
    "gif": "training.gif",
}
IMAGE_GAN_FILES = {
    "model": "model.keras",
    "samples": "samples.png",
    "samples_gif": "samples.gif",
}
# Images per grid (8x8) and the pixel range all pictures share.
GRID_IMAGES = 64
VALUE_RANGE = (-1.0, 1.0)


def _frames(path, frames, **kwargs):
    return SampleFrames(
        path, every="log", unit="batch", num_frames=frames, initial_frame=True,
        max_frames=None, value_range=VALUE_RANGE, max_images=GRID_IMAGES,
        tile_inches=0.5, dpi=64, **kwargs,
    )


def train_images_and_draw(
    images, out, epochs, batch_size, frames=20, progress=True, title="",
    kind="dde", **model_settings,
):
    """Trains a conv DDE on `images` `(n, h, w, c)` in [-1, 1] and draws it.

    The denoising picture and GIF use the last `min(8, n)` / `min(64, n)`
    images with Gaussian noise of the model's `sigma` (seeded), denoised by
    `dde.denoise`.

    Returns:
        `RunPaths`, dict of the paths written.
    """
    paths = _paths(out, IMAGE_TRAIN_FILES)
    dde = recipes.build_model(kind, images.shape[1:], steps_per_execution=1,
                              **model_settings)
    seed = model_settings.get("seed", 0)
    shown = images[-GRID_IMAGES:]
    noise = np.random.default_rng(seed).standard_normal(shown.shape)
    noisy = (shown + float(dde.sigma) * noise).astype("float32")
    gif = _frames(paths["gif"], frames, num_samples=len(noisy),
                  sampler=lambda model, n: model.denoise(noisy[:n]))
    paths.diverged = fit_with_frames(dde, images, [gif], epochs, batch_size, progress)
    save_model(dde, paths["model"])
    figure = plot_denoising(dde, shown, ncols=min(8, len(shown)), seed=seed,
                            value_range=VALUE_RANGE)
    save_figure(figure, paths["denoising"])
    return paths


def train_gan_images_and_draw(
    images, out, epochs, batch_size, frames=20, progress=True, title="",
    **model_settings,
):
    """Trains an EnergyGAN on `images` `(n, h, w, c)` in [-1, 1] and draws it.

    Returns:
        `RunPaths`, dict of the paths written.
    """
    paths = _paths(out, IMAGE_GAN_FILES)
    gan = recipes.build_model("gan", images.shape[1:], steps_per_execution=1,
                              **model_settings)
    seed = model_settings.get("seed", recipes.recipe_defaults("gan")["seed"])
    gif = _frames(paths["samples_gif"], frames, num_samples=GRID_IMAGES, seed=seed)
    paths.diverged = fit_with_frames(gan, images, [gif], epochs, batch_size, progress)
    save_model(gan, paths["model"])
    samples = gan.generate(GRID_IMAGES, seed=seed)
    figure = plot_image_grid(samples, ncols=8, value_range=VALUE_RANGE,
                             title=f"EnergyGAN samples, {title}")
    save_figure(figure, paths["samples"])
    return paths


def _paths(out, names):
    return RunPaths((key, os.path.join(out, name)) for key, name in names.items())
