"""The `keras-dde` argument parser: commands, arguments and their defaults.

The model settings' defaults are the recipes' (`keras_dde.recipes`); the run
settings' defaults (epochs, batch size, points, frames) are `RUN_DEFAULTS`.
"""

import argparse
import inspect
import math

from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.recipes import GAN_DEFAULTS
from keras_dde.recipes import recipe_defaults
from keras_dde.utils.startup_logs import COMMAND
from keras_dde.utils.startup_logs import VERBOSE_VARIABLE

PROG = COMMAND  # the console script's name (pyproject.toml)
# Run settings of each command; the model settings are the recipes' defaults.
# The EnergyGAN's are those of benchmarks/energy_gan.py, measured to cover all
# 8 modes of 8gaussians with ~96% of the samples within 3 std of a mode.
RUN_DEFAULTS = {
    "train": dict(epochs=300, batch_size=512, n_samples=20000, frames=60),
    "gan": dict(epochs=200, batch_size=512, n_samples=8192, frames=40),
}
# What `keras-dde examples` trains: a toy, its size and the run settings.
EXAMPLE = dict(
    name="2spirals", n=RUN_DEFAULTS["train"]["n_samples"],
    epochs=RUN_DEFAULTS["train"]["epochs"],
    batch_size=RUN_DEFAULTS["train"]["batch_size"],
)
# Image data sets (28x28 Fashion-MNIST): their run and model settings where
# they differ from the toys'. n_samples None: every image of the split.
IMAGE_DATA = ("fashion-mnist",)
IMAGE_RUN_DEFAULTS = {
    "train": dict(epochs=5, batch_size=64, n_samples=None, frames=20),
    "gan": dict(epochs=5, batch_size=64, n_samples=None, frames=20),
}
# The GAN's other image settings are `recipes.GAN_DEFAULTS["images"]`.
IMAGE_MODEL_DEFAULTS = {"train": dict(sigma=0.3),
                        "gan": dict(sigma=GAN_DEFAULTS["images"]["sigma"])}
# Settings whose default depends on the data (toy or image) or the model kind;
# the parser leaves them None and `resolve_defaults` fills them in.
_RESOLVED = {
    "train": ("epochs", "batch_size", "n_samples", "frames", "sigma", "width",
              "depth", "learning_rate"),
    "gan": ("epochs", "batch_size", "n_samples", "frames", "sigma", "latent_dim"),
}
GAN_EXAMPLE = dict(
    name="8gaussians", n=RUN_DEFAULTS["gan"]["n_samples"],
    epochs=RUN_DEFAULTS["gan"]["epochs"],
    batch_size=RUN_DEFAULTS["gan"]["batch_size"],
    objective="kl",  # The GIFs of docs/command_line.md: the seed's GAN.
)
# `keras-dde gan`'s default, the covering GAN (distillation of a
# MultiScaleDDE, `recipes.build_energy_gan`): GAN epochs after the teacher's
# (benchmarks/results/energy_gan_distillation.md; on images, about the GAN
# steps of benchmarks/results/images_gan.md's 900-s runs).
DISTILLATION_RUN_DEFAULTS = dict(
    epochs=24, teacher_epochs=GAN_DEFAULTS["vectors"]["teacher_epochs"]
)
IMAGE_DISTILLATION_RUN_DEFAULTS = dict(
    epochs=2, teacher_epochs=GAN_DEFAULTS["images"]["teacher_epochs"]
)


def _regression_weight_default():
    return inspect.signature(EnergyGAN).parameters["regression_weight"].default


def is_image_data(name):
    """Whether the data argument names an image data set."""
    return name.lower() in IMAGE_DATA


def model_kind(args):
    """The recipe kind of a `train` or `gan` run: `train` trains a
    `MultiScaleDDE` unless `--single-sigma` asks for the seed's `DDEModel`."""
    if args.command == "gan":
        return "gan"
    return "dde" if getattr(args, "single_sigma", False) else "multiscale"


def resolve_defaults(args):
    """Fills the settings left None with the defaults of the data and model.

    Toys take `RUN_DEFAULTS` and the recipe's defaults; image data sets
    take `IMAGE_RUN_DEFAULTS` and `IMAGE_MODEL_DEFAULTS`; `train` takes
    `build_multiscale_dde`'s defaults, or with `--single-sigma`
    `build_dde`'s. Returns `args`.
    """
    image = is_image_data(args.data)
    command = args.command
    defaults = dict(recipe_defaults(model_kind(args)))
    if command == "gan":
        defaults["sigma"] = GAN_DEFAULTS["vectors"]["sigma"]
    defaults.update(IMAGE_RUN_DEFAULTS[command] if image else RUN_DEFAULTS[command])
    if image:
        defaults.update(IMAGE_MODEL_DEFAULTS[command])
    if command == "gan" and distills(args):
        defaults.update(distillation_run_defaults(args))
    for name in _RESOLVED[command]:
        if getattr(args, name, None) is None:
            setattr(args, name, defaults[name])
    return args


def distills(args):
    """Whether a `gan` run trains the covering GAN (distillation): unless
    `--single-sigma` or `--multiscale` (the seed's KL)."""
    return not (args.single_sigma or args.multiscale)


def distillation_run_defaults(args):
    """The covering GAN's epochs and teacher epochs, on toys or images."""
    if is_image_data(args.data):
        return IMAGE_DISTILLATION_RUN_DEFAULTS
    return DISTILLATION_RUN_DEFAULTS


class UsageError(Exception):
    """A bad argument: one line on stderr, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are `UsageError`s (one line, status 2)."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see --help)")


def positive(kind, name):
    """An argparse type: a positive, finite `kind` (int or float)."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(
                f"{name} must be a positive {kind.__name__}; received {text!r}"
            )
        return value

    parse.__name__ = name
    return parse


def non_negative_int_for(name):
    """An argparse type for option `name`: an int >= 0, else a message naming it."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0:
            raise argparse.ArgumentTypeError(
                f"{name} must be an int >= 0; received {text!r}"
            )
        return value

    parse.__name__ = name
    return parse


def fraction(text):
    """The argparse type of --target-fraction: a float in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"--target-fraction must be a number in [0, 1); received {text!r}"
        )
    return value


# The argparse types of --model-samples and --seed.
non_negative_int = non_negative_int_for("--model-samples")
seed = non_negative_int_for("--seed")


def add_run_arguments(parser, command):
    """The arguments `train` and `gan` share: data, run folder, schedule, output."""
    run = RUN_DEFAULTS[command]
    model = recipe_defaults("multiscale" if command == "train" else "gan")
    if command == "gan":
        model["sigma"] = GAN_DEFAULTS["vectors"]["sigma"]
    parser.add_argument(
        "data", metavar="NAME_OR_FILE",
        help="a toy data set name (e.g. 2spirals, 8gaussians, checkerboard, "
        "rings), fashion-mnist (28x28 images, read offline), or a .npy / .csv "
        "file of shape (n_samples, n_features)",
    )
    parser.add_argument("--out", required=True, help="the run folder to write")
    image = IMAGE_RUN_DEFAULTS[command]
    image_model = IMAGE_MODEL_DEFAULTS[command]
    parser.add_argument("--epochs", type=positive(int, "--epochs"),
                        help=f"training epochs (default {run['epochs']}; "
                        f"images {image['epochs']})")
    parser.add_argument("--sigma", type=positive(float, "--sigma"),
                        help=f"noise level = KDE bandwidth (default "
                        f"{model['sigma']:g}; images {image_model['sigma']:g})")
    parser.add_argument("--seed", type=seed, default=model["seed"])
    parser.add_argument("--batch-size", type=positive(int, "--batch-size"),
                        help=f"default {run['batch_size']}; images "
                        f"{image['batch_size']}")
    parser.add_argument("--n-samples", "--n", type=positive(int, "--n-samples"),
                        help="samples drawn from a named toy (default "
                        f"{run['n_samples']}), or the first N images of an "
                        "image data set (default: all)")
    parser.add_argument("--frames", type=positive(int, "--frames"),
                        help="frames of each GIF (log-spaced; default "
                        f"{run['frames']}; images {image['frames']})")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty --out folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--verbose", action="store_true",
                        help="show the engines' start-up log lines (also: "
                        f"{VERBOSE_VARIABLE}=1)")


def _add_train_arguments(train):
    model = recipe_defaults("multiscale")
    single = recipe_defaults("dde")
    train.add_argument("--single-sigma", action="store_true",
                       help="train the seed's single-sigma DDEModel instead of "
                       "the MultiScaleDDE (faster per step, but blind to the "
                       "relative mass of separated modes)")
    train.add_argument("--sigma-max", type=positive(float, "--sigma-max"),
                       help="the MultiScaleDDE's largest noise level (default "
                       "the data's largest principal std)")
    train.add_argument("--width", type=positive(int, "--width"),
                       help=f"default {model['width']} (--single-sigma "
                       f"{single['width']}; images: the dense layer)")
    train.add_argument("--depth", type=positive(int, "--depth"),
                       help=f"default {model['depth']} (images: convolutions)")
    train.add_argument("--learning-rate", type=positive(float, "--learning-rate"),
                       help="Adam's learning rate, cosine-decayed to 0 over the "
                       f"run (default {model['learning_rate']:g}; --single-sigma "
                       f"{single['learning_rate']:g}, constant)")
    train.add_argument("--model-samples", type=non_negative_int, default=2000,
                       help="samples drawn from the trained DDE for samples.png "
                       "(when it has a sampler; 0: data only)")


def _add_gan_arguments(gan):
    toys, images = GAN_DEFAULTS["vectors"], GAN_DEFAULTS["images"]
    gan.add_argument("--single-sigma", action="store_true",
                     help="the seed's GAN: KL(q~||p~) against two single-sigma "
                     "DDEs (default: the covering GAN, a generator distilled "
                     "from a MultiScaleDDE fitted first)")
    gan.add_argument("--multiscale", action="store_true",
                     help="the seed's KL against two MultiScaleDDEs (noise "
                     "levels up to the data's scale) with a generator learning "
                     "rate decayed by a cosine over the run; measured at "
                     "--sigma 0.1 and on Fashion-MNIST")
    gan.add_argument("--sigma-max", type=positive(float, "--sigma-max"),
                     help="multi-scale: the DDEs' largest noise level (default "
                     "the data's largest principal std; images "
                     f"{images['sigma_max']:g})")
    gan.add_argument("--target-fraction", type=fraction,
                     help="multi-scale: the generator loss's share of samples "
                     "at --sigma (default 0.5; images "
                     f"{images['target_fraction']:g})")
    gan.add_argument("--regression-weight",
                     type=positive(float, "--regression-weight"),
                     help="covering GAN: the weight of the regression onto the "
                     "teacher's ODE samples (default "
                     f"{_regression_weight_default()}; images 0.1 decayed to 0 "
                     "over 1,000 generator steps)")
    gan.add_argument("--teacher-epochs", type=positive(int, "--teacher-epochs"),
                     help="covering GAN: epochs of the teacher MultiScaleDDE "
                     f"(default {DISTILLATION_RUN_DEFAULTS['teacher_epochs']}, "
                     f"images {IMAGE_DISTILLATION_RUN_DEFAULTS['teacher_epochs']}; "
                     f"--epochs then counts the GAN's, default "
                     f"{DISTILLATION_RUN_DEFAULTS['epochs']}, images "
                     f"{IMAGE_DISTILLATION_RUN_DEFAULTS['epochs']})")
    gan.add_argument("--latent-dim", type=positive(int, "--latent-dim"),
                     help="size of the generator's latent noise (default: "
                     "the number of features (pixels) for the covering GAN, "
                     "8 with --single-sigma or --multiscale, images 32)")
    gan.add_argument("--dde-steps", type=positive(int, "--dde-steps"),
                     help="fake-DDE updates per generator update (default "
                     f"{toys['dde_steps']}; images {images['dde_steps']})")
    gan.add_argument("--generator-learning-rate",
                     type=positive(float, "--generator-learning-rate"),
                     help="the generator's Adam learning rate (beta_1 0.5; "
                     f"default {toys['generator_learning_rate']:g}; images "
                     f"{images['generator_learning_rate']:g})")
    gan.add_argument("--dde-learning-rate",
                     type=positive(float, "--dde-learning-rate"),
                     help="the DDEs' Adam learning rate (default "
                     f"{toys['dde_learning_rate']:g}; images "
                     f"{images['dde_learning_rate']:g})")


def build_parser():
    """The `keras-dde` parser with its `train`, `gan` and `examples` commands."""
    parser = Parser(
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
    add_run_arguments(train, "train")
    _add_train_arguments(train)

    gan = commands.add_parser(
        "gan",
        help="train an EnergyGAN (a generator against two DDEs) on a named "
        "toy or a .npy/.csv file",
        description="Train an EnergyGAN and write model.keras, den_real.png, "
        "den_fake.png, samples.png and the GIFs den_real.gif, den_fake.gif "
        "(real and generated densities during training) and samples.gif "
        "(real against generated samples) into --out.",
    )
    add_run_arguments(gan, "gan")
    _add_gan_arguments(gan)

    examples = commands.add_parser(
        "examples",
        help="regenerate the example images",
        description="Train a DDE on 2spirals and write samples_2spirals.png, "
        "training_2spirals.gif, density_2spirals.png and "
        "vectorfield_2spirals.png; then an EnergyGAN on 8gaussians and write "
        "den_real.gif, den_fake.gif and samples.gif.",
    )
    examples.add_argument("--out", default="example_images")
    examples.add_argument("--epochs", type=positive(int, "--epochs"),
                          default=EXAMPLE["epochs"],
                          help="epochs of the DDE example")
    examples.add_argument("--gan-epochs", type=positive(int, "--gan-epochs"),
                          default=GAN_EXAMPLE["epochs"],
                          help="epochs of the EnergyGAN example")
    examples.add_argument("--quiet", action="store_true", help="no progress bar")
    examples.add_argument("--verbose", action="store_true",
                          help="show the engines' start-up log lines")
    return parser
