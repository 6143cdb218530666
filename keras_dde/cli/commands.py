"""The `train`, `gan` and `examples` commands: arguments in, files and a status out."""

import os
import sys


from keras_dde.cli.data import data_covariance
from keras_dde.cli.data import load_data
from keras_dde.cli.data import one_line
from keras_dde.cli.data import prepare_out
from keras_dde.cli.parser import EXAMPLE
from keras_dde.cli.parser import GAN_EXAMPLE
from keras_dde.cli.image_runs import train_gan_images_and_draw
from keras_dde.cli.image_runs import train_images_and_draw
from keras_dde.cli.parser import PROG
from keras_dde.cli.parser import UsageError
from keras_dde.cli.parser import distillation_run_defaults
from keras_dde.cli.parser import distills
from keras_dde.cli.parser import is_image_data
from keras_dde.cli.parser import model_kind
from keras_dde.cli.parser import resolve_defaults
from keras_dde.cli.runs import GAN_FILES
from keras_dde.cli.runs import train_and_draw
from keras_dde.cli.runs import train_gan_and_draw
from keras_dde.datasets import toy2d
from keras_dde.models.multi_scale_dde import sigma_max_for
from keras_dde.recipes import recipe_defaults


def train_command(args):
    """`keras-dde train`: returns the exit status."""
    data, out = _prepare_run(args, check=_check_train_flags)
    kind = model_kind(args)
    settings = dict(sigma=args.sigma, learning_rate=args.learning_rate,
                    width=args.width, depth=args.depth, seed=args.seed)
    if kind == "multiscale":
        # The recipe's cosine decay takes the learning rate to 0 by the end.
        settings["decay_steps"] = _training_steps(args, data)
        settings["sigma_max"] = args.sigma_max
    run = dict(epochs=args.epochs, batch_size=args.batch_size,
               frames=args.frames, progress=not args.quiet,
               title=os.path.basename(args.data), kind=kind)
    if is_image_data(args.data):
        paths = train_images_and_draw(data, out, **run, **settings)
    else:
        paths = train_and_draw(data, out, model_samples=args.model_samples,
                               **run, **settings)
    return print_paths(paths)


def gan_command(args):
    """`keras-dde gan`: returns the exit status."""
    data, out = _prepare_run(args, check=_check_gan_flags)
    image = is_image_data(args.data)
    run = train_gan_images_and_draw if image else train_gan_and_draw
    if distills(args):
        # The covering GAN: `gan.fit` fits the teacher first; `--epochs`
        # counts the GAN's. On toys the teacher's and the generator's
        # learning rates follow a cosine over their own steps; on images
        # they stay constant, as measured (`recipes.build_energy_gan`).
        teacher_epochs = args.teacher_epochs or distillation_run_defaults(args)[
            "teacher_epochs"]
        model = dict(
            objective="distillation", sigma_max=args.sigma_max,
            target_fraction=args.target_fraction,
            regression_weight=args.regression_weight,
            teacher_epochs=teacher_epochs,
        )
        if not image:
            model.update(
                generator_decay_steps=_training_steps(args, data),
                teacher_decay_steps=_steps(teacher_epochs, len(data), args.batch_size),
            )
    elif args.multiscale:
        sigma_max = args.sigma_max
        if sigma_max is None and not image:  # Images: the recipe's.
            sigma_max = sigma_max_for(data_covariance(data), args.sigma)
        model = dict(
            objective="kl",
            multiscale=True,
            sigma_max=sigma_max,
            generator_decay_steps=_training_steps(args, data),
            target_fraction=args.target_fraction,
        )
    else:
        model = dict(objective="kl")
    paths = run(
        data,
        out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        frames=args.frames,
        progress=not args.quiet,
        title=os.path.basename(args.data),
        sigma=args.sigma,
        latent_dim=args.latent_dim,
        dde_steps=args.dde_steps,
        generator_learning_rate=args.generator_learning_rate,
        dde_learning_rate=args.dde_learning_rate,
        seed=args.seed,
        **{key: value for key, value in model.items() if value is not None},
    )
    return print_paths(paths)


def _check_gan_flags(args):
    """Usage errors of the model flags, before the data loads."""
    if args.single_sigma and args.multiscale:
        raise UsageError("--single-sigma and --multiscale exclude each other; "
                         "drop one")
    distilling = distills(args)
    multiscale = [flag for flag, value in (("--sigma-max", args.sigma_max),
                                           ("--target-fraction", args.target_fraction))
                  if value is not None]
    covering = [flag for flag, value in (
        ("--regression-weight", args.regression_weight),
        ("--teacher-epochs", args.teacher_epochs),
    ) if value is not None]
    if args.single_sigma and (multiscale or covering):
        raise UsageError(f"{' and '.join(multiscale + covering)} set the multi-scale "
                         "GAN; --single-sigma has one noise level: drop them")
    if covering and not distilling:
        raise UsageError(f"{' and '.join(covering)} set the covering GAN (the "
                         "default); drop them or --multiscale")
    _check_sigma_max_above_sigma(args)


def _check_train_flags(args):
    if args.single_sigma and args.sigma_max is not None:
        raise UsageError("--sigma-max sets the MultiScaleDDE's noise levels; "
                         "drop --single-sigma or --sigma-max")
    _check_sigma_max_above_sigma(args)


def _check_sigma_max_above_sigma(args):
    if args.sigma_max is not None and args.sigma_max <= args.sigma:
        raise UsageError(f"--sigma-max ({args.sigma_max:g}) must be above --sigma "
                         f"({args.sigma:g})")


def _training_steps(args, data):
    return _steps(args.epochs, len(data), args.batch_size)


def _steps(epochs, n_samples, batch_size):
    # `fit`'s steps over the run: the last batch of an epoch may be short.
    return epochs * -(-n_samples // batch_size)


def examples_command(args):
    """`keras-dde examples`: the pictures in example_images/; returns the exit status."""
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
    # The `train` command's default model, its learning rate decayed over the run.
    steps = _steps(args.epochs, EXAMPLE["n"], EXAMPLE["batch_size"])
    _run_example(train_and_draw, dict(EXAMPLE, epochs=args.epochs), out,
                 dde_names, frames=50, progress=progress, kind="multiscale",
                 decay_steps=steps)
    # Only the GIFs of the EnergyGAN, as the seed README showed them; 40
    # frames at 160 px keep each well under 1 MB.
    gan_names = {key: name for key, name in GAN_FILES.items()
                 if key.endswith("_gif")}
    return _run_example(train_gan_and_draw,
                        dict(GAN_EXAMPLE, epochs=args.gan_epochs), out,
                        gan_names, frames=40, progress=progress)


def _run_example(train_and_draw_function, spec, out, names, frames, progress,
                 **model_settings):
    """Trains on the toy `spec["name"]` with the other `spec` settings.

    The model settings are the recipe's defaults, except `model_settings`;
    the data is drawn with the recipe's default seed, as `train`/`gan` draw
    it with `--seed`.
    """
    data = toy2d(spec["name"], spec["n"], seed=recipe_defaults("dde")["seed"])
    settings = {key: value for key, value in spec.items()
                if key not in ("name", "n")}
    paths = train_and_draw_function(
        data, out, frames=frames, progress=progress, names=names,
        title=spec["name"], gif_resolution=160, **settings, **model_settings,
    )
    return print_paths(paths)


def _prepare_run(args, check=None):
    """The data and the (checked) run folder of `train` and `gan`.

    `check(args)`, if given, sees the resolved settings first: its usage
    errors come before the data loads and the run folder is made.
    """
    resolve_defaults(args)
    if check is not None:
        check(args)
    # The data first: a bad name must not leave an empty run folder behind.
    # A large .npy file is memory-mapped: `fit` (and the GAN's teacher) read
    # it batch by batch, the pictures draw a sample of its rows.
    data = load_data(args.data, args.n_samples, args.seed, memory_map=True)
    return data, prepare_out(args.out, args.overwrite)


def print_paths(paths):
    """Prints the paths written; returns 3 after a divergence, else 0."""
    for path in paths.values():
        print(path)
    message = getattr(paths, "diverged", None)
    if message:
        print(f"{PROG}: error: {one_line(message)} The files above hold the "
              "last finite model.", file=sys.stderr)
        return 3
    return 0
