"""Argument checks of `EnergyGAN`: its networks and settings, before any work.

A generator and two DDEs of one kind (both `DDEModel`s or both
`MultiScaleDDE`s with one `sigma_max` and the same Gaussian base), one
`sigma` unless `allow_different_sigma`, a functional generator of a flat
latent vector, and a noise-level schedule that both DDEs can follow. Each
error names the argument and the fix.
"""

import keras

from keras_dde.models.dde_model import DDEModel
from keras_dde.utils.shapes import declared_input_shape


def check_gan_arguments(
    generator, real_dde, fake_dde, allow_different_sigma, target_fraction,
    objective=None,
):
    """Raises a clear TypeError/ValueError for a bad network or setting.

    Two `MultiScaleDDE`s whose `sigma_max` are both unknown (nan) pass for
    `objective` None or "distillation": the teacher's `fit` sets it, and
    `fit` gives it to the fake DDE (`resolve_objective` refuses them for "kl").
    """
    if not isinstance(generator, keras.layers.Layer):
        raise TypeError(
            f"`generator` must be a Keras model; received "
            f"{type(generator).__name__}. Use e.g. "
            "`keras_dde.models.generator_mlp(latent_dim, output_dim)`."
        )
    for name, dde in (("real_dde", real_dde), ("fake_dde", fake_dde)):
        if not isinstance(dde, DDEModel):
            raise TypeError(
                f"`{name}` must be a keras_dde.DDEModel; received "
                f"{type(dde).__name__}."
            )
    if real_dde is fake_dde:
        raise ValueError(
            "`real_dde` and `fake_dde` must be different models; create two "
            "`keras_dde.DDEModel` instances."
        )
    if real_dde.sigma != fake_dde.sigma and not allow_different_sigma:
        raise ValueError(
            f"`real_dde` has sigma {real_dde.sigma} but `fake_dde` has sigma "
            f"{fake_dde.sigma}; the KL between smoothed densities needs the same "
            "smoothing. Pass `allow_different_sigma=True` if this is intended."
        )
    real_top, fake_top = real_dde.noise_range[1], fake_dde.noise_range[1]
    both_unknown = real_top != real_top and fake_top != fake_top  # nan
    if real_top != fake_top and not (both_unknown and objective != "kl"):
        # Also when one is an unknown (nan) sigma_max.
        raise ValueError(
            f"`real_dde` has noise levels up to {real_top} but `fake_dde` up "
            f"to {fake_top} (None: a single-sigma `DDEModel`). Use two DDEs "
            "of the same kind; two `MultiScaleDDE`s need the same "
            "`sigma_max=`, passed explicitly."
        )
    if getattr(real_dde, "gaussian_base", False) != getattr(
        fake_dde, "gaussian_base", False
    ):
        raise ValueError(
            "`real_dde` and `fake_dde` must both have a Gaussian base or "
            "both not: pass the same `gaussian_base=` to both `MultiScaleDDE`s."
        )
    if not (
        isinstance(target_fraction, (int, float))
        and not isinstance(target_fraction, bool)
        and 0 <= target_fraction < 1
    ):
        raise ValueError(
            "`target_fraction` must be a number in [0, 1); received "
            f"{target_fraction!r}."
        )


def check_sigma_schedule(schedule, train_real, allow_different_sigma, objective="kl"):
    """Raises unless `schedule` is a serializable schedule both DDEs follow."""
    if schedule is None:
        return
    if objective == "distillation":
        raise ValueError(
            "`sigma_schedule` is a setting of `objective='kl'`: distillation's "
            "bank and regression are made at the teacher's fixed `sigma`. Drop "
            "it, or pass `objective='kl'`."
        )
    if not callable(schedule) or not hasattr(schedule, "get_config"):
        raise TypeError(
            "`sigma_schedule` must be a serializable schedule of the step "
            "count, e.g. keras_dde.schedules.GeometricSigmaDecay or a "
            f"keras.optimizers.schedules object; received {type(schedule).__name__}."
        )
    if not train_real:
        raise ValueError(
            "`sigma_schedule` needs `train_real=True`: a frozen real DDE only "
            "knows the sigma it was trained at."
        )
    if allow_different_sigma:
        raise ValueError(
            "`sigma_schedule` sets one sigma for both DDEs; it cannot be "
            "combined with `allow_different_sigma=True`."
        )


def latent_dim_of(generator):
    """The generator's latent size, from its one declared input."""
    shape = declared_input_shape(generator)
    if shape is None or len(shape) != 1:
        raise ValueError(
            "`generator` must be a functional Keras model with one input of "
            "shape (batch, latent_dim), e.g. keras_dde.models.generator_mlp."
        )
    return int(shape[0])
