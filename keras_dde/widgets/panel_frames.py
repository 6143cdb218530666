"""The pictures of a TrainingPanel's views, drawn at the size they are shown.

Every picture the panel shows (the data set before training, and the frames
of the "density", "vector field" and "samples" views) is `FRAME_PIXELS`
square, the size of the panel's image, so that the browser shows it pixel
for pixel: no scaling, no blurry labels.
"""

import numpy as np

from keras_dde.callbacks.density_frames import DensityFrames
from keras_dde.callbacks.sample_frames import SampleFrames
from keras_dde.callbacks.vector_field_frames import VectorFieldFrames
from keras_dde.plotting.samples import plot_samples

# Pixels of every picture, and of the image widget that shows it.
FRAME_PIXELS = 320
# Dots per inch of matplotlib pictures: 9-point labels are 12 pixels tall.
FRAME_DPI = 96
FRAME_INCHES = (FRAME_PIXELS / FRAME_DPI, FRAME_PIXELS / FRAME_DPI)
# Arrows per side of the vector field view.
FIELD_ARROWS = 20
# Points drawn in the samples view.
SAMPLE_POINTS = 1000


def frame_callback(view, mode, data, sigma, seed, every, initial_frame,
                   resolution=None):
    """The frame callback that draws `view` of a model while it trains.

    Args:
        view: "density", "vector field" or "samples".
        mode: "dde", "multiscale" (drawn at its target sigma, like a DDE)
            or "gan" (for an EnergyGAN, density and field are those of its
            fake DDE, and samples are the generator's).
        data: the training data `(n, 2)`.
        sigma: the noise level (the "samples" view of a DDE shows noisy data
            after one denoising step).
        seed: int, seeds the noisy points and the generator's samples.
        every: int, a frame every `every` epochs.
        initial_frame: bool, draw a frame before the first epoch.
        resolution: None (`FRAME_PIXELS`: a density value per pixel shown)
            or grid points per side of the density view and the field's
            background.

    Returns:
        a `keras_dde.callbacks.FrameCallback` keeping every frame
        (`max_frames=None`: the panel thins its own store).
    """
    grid = FRAME_PIXELS if resolution is None else resolution
    dde = "fake" if mode == "gan" else None
    common = dict(every=every, max_overhead=None, max_frames=None,
                  initial_frame=initial_frame)
    figure = dict(figsize=FRAME_INCHES, dpi=FRAME_DPI)
    if view == "density":
        return DensityFrames(dde=dde, resolution=grid, data=data, **common)
    if view == "vector field":
        return VectorFieldFrames(
            dde=dde, resolution=FIELD_ARROWS, background_resolution=min(grid, 128),
            data=data, **figure, **common,
        )
    if mode == "gan":
        return SampleFrames(
            data=data, num_samples=SAMPLE_POINTS, seed=seed,
            labels=("data", "generated"), **figure, **common,
        )
    rng = np.random.default_rng(seed)
    subset = data[rng.choice(len(data), size=min(SAMPLE_POINTS, len(data)),
                             replace=False)]
    noisy = subset + sigma * rng.standard_normal(subset.shape).astype(subset.dtype)
    return SampleFrames(
        data=data, num_samples=len(noisy),
        sampler=lambda model, n: model.denoise(noisy[:n]),
        labels=("data", "denoised noisy data"), **figure, **common,
    )


def data_picture(data, name):
    """The picture shown before training: the data set's points, RGB."""
    return plot_samples(
        data, title=f"{name}: {len(data)} points", figsize=FRAME_INCHES,
        dpi=FRAME_DPI, as_array=True, max_points=3000,
    )
