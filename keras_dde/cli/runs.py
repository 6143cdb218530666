"""A run of the command line: build a model by its recipe, train it, draw it.

`train_and_draw` (a DDE) and `train_gan_and_draw` (an EnergyGAN) build their
model with `keras_dde.recipes`, train it with frame callbacks, a divergence
guard and a progress bar, and write the model and pictures atomically.
"""

import inspect
import os
import sys
import warnings

from keras_dde import recipes
from keras_dde.callbacks import DensityFrames
from keras_dde.callbacks import SampleFrames
from keras_dde.cli import progress
from keras_dde.cli.data import one_line
from keras_dde.cli.data import picture_plane
from keras_dde.cli.data import picture_rows
from keras_dde.cli.parser import PROG
from keras_dde.plotting import plot_density
from keras_dde.plotting import plot_samples
from keras_dde.plotting import plot_vector_field
from keras_dde.training import StopOnDivergence
from keras_dde.utils.files import atomic_path
from keras_dde.utils.files import save_figure

# What each command writes, by role; a role named None is not written.
TRAIN_FILES = {
    "model": "model.keras",
    "density": "density.png",
    "field": "vectorfield.png",
    "samples": "samples.png",
    "gif": "training.gif",
}
GAN_FILES = {
    "model": "model.keras",
    "real_density": "den_real.png",
    "fake_density": "den_fake.png",
    "samples": "samples.png",
    "real_gif": "den_real.gif",
    "fake_gif": "den_fake.gif",
    "samples_gif": "samples.gif",
}


class RunPaths(dict):
    """The paths a run wrote, by role; `.diverged` is the divergence message or None."""

    diverged = None


def train_and_draw(
    data, out, epochs, batch_size, frames=60, progress=True, names=None,
    title="", gif_resolution=200, model_samples=2000, kind="dde",
    **model_settings,
):
    """Trains a DDE on `data` and writes the model, pictures and GIF to `out`.

    Args:
        data: float32 array `(n, d)`, d >= 2, or a memory-mapped one (the
            pictures then show `cli.data.PICTURE_ROWS` of its rows).
        out: the run folder (it exists).
        epochs, batch_size: as in `fit`.
        frames: int, frames of the log-spaced GIF (plus the initial one).
        progress: bool, show a progress bar over the epochs.
        names: dict of the file name of each role of `TRAIN_FILES` (None:
            not written); default `TRAIN_FILES`.
        title: str, the data set's name in the pictures' titles.
        gif_resolution: int, pixels per side of the GIF.
        model_samples: int, DDE samples drawn in `samples.png` (0: none).
        kind: "dde" or "multiscale", the recipe (`keras_dde.recipes`).
        **model_settings: the settings of that recipe.

    Returns:
        `RunPaths`, dict of the paths written.
    """
    paths = _paths(out, names or TRAIN_FILES)
    dde = recipes.build_model(kind, data.shape[1], **model_settings)
    shown = picture_rows(data)  # `data` itself unless memory-mapped
    plane, origin = picture_plane(shown)
    frame_callbacks = [
        DensityFrames(
            paths["gif"], every="log", num_frames=frames, data=shown, plane=plane,
            origin=origin, resolution=gif_resolution, initial_frame=True,
            max_frames=None,
        )
    ]
    paths.diverged = fit_with_frames(
        dde, data, frame_callbacks, epochs, batch_size, progress
    )
    save_model(dde, paths.get("model"))
    shared = dict(plane=plane, origin=origin, data=shown)
    save_density(dde, paths["density"],
                 f"DDE density, {title}, sigma={dde.sigma:g}", shared)
    figure = plot_vector_field(
        dde, resolution=28, title=f"score field (arrows: direction), {title}",
        **shared,
    )
    save_figure(figure, paths["field"])
    seed = model_settings.get("seed", recipes.recipe_defaults("dde")["seed"])
    samples, label = _model_samples(dde, min(len(shown), model_samples), seed)
    save_samples(shown, samples, paths["samples"], label, title, shared)
    return paths


def train_gan_and_draw(
    data, out, epochs, batch_size, frames=40, progress=True, names=None,
    title="", gif_resolution=200, generated_samples=2000, **model_settings,
):
    """Trains an EnergyGAN on `data` and writes the model, pictures and GIFs.

    Args:
        data, out, epochs, batch_size, frames, progress, title,
            gif_resolution: as in `train_and_draw`.
        names: dict of the file name of each role of `GAN_FILES` (None or
            absent: not written); default `GAN_FILES`.
        generated_samples: int, generated samples drawn in `samples.png` and
            in each frame of `samples.gif` (at most `len(data)`).
        **model_settings: `keras_dde.recipes.build_energy_gan` settings.

    Returns:
        `RunPaths`, dict of the paths written.
    """
    paths = _paths(out, GAN_FILES if names is None else names)
    gan = recipes.build_energy_gan(data.shape[1], **model_settings)
    seed = model_settings.get("seed", recipes.recipe_defaults("gan")["seed"])
    shown = picture_rows(data)  # `data` itself unless memory-mapped
    plane, origin = picture_plane(shown)
    n_generated = min(len(shown), generated_samples)
    shared = dict(plane=plane, origin=origin, data=shown)
    # Same schedule for all three GIFs, so that their frames line up.
    schedule = dict(every="log", num_frames=frames, initial_frame=True,
                    max_frames=None, **shared)
    frame_callbacks = [
        DensityFrames(paths[key], dde=dde, resolution=gif_resolution, **schedule)
        for key, dde in (("real_gif", "real"), ("fake_gif", "fake"))
        if key in paths
    ]
    if "samples_gif" in paths:
        inches = gif_resolution / 64  # SampleFrames draws at 64 dpi.
        frame_callbacks.append(SampleFrames(
            paths["samples_gif"], num_samples=n_generated, seed=seed,
            labels=("data", "generated"), figsize=(inches, inches), dpi=64,
            **schedule,
        ))
    paths.diverged = fit_with_frames(
        gan, data, frame_callbacks, epochs, batch_size, progress
    )
    save_model(gan, paths.get("model"))
    sigma = gan.real_dde.sigma
    for key, dde, which in (
        ("real_density", gan.real_dde, "real (data) DDE"),
        ("fake_density", gan.fake_dde, "fake (generated) DDE"),
    ):
        if key in paths:
            save_density(dde, paths[key], f"{which}, {title}, sigma={sigma:g}",
                         shared)
    if "samples" in paths:
        samples = gan.generate(n_generated, seed=seed)
        save_samples(shown, samples, paths["samples"], "generated", title, shared)
    return paths


def _paths(out, names):
    """The path in `out` of each role that has a file name."""
    return RunPaths(
        (key, os.path.join(out, name)) for key, name in names.items() if name
    )


def fit_with_frames(model, data, frame_callbacks, epochs, batch_size, show_progress):
    """Fits `model` with frame callbacks, a divergence guard and a progress bar.

    On Ctrl-C the model's `fit` has the frame callbacks write the frames so
    far to their GIFs (the one interruption path); we say so before the
    KeyboardInterrupt goes on.

    Returns:
        None, or the message of `StopOnDivergence` when training diverged
        (the last finite weights are then restored).
    """
    guard = StopOnDivergence()
    callbacks = [guard, *frame_callbacks]
    if show_progress:
        progress.announce_preparation(model)
        callbacks.append(progress.EpochProgress())
    try:
        with warnings.catch_warnings():
            # The divergence is reported in one line by the command.
            warnings.filterwarnings("ignore", "Training diverged", RuntimeWarning)
            model.fit(data, batch_size=batch_size, epochs=epochs, verbose=0,
                      callbacks=callbacks, shuffle=True)
    except KeyboardInterrupt:
        for frames in frame_callbacks:
            if frames.written_path:
                print(
                    f"\n{PROG}: interrupted; wrote {len(frames.frames)} frames "
                    f"to {frames.written_path}",
                    file=sys.stderr,
                )
        raise
    if show_progress and guard.diverged:
        print()  # End the progress bar's line.
    return guard.message if guard.diverged else None


def save_model(model, path):
    """Saves `model` atomically to `path` (None: not saved)."""
    if path is None:
        return
    with atomic_path(path, suffix=".keras") as temporary:
        model.save(temporary)


def save_density(dde, path, title, shared):
    save_figure(plot_density(dde, resolution=300, title=title, **shared), path)


def save_samples(data, samples, path, label, title, shared):
    """Data against `samples` (None: the data alone), as a scatter plot."""
    figure = plot_samples(
        data, samples, plane=shared["plane"], origin=shared["origin"],
        labels=("data", label),
        title=f"{title}: data" + ("" if samples is None else f" vs {label}"),
    )
    save_figure(figure, path)


def _model_samples(dde, n, seed):
    """Samples from the DDE when it has a sampler, else None."""
    sample = getattr(dde, "sample", None)
    if not callable(sample) or n <= 0:
        return None, "model"
    try:
        parameters = inspect.signature(sample).parameters
        kwargs = {key: value for key, value in (("seed", seed), ("verbose", 0))
                  if key in parameters}
        return sample(n, **kwargs), "DDE samples"
    except Exception as error:  # A sampler problem must not lose the run.
        print(f"{PROG}: warning: sampling failed ({one_line(error)})",
              file=sys.stderr)
        return None, "model"
