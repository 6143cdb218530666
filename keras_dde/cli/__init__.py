"""The `keras-dde` command line: train a DDE or an EnergyGAN from a shell and draw it.

    keras-dde train 2spirals --epochs 300 --sigma 0.1 --out runs/2spirals
    keras-dde train data.npy --epochs 100 --sigma 0.2 --out runs/mine
    keras-dde gan 8gaussians --epochs 200 --sigma 0.3 --out runs/gan
    keras-dde train 8gaussians --multiscale --epochs 300 --out runs/ms
    keras-dde gan 8gaussians --multiscale --sigma 0.1 --epochs 600 --out runs/msgan
    keras-dde gan fashion-mnist --out runs/fashion
    keras-dde examples --out example_images

`train` writes `model.keras`, `density.png`, `vectorfield.png`,
`samples.png` and `training.gif` (the density during training) into `--out`.
`gan` writes `model.keras`, `den_real.png`, `den_fake.png`, `samples.png` and
the GIFs `den_real.gif`, `den_fake.gif` (the real and generated densities
during training) and `samples.gif` (real against generated samples).
`--multiscale` trains a `MultiScaleDDE` (its recipe's cosine learning-rate
decay spans the run); with `gan`, an EnergyGAN on two `MultiScaleDDE`s
whose generator learning rate decays over the run (`--sigma-max` and
`--target-fraction` set its noise levels). `fashion-mnist` (28x28 images, read offline; `--n`
limits the number of images) trains the conv recipes with image defaults
(sigma 0.3, batch 64, 5 epochs): `train` writes `model.keras`,
`denoising.png` and `training.gif` (denoised test images through
training), `gan` writes `model.keras`, `samples.png` (a grid of generated
images) and `samples.gif` (the generator's samples through training).
Bad arguments give a one-line error and exit status 2; errors while running
give a one-line error and status 1; Ctrl-C writes the frames so far to the
GIFs and exits with status 130. If training diverges (a NaN or Inf loss), it
stops, the last finite weights are restored and written with the pictures,
and the command says so in one line and exits with status 3. Every file is
written atomically (a temporary file in the same folder, then `os.replace`),
so an interrupted run never leaves a half-written file.

The models are built by `keras_dde.recipes`, whose defaults are the
commands' defaults. Modules: `parser` (arguments), `data` (data sets and the
run folder), `runs` (train and draw), `commands` (the three commands),
`image_runs` (train and draw on images), `progress` (the progress bar).
"""

import sys

from keras_dde.cli.commands import examples_command
from keras_dde.cli.commands import gan_command
from keras_dde.cli.commands import train_command
from keras_dde.cli.data import load_data
from keras_dde.cli.data import one_line
from keras_dde.cli.data import prepare_out
from keras_dde.cli.parser import EXAMPLE
from keras_dde.cli.parser import GAN_EXAMPLE
from keras_dde.cli.parser import PROG
from keras_dde.cli.parser import RUN_DEFAULTS
from keras_dde.cli.parser import UsageError
from keras_dde.cli.parser import build_parser
from keras_dde.cli.runs import GAN_FILES
from keras_dde.cli.runs import TRAIN_FILES
from keras_dde.cli.runs import RunPaths
from keras_dde.cli.runs import train_and_draw
from keras_dde.cli.runs import train_gan_and_draw

COMMANDS = {
    "train": train_command,
    "gan": gan_command,
    "examples": examples_command,
}


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
        return COMMANDS[args.command](args)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError) as error:
        print(f"{PROG}: error: {one_line(error)}", file=sys.stderr)
        return 1


__all__ = [
    "EXAMPLE",
    "GAN_EXAMPLE",
    "GAN_FILES",
    "PROG",
    "RUN_DEFAULTS",
    "TRAIN_FILES",
    "RunPaths",
    "UsageError",
    "build_parser",
    "load_data",
    "main",
    "prepare_out",
    "train_and_draw",
    "train_gan_and_draw",
]
