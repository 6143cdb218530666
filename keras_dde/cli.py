"""The `keras-dde` command line: train a DDE or an EnergyGAN from a shell and draw it.

    keras-dde train 2spirals --epochs 300 --sigma 0.1 --out runs/2spirals
    keras-dde train data.npy --epochs 100 --sigma 0.2 --out runs/mine
    keras-dde gan 8gaussians --epochs 200 --sigma 0.3 --out runs/gan
    keras-dde examples --out example_images

`train` writes `model.keras`, `density.png`, `vectorfield.png`,
`samples.png` and `training.gif` (the density during training) into `--out`.
`gan` writes `model.keras`, `den_real.png`, `den_fake.png`, `samples.png` and
the GIFs `den_real.gif`, `den_fake.gif` (the real and generated densities
during training) and `samples.gif` (real against generated samples).
Bad arguments give a one-line error and exit status 2; errors while running
give a one-line error and status 1; Ctrl-C writes the frames so far to the
GIFs and exits with status 130. If training diverges (a NaN or Inf loss), it
stops, the last finite weights are restored and written with the pictures,
and the command says so in one line and exits with status 3. Every file is
written atomically (a temporary file in the same folder, then `os.replace`),
so an interrupted run never leaves a half-written file.
"""

import argparse
import inspect
import math
import os
import sys

PROG = "keras-dde"
EXAMPLE = dict(
    name="2spirals", n=20000, sigma=0.1, epochs=300, batch_size=512,
    learning_rate=1e-3, width=64, depth=3, seed=0,
)
# The EnergyGAN settings of benchmarks/energy_gan.py, measured to cover all 8
# modes of 8gaussians with ~96% of the samples within 3 std of a mode.
GAN_EXAMPLE = dict(
    name="8gaussians", n=8192, sigma=0.3, epochs=200, batch_size=512,
    latent_dim=8, dde_steps=2, generator_learning_rate=1e-3,
    dde_learning_rate=2e-3, seed=0,
)
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


class UsageError(Exception):
    """A bad argument: one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _positive(kind, name):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a positive {kind.__name__}; received {text!r}"
            )
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(
                f"{name} must be a positive {kind.__name__}; received {text!r}"
            )
        return value

    parse.__name__ = name
    return parse


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"--model-samples must be an int >= 0; received {text!r}"
        )
    return value


def _add_run_arguments(parser, defaults):
    """The arguments `train` and `gan` share: data, run folder, schedule, output.

    Args:
        parser: the sub-command's parser.
        defaults: dict of the command's defaults for epochs, sigma,
            batch_size, n_samples and frames.
    """
    parser.add_argument(
        "data", metavar="NAME_OR_FILE",
        help="a toy data set name (e.g. 2spirals, 8gaussians, checkerboard, "
        "rings) or a .npy / .csv file of shape (n_samples, n_features)",
    )
    parser.add_argument("--out", required=True, help="the run folder to write")
    parser.add_argument("--epochs", type=_positive(int, "--epochs"),
                        default=defaults["epochs"],
                        help=f"training epochs (default {defaults['epochs']})")
    parser.add_argument("--sigma", type=_positive(float, "--sigma"),
                        default=defaults["sigma"],
                        help=f"noise level = KDE bandwidth (default "
                        f"{defaults['sigma']:g})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=_positive(int, "--batch-size"),
                        default=defaults["batch_size"])
    parser.add_argument("--n-samples", type=_positive(int, "--n-samples"),
                        default=defaults["n_samples"],
                        help="samples drawn from a named toy (default "
                        f"{defaults['n_samples']})")
    parser.add_argument("--frames", type=_positive(int, "--frames"),
                        default=defaults["frames"],
                        help="frames of each GIF (log-spaced; default "
                        f"{defaults['frames']})")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty --out folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser():
    parser = _Parser(
        prog=PROG,
        description="Train denoising density estimators (DDEs) and draw them.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    train = commands.add_parser(
        "train",
        help="train a DDE on a named 2-D toy or a .npy/.csv file",
        description="Train a DDE and write model.keras, density.png, "
        "vectorfield.png, samples.png and training.gif into --out.",
    )
    _add_run_arguments(
        train, dict(epochs=300, sigma=0.1, batch_size=512, n_samples=20000,
                    frames=60),
    )
    train.add_argument("--width", type=_positive(int, "--width"), default=64)
    train.add_argument("--depth", type=_positive(int, "--depth"), default=3)
    train.add_argument("--learning-rate", type=_positive(float, "--learning-rate"),
                       default=1e-3, help="Adam's learning rate (default 1e-3)")
    train.add_argument("--model-samples", type=_non_negative_int, default=2000,
                       help="samples drawn from the trained DDE for samples.png "
                       "(when it has a sampler; 0: data only)")

    gan = commands.add_parser(
        "gan",
        help="train an EnergyGAN (a generator against two DDEs) on a named "
        "toy or a .npy/.csv file",
        description="Train an EnergyGAN and write model.keras, den_real.png, "
        "den_fake.png, samples.png and the GIFs den_real.gif, den_fake.gif "
        "(real and generated densities during training) and samples.gif "
        "(real against generated samples) into --out.",
    )
    _add_run_arguments(
        gan, dict(epochs=GAN_EXAMPLE["epochs"], sigma=GAN_EXAMPLE["sigma"],
                  batch_size=GAN_EXAMPLE["batch_size"],
                  n_samples=GAN_EXAMPLE["n"], frames=40),
    )
    gan.add_argument("--latent-dim", type=_positive(int, "--latent-dim"),
                     default=GAN_EXAMPLE["latent_dim"],
                     help="size of the generator's latent noise (default "
                     f"{GAN_EXAMPLE['latent_dim']})")
    gan.add_argument("--dde-steps", type=_positive(int, "--dde-steps"),
                     default=GAN_EXAMPLE["dde_steps"],
                     help="fake-DDE updates per generator update (default "
                     f"{GAN_EXAMPLE['dde_steps']})")
    gan.add_argument("--generator-learning-rate",
                     type=_positive(float, "--generator-learning-rate"),
                     default=GAN_EXAMPLE["generator_learning_rate"],
                     help="the generator's Adam learning rate (beta_1 0.5; "
                     f"default {GAN_EXAMPLE['generator_learning_rate']:g})")
    gan.add_argument("--dde-learning-rate",
                     type=_positive(float, "--dde-learning-rate"),
                     default=GAN_EXAMPLE["dde_learning_rate"],
                     help="the DDEs' Adam learning rate (default "
                     f"{GAN_EXAMPLE['dde_learning_rate']:g})")

    examples = commands.add_parser(
        "examples",
        help="regenerate the example images",
        description="Train a DDE on 2spirals and write samples_2spirals.png, "
        "training_2spirals.gif, density_2spirals.png and "
        "vectorfield_2spirals.png; then an EnergyGAN on 8gaussians and write "
        "den_real.gif, den_fake.gif and samples.gif.",
    )
    examples.add_argument("--out", default="example_images")
    examples.add_argument("--epochs", type=_positive(int, "--epochs"),
                          default=EXAMPLE["epochs"],
                          help="epochs of the DDE example")
    examples.add_argument("--gan-epochs", type=_positive(int, "--gan-epochs"),
                          default=GAN_EXAMPLE["epochs"],
                          help="epochs of the EnergyGAN example")
    examples.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv=None):
    """Entry point of the `keras-dde` console script; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return exit_.code or 0
    try:
        command = {
            "train": _train_command,
            "gan": _gan_command,
            "examples": _examples_command,
        }[args.command]
        return command(args)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError) as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 1


def _one_line(error):
    return " ".join(str(error).split()) or type(error).__name__


# --- Arguments ---------------------------------------------------------------


def load_data(spec, n_samples, seed):
    """A named toy or a .npy/.csv file, as float32 `(n, d)`; UsageError if bad."""
    import numpy as np

    from keras_dde.datasets import toy2d
    from keras_dde.datasets import toy2d_names
    from keras_dde.utils.validation import check_data

    lower = spec.lower()
    if not lower.endswith((".npy", ".csv")):
        if spec not in toy2d_names():
            raise UsageError(
                f"unknown data set {spec!r}: give a .npy or .csv file or one of "
                f"{', '.join(toy2d_names())}"
            )
        return toy2d(spec, n_samples, seed=seed)
    if not os.path.isfile(spec):
        raise UsageError(f"data file not found: {spec!r}")
    try:
        if lower.endswith(".npy"):
            array = np.load(spec, allow_pickle=False)
        else:
            array = _load_csv(spec)
    except (OSError, ValueError) as error:
        if lower.endswith(".npy"):
            # numpy's own message talks about pickles, which misleads here.
            raise UsageError(
                f"cannot read {spec!r}: it is not a .npy file of numbers; write "
                "one with numpy.save(path, array)"
            ) from error
        raise UsageError(f"cannot read {spec!r}: {_one_line(error)}") from error
    if getattr(array, "ndim", 0) < 2:
        # As `DDEModel.fit` and `DDEDensity.fit`: 1-D data is refused, not
        # guessed to be one feature (the pictures need two anyway).
        raise UsageError(
            f"{spec!r} has shape {getattr(array, 'shape', ())}; the data must "
            "have shape (n_samples, n_features) with at least 2 features"
        )
    if array.ndim > 2:
        array = array.reshape(len(array), -1)
    try:
        array = check_data(array, spec)
    except (TypeError, ValueError) as error:
        raise UsageError(_one_line(error)) from error
    if array.shape[1] < 2:
        raise UsageError(
            f"{spec!r} has {array.shape[1]} feature; the command line draws "
            "2-D pictures and needs data with at least 2 features"
        )
    return array


def _load_csv(path):
    import numpy as np

    with open(path) as handle:
        first = handle.readline()
    try:
        [float(v) for v in first.strip().split(",") if v.strip()]
        skip = 0
    except ValueError:
        skip = 1  # a header line
    return np.loadtxt(path, delimiter=",", skiprows=skip, dtype="float64", ndmin=2)


def prepare_out(out, overwrite):
    """Creates the run folder; refuses a non-empty one unless `overwrite`."""
    from keras_dde.utils.files import check_output_path

    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} exists and is not a folder")
    if os.path.isdir(out) and os.listdir(out) and not overwrite:
        raise UsageError(
            f"--out {out!r} exists and is not empty; pass --overwrite to write "
            "into it"
        )
    try:
        check_output_path(os.path.join(out, "model.keras"), "--out")
    except ValueError as error:
        raise UsageError(_one_line(error)) from error
    return os.path.abspath(out)


# --- Commands ------------------------------------------------------------------


def _train_command(args):
    data, out = _prepare_run(args)
    paths = train_and_draw(
        data,
        out,
        sigma=args.sigma,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        width=args.width,
        depth=args.depth,
        seed=args.seed,
        frames=args.frames,
        progress=not args.quiet,
        title=os.path.basename(args.data),
        model_samples=args.model_samples,
    )
    return _print_paths(paths)


def _gan_command(args):
    data, out = _prepare_run(args)
    paths = train_gan_and_draw(
        data,
        out,
        sigma=args.sigma,
        epochs=args.epochs,
        batch_size=args.batch_size,
        latent_dim=args.latent_dim,
        dde_steps=args.dde_steps,
        generator_learning_rate=args.generator_learning_rate,
        dde_learning_rate=args.dde_learning_rate,
        seed=args.seed,
        frames=args.frames,
        progress=not args.quiet,
        title=os.path.basename(args.data),
    )
    return _print_paths(paths)


def _prepare_run(args):
    """The data and the (checked) run folder of `train` and `gan`."""
    # The data first: a bad name must not leave an empty run folder behind.
    data = load_data(args.data, args.n_samples, args.seed)
    return data, prepare_out(args.out, args.overwrite)


def _print_paths(paths):
    for path in paths.values():
        print(path)
    message = getattr(paths, "diverged", None)
    if message:
        print(f"{PROG}: error: {_one_line(message)} The files above hold the "
              "last finite model.", file=sys.stderr)
        return 3
    return 0


class RunPaths(dict):
    """The paths a run wrote, by role; `.diverged` is the divergence message or None."""

    diverged = None


def _examples_command(args):
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    progress = not args.quiet
    dde_names = {
        "gif": "training_2spirals.gif",
        "density": "density_2spirals.png",
        "field": "vectorfield_2spirals.png",
        "samples": "samples_2spirals.png",
        "model": None,
    }
    _run_example(train_and_draw, dict(EXAMPLE, epochs=args.epochs), out,
                 dde_names, frames=50, progress=progress)
    # Only the GIFs of the EnergyGAN, as the seed README showed them; 40
    # frames at 160 px keep each well under 1 MB.
    gan_names = {key: name for key, name in GAN_FILES.items()
                 if key.endswith("_gif")}
    return _run_example(train_gan_and_draw,
                        dict(GAN_EXAMPLE, epochs=args.gan_epochs), out,
                        gan_names, frames=40, progress=progress)


def _run_example(train_and_draw_function, spec, out, names, frames, progress):
    """Trains on the toy `spec["name"]` with the other `spec` settings."""
    from keras_dde.datasets import toy2d

    data = toy2d(spec["name"], spec["n"], seed=spec["seed"])
    settings = {key: value for key, value in spec.items()
                if key not in ("name", "n")}
    paths = train_and_draw_function(
        data, out, frames=frames, progress=progress, names=names,
        title=spec["name"], gif_resolution=160, **settings,
    )
    return _print_paths(paths)


def train_and_draw(
    data,
    out,
    sigma=0.1,
    epochs=300,
    batch_size=512,
    learning_rate=1e-3,
    width=64,
    depth=3,
    seed=0,
    frames=60,
    progress=True,
    names=None,
    title="",
    gif_resolution=200,
    model_samples=2000,
):
    """Trains a DDE on `data` and writes the model, pictures and GIF to `out`.

    Args:
        names: dict of the file name of each role of `TRAIN_FILES` (None:
            not written); default `TRAIN_FILES`.

    Returns:
        dict of the paths written.
    """
    import keras

    from keras_dde.callbacks import DensityFrames
    from keras_dde.models.dde_model import DDEModel
    from keras_dde.models.energy_mlp import energy_mlp
    from keras_dde.plotting import plot_vector_field
    from keras_dde.plotting import save_figure

    paths = _paths(out, names or TRAIN_FILES)
    keras.utils.set_random_seed(seed)
    features = data.shape[1]
    plane, origin = _picture_plane(data)
    dde = DDEModel(
        energy_mlp(features, width=width, depth=depth), sigma=sigma, seed=seed
    )
    dde.compile(optimizer=keras.optimizers.Adam(learning_rate))
    frame_callbacks = [
        DensityFrames(
            paths["gif"], every="log", num_frames=frames, data=data, plane=plane,
            origin=origin, resolution=gif_resolution, max_overhead=None,
        )
    ]
    paths.diverged = _fit_with_frames(
        dde, data, frame_callbacks, epochs, batch_size, progress
    )
    _save_model(dde, paths.get("model"))
    shared = dict(plane=plane, origin=origin, data=data)
    _save_density(dde, paths["density"],
                  f"DDE density, {title}, sigma={sigma:g}", shared)
    figure = plot_vector_field(
        dde, resolution=28, title=f"score field (arrows: direction), {title}",
        **shared,
    )
    save_figure(figure, paths["field"])
    samples, label = _model_samples(dde, min(len(data), model_samples), seed)
    _save_samples(data, samples, paths["samples"], label, title, shared)
    return paths


def train_gan_and_draw(
    data,
    out,
    sigma=0.3,
    epochs=200,
    batch_size=512,
    latent_dim=8,
    dde_steps=2,
    generator_learning_rate=1e-3,
    dde_learning_rate=2e-3,
    seed=0,
    frames=40,
    progress=True,
    names=None,
    title="",
    gif_resolution=200,
    generated_samples=2000,
):
    """Trains an EnergyGAN on `data` and writes the model, pictures and GIFs.

    The networks and optimizers are those of `benchmarks/energy_gan.py`:
    `generator_mlp(latent_dim, d, width=128)` against two
    `DDEModel(energy_mlp(d), sigma)`, Adam(beta_1=0.5) for the generator and
    Adam for the DDEs.

    Args:
        names: dict of the file name of each role of `GAN_FILES` (None or
            absent: not written); default `GAN_FILES`.
        generated_samples: int, generated samples drawn in `samples.png` and
            in each frame of `samples.gif` (at most `len(data)`).

    Returns:
        dict of the paths written.
    """
    import keras

    from keras_dde.callbacks import DensityFrames
    from keras_dde.callbacks import SampleFrames
    from keras_dde.models.dde_model import DDEModel
    from keras_dde.models.energy_gan import EnergyGAN
    from keras_dde.models.energy_mlp import energy_mlp
    from keras_dde.models.generator_mlp import generator_mlp

    paths = _paths(out, GAN_FILES if names is None else names)
    keras.utils.set_random_seed(seed)
    features = data.shape[1]
    plane, origin = _picture_plane(data)
    gan = EnergyGAN(
        generator_mlp(latent_dim, features, width=128),
        # Different seeds: the two DDEs must not draw the same noise.
        DDEModel(energy_mlp(features), sigma=sigma, seed=seed),
        DDEModel(energy_mlp(features), sigma=sigma, seed=seed + 1),
        dde_steps=dde_steps,
        seed=seed + 2,
    )
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(
            generator_learning_rate, beta_1=0.5
        ),
        dde_optimizer=keras.optimizers.Adam(dde_learning_rate),
    )
    n_generated = min(len(data), generated_samples)
    shared = dict(plane=plane, origin=origin, data=data)
    # Same schedule for all three GIFs, so that their frames line up.
    schedule = dict(every="log", num_frames=frames, max_overhead=None,
                    plane=plane, origin=origin, data=data)
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
    paths.diverged = _fit_with_frames(
        gan, data, frame_callbacks, epochs, batch_size, progress
    )
    _save_model(gan, paths.get("model"))
    for key, dde, which in (
        ("real_density", gan.real_dde, "real (data) DDE"),
        ("fake_density", gan.fake_dde, "fake (generated) DDE"),
    ):
        if key in paths:
            _save_density(dde, paths[key],
                          f"{which}, {title}, sigma={sigma:g}", shared)
    if "samples" in paths:
        samples = gan.generate(n_generated, seed=seed)
        _save_samples(data, samples, paths["samples"], "generated", title, shared)
    return paths


def _paths(out, names):
    """The path in `out` of each role that has a file name."""
    return RunPaths(
        (key, os.path.join(out, name)) for key, name in names.items() if name
    )


def _fit_with_frames(model, data, frame_callbacks, epochs, batch_size, progress):
    """Fits `model` with frame callbacks and a progress bar.

    On Ctrl-C the frame callbacks write the frames so far to their GIFs (and
    we say so) before the KeyboardInterrupt goes on.

    Returns:
        None, or the message of `StopOnDivergence` when training diverged
        (the last finite weights are then restored).
    """
    import warnings

    from keras_dde.callbacks import StopOnDivergence
    from keras_dde.callbacks import interruption_hook

    guard = StopOnDivergence()
    callbacks = [guard, *frame_callbacks]
    if progress:
        callbacks.append(_EpochProgress())
    try:
        # The models' own `fit` hooks interruptions too; this makes sure for
        # any model (a second notice is a no-op).
        with interruption_hook(frame_callbacks), warnings.catch_warnings():
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
    if progress and guard.diverged:
        print()  # End the progress bar's line.
    return guard.message if guard.diverged else None


def _save_model(model, path):
    """Saves `model` atomically to `path` (None: not saved)."""
    from keras_dde.utils.files import atomic_path

    if path is None:
        return
    with atomic_path(path, suffix=".keras") as temporary:
        model.save(temporary)


def _save_density(dde, path, title, shared):
    from keras_dde.plotting import plot_density
    from keras_dde.plotting import save_figure

    save_figure(plot_density(dde, resolution=300, title=title, **shared), path)


def _save_samples(data, samples, path, label, title, shared):
    """Data against `samples` (None: the data alone), as a scatter plot."""
    from keras_dde.plotting import plot_samples
    from keras_dde.plotting import save_figure

    figure = plot_samples(
        data, samples, plane=shared["plane"], origin=shared["origin"],
        labels=("data", label),
        title=f"{title}: data" + ("" if samples is None else f" vs {label}"),
    )
    save_figure(figure, path)


def _picture_plane(data):
    """None for 2-D data; else the top two principal components through the mean."""
    import numpy as np

    if data.shape[1] == 2:
        return None, None
    mean = data.mean(axis=0)
    _, _, vt = np.linalg.svd(data - mean, full_matrices=False)
    basis = vt[:2]
    if len(basis) < 2:
        raise UsageError("the data needs at least 2 features to be drawn")
    return basis, mean


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
        print(f"{PROG}: warning: sampling failed ({_one_line(error)})",
              file=sys.stderr)
        return None, "model"


def _epoch_progress_class():
    import keras

    class EpochProgress(keras.callbacks.Callback):
        """One progress bar over all epochs (not one per epoch), with the losses.

        The bar is made at the first epoch's end, when the logged names (one
        loss for a DDE, three for an EnergyGAN) are known: they are epoch
        means already, so the bar shows them as they are (stateful) rather
        than averaging them again over epochs.
        """

        def on_train_begin(self, logs=None):
            self._bar = None

        def on_epoch_end(self, epoch, logs=None):
            values = [
                (name, float(value)) for name, value in (logs or {}).items()
                if _is_number(value)
            ]
            if self._bar is None:
                self._bar = keras.utils.Progbar(
                    self.params.get("epochs"),
                    stateful_metrics=[name for name, _ in values],
                    unit_name="epoch",
                )
            self._bar.update(epoch + 1, values=values)

    return EpochProgress


def _is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _EpochProgress():
    return _epoch_progress_class()()
