import keras

from keras_dde.layers.energy_head import EnergyHead
from keras_dde.utils.validation import check_positive_int


def energy_mlp(
    input_dim,
    width=64,
    depth=3,
    activation="swish",
    kernel_initializer="glorot_uniform",
    seed=None,
    dtype=None,
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
        seed: None or int; an int seeds the kernel initializer of each
            layer (layer `i` with `seed + i`), so that the initial weights
            are reproducible without touching Keras's global random state.
        dtype: None or a dtype policy name for all layers, e.g. "float64".
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
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"`seed` must be None or an int; received {seed!r}.")
    inputs = keras.Input((input_dim,), name="x")
    hidden = inputs
    for index in range(depth):
        hidden = keras.layers.Dense(
            width,
            activation=activation,
            kernel_initializer=_seeded(kernel_initializer, seed, index),
            dtype=dtype,
            name=f"hidden_{index}",
        )(hidden)
    energy = EnergyHead(
        kernel_initializer=_seeded(kernel_initializer, seed, depth),
        dtype=dtype,
        name="energy",
    )(hidden)
    return keras.Model(inputs, energy, name=name)


def _seeded(initializer, seed, index):
    """`initializer` seeded with `seed + index`, or as is for `seed=None`.

    Built from its name or config with the seed in place: constructing it
    unseeded first would draw a default seed from Python's global `random`.
    """
    if seed is None:
        return initializer
    if isinstance(initializer, str):
        config = {"class_name": initializer, "config": {}}
    else:
        config = keras.initializers.serialize(keras.initializers.get(initializer))
    config["config"] = {**config["config"], "seed": seed + index}
    try:
        return keras.initializers.get(config)
    except TypeError:  # Deterministic initializers ("zeros", ...) take no seed.
        return initializer
