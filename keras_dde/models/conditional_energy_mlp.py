import keras
from keras import ops

from keras_dde.layers.energy_head import EnergyHead
from keras_dde.utils.validation import check_positive_int


def conditional_energy_mlp(
    input_dim,
    width=128,
    depth=3,
    activation="tanh",
    kernel_initializer="glorot_uniform",
    name="conditional_energy_mlp",
):
    """A noise-conditional energy `s(x, sigma)` for `keras_dde.MultiScaleDDE`.

    The network takes two inputs, `x` of shape `(batch, input_dim)` and
    `log_sigma` of shape `(batch, 1)`, concatenates them, and runs a
    multilayer perceptron with a bias-free scalar head `f(x, log sigma)`. The
    energy is `f / sigma`: the score of the smoothed density grows like
    `1 / sigma`, so this keeps `f`'s input gradient of order one at every
    noise level (the parametrisation of Song & Ermon, 2019, for energies).

    Args:
        input_dim: int, number of features.
        width: int, units per hidden layer.
        depth: int, number of hidden layers.
        activation: a smooth activation ("tanh", "swish", "softplus", "sin");
            the loss differentiates the input gradient once more.
        kernel_initializer: initializer of all kernels.
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping `[x, log_sigma]` to `(batch,)`.

    Example:
    ```python
    energy = keras_dde.models.conditional_energy_mlp(2)
    dde = keras_dde.MultiScaleDDE(energy, sigma=0.08)
    ```

    References:
        - [Song & Ermon, 2019](https://arxiv.org/abs/1907.05600)
    """
    input_dim = check_positive_int(input_dim, "input_dim")
    width = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    x = keras.Input((input_dim,), name="x")
    log_sigma = keras.Input((1,), name="log_sigma")
    hidden = keras.layers.Concatenate(name="joint")([x, log_sigma])
    for index in range(depth):
        hidden = keras.layers.Dense(
            width,
            activation=activation,
            kernel_initializer=kernel_initializer,
            name=f"hidden_{index}",
        )(hidden)
    value = EnergyHead(kernel_initializer=kernel_initializer, name="energy")(hidden)
    energy = value * ops.exp(-ops.squeeze(log_sigma, axis=-1))
    return keras.Model([x, log_sigma], energy, name=name)
