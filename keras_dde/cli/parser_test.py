"""The `keras-dde` arguments: bad ones give one line and status 2; defaults are the recipes'."""

import re

import pytest

from keras_dde.cli.commands_test import run
from keras_dde.cli.parser import DISTILLATION_RUN_DEFAULTS
from keras_dde.cli.parser import RUN_DEFAULTS
from keras_dde.cli.parser import IMAGE_DISTILLATION_RUN_DEFAULTS
from keras_dde.cli.parser import IMAGE_MODEL_DEFAULTS
from keras_dde.cli.parser import IMAGE_RUN_DEFAULTS
from keras_dde.cli.parser import build_parser
from keras_dde.cli.parser import distills
from keras_dde.cli.parser import model_kind
from keras_dde.cli.parser import resolve_defaults
from keras_dde.recipes import GAN_DEFAULTS
from keras_dde.recipes import recipe_defaults


def test_defaults_are_the_recipes():
    parser = build_parser()
    train = resolve_defaults(parser.parse_args(["train", "2spirals", "--out", "o"]))
    multiscale = recipe_defaults("multiscale")  # `train`'s default model
    for name in ("sigma", "width", "depth", "learning_rate", "seed"):
        assert getattr(train, name) == multiscale[name], name
    assert train.learning_rate == 4e-3 and train.sigma == 0.1 and train.width == 128
    assert model_kind(train) == "multiscale" and train.sigma_max is None
    gan = resolve_defaults(parser.parse_args(["gan", "8gaussians", "--out", "o"]))
    defaults = recipe_defaults("gan")
    # Left None, as the recipe leaves them: it picks them by the data's kind.
    for name in ("latent_dim", "dde_steps", "generator_learning_rate",
                 "dde_learning_rate", "seed"):
        assert getattr(gan, name) == defaults[name], name
    assert gan.sigma == GAN_DEFAULTS["vectors"]["sigma"] == 0.3
    for args, command in ((train, "train"), (gan, "gan")):
        expected = dict(RUN_DEFAULTS[command])
        if command == "gan":  # The covering GAN counts its epochs after the teacher's.
            expected["epochs"] = DISTILLATION_RUN_DEFAULTS["epochs"]
        for name, value in expected.items():
            assert getattr(args, name) == value, (command, name)
    single = resolve_defaults(
        parser.parse_args(["gan", "8gaussians", "--out", "o", "--single-sigma"])
    )
    assert single.epochs == RUN_DEFAULTS["gan"]["epochs"]


def test_image_and_multiscale_defaults_and_explicit_values_win():
    parser = build_parser()
    gan = resolve_defaults(parser.parse_args(["gan", "fashion-mnist", "--out", "o"]))
    expected = {**IMAGE_RUN_DEFAULTS["gan"], **IMAGE_MODEL_DEFAULTS["gan"],
                **IMAGE_DISTILLATION_RUN_DEFAULTS}
    for name, value in expected.items():
        if name != "teacher_epochs":  # Read by the command, not resolved.
            assert getattr(gan, name) == value, name
    assert gan.n_samples is None and gan.sigma == 0.5 and gan.batch_size == 64
    assert distills(gan) and gan.epochs == 2
    single = resolve_defaults(parser.parse_args(
        ["gan", "fashion-mnist", "--out", "o", "--single-sigma"]))
    assert not distills(single) and single.epochs == IMAGE_RUN_DEFAULTS["gan"]["epochs"]
    single = resolve_defaults(parser.parse_args(
        ["train", "8gaussians", "--single-sigma", "--out", "o", "--n", "300",
         "--learning-rate", "0.01"]))
    dde = recipe_defaults("dde")
    assert model_kind(single) == "dde"
    assert single.width == dde["width"] and single.sigma == dde["sigma"]
    assert single.learning_rate == 0.01 and single.n_samples == 300
    assert single.epochs == RUN_DEFAULTS["train"]["epochs"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "nope", "--out", "X"], "unknown data set 'nope'.*2spirals"),
        (["train", "2spirals", "--out", "X", "--epochs", "0"], "--epochs"),
        (["train", "2spirals", "--out", "X", "--sigma", "-0.1"], "--sigma"),
        (["train", "2spirals", "--out", "X", "--sigma", "nan"], "--sigma"),
        (["train", "missing.npy", "--out", "X"], "not found"),
        (["train", "2spirals"], "--out"),
        (
            ["train", "2spirals", "--out", "X", "--model-samples", "-1"],
            "--model-samples",
        ),
        (["train", "2spirals", "--out", "X", "--single-sigma", "--sigma-max", "2"],
         "--sigma-max sets the MultiScaleDDE's noise levels; drop --single-sigma "
         "or --sigma-max"),
        (["train", "2spirals", "--out", "X", "--sigma", "0.3", "--sigma-max", "0.2"],
         r"--sigma-max \(0.2\) must be above --sigma \(0.3\)"),
        (["train", "2spirals", "--out", "X", "--multiscale"],
         "unrecognized arguments: --multiscale"),
        (["gan", "nope", "--out", "X"], "unknown data set 'nope'.*8gaussians"),
        (["gan", "8gaussians"], "--out"),
        (["gan", "8gaussians", "--out", "X", "--epochs", "-3"], "--epochs"),
        (["gan", "8gaussians", "--out", "X", "--sigma", "0"], "--sigma"),
        (["gan", "8gaussians", "--out", "X", "--dde-steps", "0"], "--dde-steps"),
        (["gan", "8gaussians", "--out", "X", "--latent-dim", "two"],
         "--latent-dim must be a positive int; received 'two'"),
        (["gan", "8gaussians", "--out", "X", "--generator-learning-rate", "0"],
         "--generator-learning-rate"),
        (["gan", "8gaussians", "--out", "X", "--dde-learning-rate", "inf"],
         "--dde-learning-rate"),
        (["gan", "8gaussians", "--out", "X", "--multiscale", "--target-fraction", "1"],
         r"--target-fraction must be a number in \[0, 1\); received '1'"),
        (["gan", "fashion-mnist", "--out", "X", "--single-sigma", "--teacher-epochs", "2"],
         "--teacher-epochs set the multi-scale GAN; --single-sigma has one noise"),
        (["gan", "8gaussians", "--out", "X", "--single-sigma", "--sigma-max", "2"],
         "--sigma-max set the multi-scale GAN; --single-sigma has one noise level"),
        (["gan", "8gaussians", "--out", "X", "--regression-weight", "0"],
         "--regression-weight must be a positive float"),
        (["gan", "8gaussians", "--out", "X", "--multiscale", "--sigma", "0.3",
          "--sigma-max", "0.2"], r"--sigma-max \(0.2\) must be above --sigma \(0.3\)"),
        (["gan", "8gaussians", "--out", "X", "--width", "8"],
         "unrecognized arguments: --width"),
        (["gan", "missing.csv", "--out", "X"], "not found"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(tmp_path, capsys, argv, message):
    argv = [str(tmp_path / "out") if a == "X" else a for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("keras-dde")
    assert re.search(message, err), err
    assert not (tmp_path / "out").exists()




def test_negative_seed_is_a_usage_error(tmp_path, capsys):
    code, _, err = run(capsys, "train", "2spirals", "--out", str(tmp_path / "o"),
                       "--seed", "-1")
    assert code == 2 and "--seed must be an int >= 0" in err
