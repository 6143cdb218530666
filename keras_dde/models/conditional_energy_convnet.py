import keras
from keras import ops

from keras_dde.layers.energy_conv2d import EnergyConv2D
from keras_dde.models.energy_convnet import check_convnet_arguments
from keras_dde.models.energy_convnet import dense_energy


def conditional_energy_convnet(
    input_shape=(28, 28, 1),
    filters=(32, 64, 64),
    kernel_size=3,
    strides=2,
    dense_width=128,
    activation="swish",
    kernel_initializer="glorot_uniform",
    name="conditional_energy_convnet",
):
    """A noise-conditional convolutional energy `s(x, sigma)` for images.

    The image counterpart of `conditional_energy_mlp`, for
    `keras_dde.MultiScaleDDE`: the convolutions of `energy_convnet`, each
    followed by a per-channel shift that is a learned linear function of
    `u = log sigma` (FiLM conditioning without the scale, Perez et al.,
    2018), before its smooth activation:

        h_{l+1} = act(conv_l(h_l) + W_l u + b_l)

    then the flattened features and `u` go through one dense layer to a
    bias-free scalar head. As in `conditional_energy_mlp` the output is not
    divided by sigma, so the modes' relative masses, which do not depend on
    sigma, are carried directly.

    Args:
        input_shape: `(height, width, channels)` of one image (or
            `(channels, height, width)` under channels-first).
        filters: channels of each convolution, one per layer.
        kernel_size: int, the convolutions' kernel size.
        strides: int, the convolutions' stride.
        dense_width: int, units of the dense layer before the head.
        activation: a smooth activation: "swish" (default), "softplus",
            "tanh", "sin".
        kernel_initializer: initializer of all kernels.
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping `[x, log_sigma]`, shapes
        `(batch, *input_shape)` and `(batch, 1)`, to `(batch,)`.

    Example:
    ```python
    images, _ = keras_dde.datasets.load_fashion_mnist("train")
    energy = keras_dde.models.conditional_energy_convnet()
    dde = keras_dde.MultiScaleDDE(energy, sigma=0.3)
    dde.compile()
    dde.fit(images[:6400], batch_size=64, epochs=1)
    ```

    References:
        - [Song & Ermon, 2019](https://arxiv.org/abs/1907.05600)
        - [Perez et al., 2018](https://arxiv.org/abs/1709.07871)
    """
    input_shape, filters, kernel_size, strides, dense_width = check_convnet_arguments(
        input_shape, filters, kernel_size, strides, dense_width,
        "conditional_energy_mlp",
    )
    channels_last = keras.config.image_data_format() == "channels_last"
    x = keras.Input(input_shape, name="x")
    log_sigma = keras.Input((1,), name="log_sigma")
    hidden = x
    for index, channels in enumerate(filters):
        hidden = EnergyConv2D(
            channels,
            kernel_size,
            strides=strides,
            padding="same",
            kernel_initializer=kernel_initializer,
            name=f"conv_{index}",
        )(hidden)
        shift = keras.layers.Dense(
            channels, kernel_initializer=kernel_initializer, name=f"sigma_shift_{index}"
        )(log_sigma)
        shape = (-1, 1, 1, channels) if channels_last else (-1, channels, 1, 1)
        hidden = keras.layers.Activation(activation, name=f"act_{index}")(
            hidden + ops.reshape(shift, shape)
        )
    hidden = keras.layers.Flatten(name="flatten")(hidden)
    hidden = keras.layers.Concatenate(name="joint")([hidden, log_sigma])
    energy = dense_energy(hidden, dense_width, activation, kernel_initializer)
    return keras.Model([x, log_sigma], energy, name=name)
