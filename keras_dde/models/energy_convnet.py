import keras

from keras_dde.layers.energy_conv2d import EnergyConv2D
from keras_dde.layers.energy_head import EnergyHead
from keras_dde.models.checks.image_shape import check_image_shape
from keras_dde.utils.validation import check_positive_int


def energy_convnet(
    input_shape=(28, 28, 1),
    filters=(32, 64, 64),
    kernel_size=3,
    strides=2,
    dense_width=128,
    activation="swish",
    kernel_initializer="glorot_uniform",
    name="energy_convnet",
):
    """A convolutional network with one scalar energy per image.

    Each convolution (`"same"` padding) downsamples by `strides`; the
    features are flattened into one smooth dense layer and projected to the
    energy by an `EnergyHead` (no bias: a constant has no gradient). With the
    defaults on 28x28x1 images: 28 -> 14 -> 7 -> 4, 187,072 parameters.
    Activations must be smooth, because denoising score matching
    differentiates the input gradient again. The convolutions are
    `keras_dde.layers.EnergyConv2D` (a `Conv2D` whose double backward pass
    JAX compiles 3-4x faster on CPU).

    Args:
        input_shape: `(height, width, channels)` of one image (or
            `(channels, height, width)` under
            `keras.config.set_image_data_format("channels_first")`).
        filters: channels of each convolution, one per layer.
        kernel_size: int, the convolutions' kernel size.
        strides: int, the convolutions' stride (2 halves height and width).
        dense_width: int, units of the dense layer before the head.
        activation: a smooth activation: "swish" (default), "softplus",
            "tanh", "sin".
        kernel_initializer: initializer of all kernels.
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping `(batch, *input_shape)` to
        `(batch,)`.

    Example:
    ```python
    images, _ = keras_dde.datasets.load_fashion_mnist("train")
    dde = keras_dde.DDEModel(keras_dde.models.energy_convnet(), sigma=0.3)
    dde.compile()
    dde.fit(images[:6400], batch_size=64, epochs=1)
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """
    input_shape, filters, kernel_size, strides, dense_width = check_convnet_arguments(
        input_shape, filters, kernel_size, strides, dense_width, "energy_mlp"
    )
    inputs = keras.Input(input_shape, name="x")
    hidden = inputs
    for index, channels in enumerate(filters):
        hidden = EnergyConv2D(
            channels,
            kernel_size,
            strides=strides,
            padding="same",
            activation=activation,
            kernel_initializer=kernel_initializer,
            name=f"conv_{index}",
        )(hidden)
    hidden = keras.layers.Flatten(name="flatten")(hidden)
    energy = dense_energy(hidden, dense_width, activation, kernel_initializer)
    return keras.Model(inputs, energy, name=name)


def dense_energy(features, dense_width, activation, kernel_initializer):
    """The conv energies' top: one smooth dense layer, then a bias-free
    scalar `EnergyHead`, on flat `features`."""
    hidden = keras.layers.Dense(
        dense_width,
        activation=activation,
        kernel_initializer=kernel_initializer,
        name="dense",
    )(features)
    return EnergyHead(kernel_initializer=kernel_initializer, name="energy")(hidden)


def check_convnet_arguments(
    input_shape, filters, kernel_size, strides, dense_width, flat_network
):
    """The checked arguments of the conv energies; a flat `input_shape` is an
    error that points to `keras_dde.models.<flat_network>(n_features)`."""
    input_shape = check_image_shape(
        input_shape,
        "input_shape",
        f"For flat feature vectors use `keras_dde.models.{flat_network}(n_features)`.",
    )
    return (
        input_shape,
        _check_filters(filters),
        check_positive_int(kernel_size, "kernel_size"),
        check_positive_int(strides, "strides"),
        check_positive_int(dense_width, "dense_width"),
    )


def _check_filters(filters, name="filters"):
    try:
        filters = tuple(filters)
    except TypeError as error:
        raise TypeError(
            f"`{name}` must be a sequence of channel counts, e.g. (32, 64, 64); "
            f"received {filters!r}."
        ) from error
    if not filters:
        raise ValueError(f"`{name}` must name at least one layer's channels.")
    return tuple(check_positive_int(f, name) for f in filters)
