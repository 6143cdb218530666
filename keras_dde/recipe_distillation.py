"""The covering EnergyGAN of `recipes.build_energy_gan`: distillation.

`build_energy_gan` keeps its settings and checks; the objective it picks
(`gan_objective`) and the GAN of `objective="distillation"`
(`distillation_gan`: a teacher built by `recipes.build_multiscale_dde`, a
fake `MultiScaleDDE` of the same network and a generator) live here, with
the settings measured on Fashion-MNIST that image shapes get.
"""

import keras

from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.models.multi_scale_dde import MultiScaleDDE
from keras_dde.recipe_networks import conditional_network_for
from keras_dde.recipe_networks import generator_for
from keras_dde.recipe_networks import image_steps_per_execution
from keras_dde.recipe_networks import is_image
from keras_dde.utils.validation import check_positive_int
from keras_dde.utils.validation import check_sigma

# The distilled image GAN of `benchmarks/images.py` (Fashion-MNIST, 10/10
# classes and FD 22.0-25.5 on four seeds in 900 s; images_gan.md): the
# teacher goes on fitting the data, a small bank of ODE pairs ending with
# Tweedie's denoising step, and a short warm-up.
IMAGE_DISTILLATION = dict(train_real=True, ode_to_zero="tweedie", n_pairs=2048,
                          warmup_steps=500)
# Its teacher (`build_multiscale_dde` settings): no Gaussian base, Adam 1e-3.
IMAGE_TEACHER = dict(gaussian_base=False, learning_rate=1e-3)
IMAGE_REGRESSION_WEIGHT = 0.1
IMAGE_REGRESSION_DECAY_STEPS = 1000


def gan_objective(objective, multiscale, energy_network, sigma_schedule):
    """The objective `build_energy_gan` builds for (see its `objective`)."""
    if objective not in (None, "kl", "distillation"):
        raise ValueError(
            "`objective` must be None, 'kl' or 'distillation'; received "
            f"{objective!r}."
        )
    kl_only = [name for name, given in (
        ("multiscale", multiscale), ("energy_network", energy_network is not None),
        ("sigma_schedule", sigma_schedule is not None),
    ) if given]
    if objective is None:
        return "kl" if kl_only else "distillation"
    if objective == "distillation" and kl_only:
        raise ValueError(
            f"`{kl_only[0]}` is a setting of the seed's GAN (`objective='kl'`); "
            "`objective='distillation'` builds its own two `MultiScaleDDE`s. "
            "Drop it, or pass `objective='kl'`."
        )
    return objective


def check_no_distillation_settings(regression_weight, teacher_epochs,
                                   teacher_decay_steps):
    """Raises if the seed's GAN (`objective="kl"`) is given distillation settings."""
    given = [name for name, value in (
        ("regression_weight", regression_weight), ("teacher_epochs", teacher_epochs),
        ("teacher_decay_steps", teacher_decay_steps),
    ) if value is not None]
    if given:
        raise ValueError(
            f"`{given[0]}` is a setting of `objective='distillation'`; drop it "
            "for the seed's GAN."
        )


def distillation_gan(
    build_teacher, features, sigma, sigma_max, latent_dim, width, depth, generator_width,
    generator_depth, dde_steps, generator_learning_rate, dde_learning_rate, seed,
    steps_per_execution, regression_weight, teacher_epochs, teacher_decay_steps,
    target_fraction=None,
):
    """`build_energy_gan(objective="distillation")`: settings checked there.

    `build_teacher` is `recipes.build_multiscale_dde`: the teacher is that
    recipe's model, so its settings live in one place. Images get the
    settings of `IMAGE_DISTILLATION` and `IMAGE_TEACHER`.
    """
    image = is_image(features)
    if sigma_max is not None:
        sigma_max = check_sigma(sigma_max, "sigma_max")
    if isinstance(teacher_epochs, bool) or not isinstance(teacher_epochs, int) or (
        teacher_epochs < 0
    ):
        raise ValueError(
            f"`teacher_epochs` must be an int >= 0; received {teacher_epochs!r}."
        )
    if teacher_decay_steps is None and teacher_epochs and not image:
        teacher_decay_steps = int(teacher_epochs) * 16
    if teacher_decay_steps is not None:  # None: a constant learning rate.
        teacher_decay_steps = check_positive_int(
            teacher_decay_steps, "teacher_decay_steps"
        )
    steps_per_execution = image_steps_per_execution(features, steps_per_execution)
    teacher = build_teacher(
        features, sigma=sigma, sigma_max=sigma_max, width=width, depth=depth,
        decay_steps=teacher_decay_steps, seed=seed,
        steps_per_execution=steps_per_execution,
        **(IMAGE_TEACHER if image else {}),
    )
    # `build_multiscale_dde` set the global seed to `seed`: the fake DDE and
    # the generator draw their initial weights after it (the fake starts
    # from the teacher's weights anyway).
    fake = MultiScaleDDE(
        conditional_network_for(features, width, depth), sigma=sigma,
        sigma_max=sigma_max, seed=seed + 1, gaussian_base=teacher.gaussian_base,
    )
    if image and regression_weight is None:
        regression_weight = image_regression_weight()
    # ReLU: a piecewise-linear generator follows the flow map's steep parts
    # between modes more closely than a smooth one (swish). Kernel 4 on
    # images: divisible by the stride, so no checkerboard of overlaps.
    gan = EnergyGAN(
        generator_for(
            latent_dim, features, generator_width, generator_depth, activation="relu",
            kernel_size=4,
        ),
        teacher, fake, dde_steps=dde_steps, seed=seed + 2, objective="distillation",
        teacher_epochs=teacher_epochs,
        **(IMAGE_DISTILLATION if image else {}),
        **({} if regression_weight is None
           else {"regression_weight": regression_weight}),
        **({} if target_fraction is None else {"target_fraction": target_fraction}),
    )
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(generator_learning_rate, beta_1=0.5),
        dde_optimizer=keras.optimizers.Adam(dde_learning_rate),
        **({} if steps_per_execution is None
           else {"steps_per_execution": steps_per_execution}),
    )
    return gan


def image_regression_weight():
    """The regression's weight on images: a cosine from 0.1 to 0 over the
    first 1,000 generator steps, handing the generator over to the score
    difference (DMD2 drops the regression altogether)."""
    return keras.optimizers.schedules.CosineDecay(
        IMAGE_REGRESSION_WEIGHT, IMAGE_REGRESSION_DECAY_STEPS
    )
