"""Checks that an energy network fits its model: `x` alone, or `[x, log_sigma]`.

`DDEModel` trains `s(x)` at one noise level; `MultiScaleDDE` trains a
noise-conditional `s(x, log sigma)`. Each refuses the other's network with an
error that names the right model. `DDEModel._check_energy` calls
`check_unconditional_energy`; `MultiScaleDDE` overrides it with
`check_conditional_energy`.
"""

import keras


def _inputs(energy):
    if not isinstance(energy, keras.Model):
        return None
    try:
        return energy.inputs
    except (AttributeError, ValueError):
        return None


def check_unconditional_energy(energy):
    """Raises unless `energy` is a Keras layer or model of `x` alone."""
    if not isinstance(energy, keras.layers.Layer):
        raise TypeError(
            "`energy` must be a Keras layer or model with one scalar output "
            f"per sample; received {type(energy).__name__}."
        )
    inputs = _inputs(energy)
    if inputs is not None and len(inputs) > 1:
        raise TypeError(
            f"`energy` takes {len(inputs)} inputs; `DDEModel` needs a network of "
            "`x` alone. For a noise-conditional network `[x, log_sigma]` use "
            "`keras_dde.MultiScaleDDE`."
        )


def check_conditional_energy(energy):
    """Raises unless `energy` is a Keras model with inputs `[x, log_sigma]`."""
    if not isinstance(energy, keras.layers.Layer):
        raise TypeError(
            "`energy` must be a Keras model with inputs `[x, log_sigma]`; "
            f"received {type(energy).__name__}."
        )
    inputs = _inputs(energy)
    if not inputs or len(inputs) != 2 or tuple(inputs[1].shape[1:]) != (1,):
        raise TypeError(
            "`MultiScaleDDE` needs a noise-conditional energy: a functional "
            "Keras model with two inputs `[x, log_sigma]` of shapes "
            "`(batch, *features)` and `(batch, 1)`, e.g. "
            "`keras_dde.models.conditional_energy_mlp(input_dim)`. For a "
            "network of `x` alone use `keras_dde.DDEModel`."
        )
