import keras

from keras_dde.layers.energy_head import EnergyHead
from keras_dde.utils.validation import check_positive_int


def energy_mlp(
    input_dim,
    width=64,
    depth=3,
    activation="swish",
    kernel_initializer="glorot_uniform",
    name="energy_mlp",
):
    """A multilayer perceptron with one scalar energy output per sample.

    Smooth activations only: the denoising loss differentiates the network's
    input gradient once more. The output has no bias (it would get no gradient).

    Args:
        input_dim: int, number of features.
        width: int, units per hidden layer.
        depth: int, number of hidden layers.
        activation: a smooth activation: "swish" (default; the most
            accurate of softplus, tanh and swish in `benchmarks/fidelity.py`),
            "softplus", "tanh", "sin".
        kernel_initializer: initializer of all kernels.
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping `(batch, input_dim)` to `(batch,)`.

    Example:
    ```python
    energy = keras_dde.models.energy_mlp(2, width=64, depth=3)
    dde = keras_dde.DDEModel(energy, sigma=0.1)
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """
    input_dim = check_positive_int(input_dim, "input_dim")
    width = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    inputs = keras.Input((input_dim,), name="x")
    hidden = inputs
    for index in range(depth):
        hidden = keras.layers.Dense(
            width,
            activation=activation,
            kernel_initializer=kernel_initializer,
            name=f"hidden_{index}",
        )(hidden)
    energy = EnergyHead(kernel_initializer=kernel_initializer, name="energy")(hidden)
    return keras.Model(inputs, energy, name=name)
