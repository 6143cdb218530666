"""The command line's progress: what a covering GAN does before its bar."""

from keras_dde import recipes
from keras_dde.cli import progress


def test_a_covering_gan_says_what_comes_before_its_first_epoch(capsys):
    gan = recipes.build_energy_gan(2, width=8, depth=1, generator_width=8,
                                   generator_depth=1, teacher_epochs=7)
    progress.announce_preparation(gan)
    line = capsys.readouterr().out
    assert line.startswith("fitting the teacher MultiScaleDDE (7 epochs), then ")
    assert f"{gan.n_pairs} ODE pairs and {gan.warmup_steps} warm-up steps" in line
    gan.teacher_epochs = 0  # the teacher fitted by hand
    progress.announce_preparation(gan)
    assert capsys.readouterr().out.startswith("making ")
    gan.pairs_made.assign(1.0)  # as after the first `fit`, or loaded
    progress.announce_preparation(gan)
    seed_gan = recipes.build_energy_gan(2, width=8, depth=1, objective="kl")
    progress.announce_preparation(seed_gan)
    assert capsys.readouterr().out == ""
