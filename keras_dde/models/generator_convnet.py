import keras

from keras_dde.models.checks.image_shape import check_image_shape
from keras_dde.models.checks.image_shape import spatial_and_channels
from keras_dde.models.energy_convnet import _check_filters
from keras_dde.utils.validation import check_positive_int


def generator_convnet(
    latent_dim,
    output_shape=(28, 28, 1),
    filters=(64, 32),
    kernel_size=3,
    activation="swish",
    output_activation="tanh",
    name="generator_convnet",
):
    """A convolutional generator mapping latent noise to images.

    Dense -> reshape to a `(height / 2^k, width / 2^k, filters[0])` map ->
    `k = len(filters)` stride-2 `Conv2DTranspose` layers, each doubling height
    and width -> a `Conv2D` to the image's channels with `output_activation`.
    With the defaults: 7x7x64 -> 14x14x64 -> 28x28x32 -> 28x28x1.

    Args:
        latent_dim: int, size of the latent vector `z`.
        output_shape: `(height, width, channels)` of a generated image;
            height and width must be multiples of `2 ** len(filters)`.
        filters: channels of the upsampling layers, one per doubling.
        kernel_size: int, the kernel size of every convolution.
        activation: hidden activation.
        output_activation: "tanh" (default) for data in [-1, 1], the
            scaling of `keras_dde.datasets.load_fashion_mnist`; "sigmoid"
            for [0, 1]; None for unbounded data.
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping `(batch, latent_dim)` to
        `(batch, *output_shape)`.

    Example:
    ```python
    generator = keras_dde.models.generator_convnet(latent_dim=32)
    images = generator(np.random.normal(size=(16, 32)))  # (16, 28, 28, 1)
    ```

    References:
        - [Radford et al., 2016](https://arxiv.org/abs/1511.06434)
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    output_shape = check_image_shape(
        output_shape,
        "output_shape",
        "For flat feature vectors use "
        "`keras_dde.models.generator_mlp(latent_dim, n_features)`.",
    )
    filters = _check_filters(filters)
    kernel_size = check_positive_int(kernel_size, "kernel_size")
    (height, width), channels = spatial_and_channels(output_shape)
    factor = 2 ** len(filters)
    if height % factor or width % factor:
        raise ValueError(
            f"`output_shape` {output_shape} cannot be reached by "
            f"{len(filters)} doublings (`filters` has {len(filters)} layers): "
            f"height and width must be multiples of {factor}. Use fewer "
            "`filters`, or pad the images to such a size."
        )
    base = (height // factor, width // factor)
    channels_last = keras.config.image_data_format() == "channels_last"
    base_shape = (*base, filters[0]) if channels_last else (filters[0], *base)
    inputs = keras.Input((latent_dim,), name="z")
    hidden = keras.layers.Dense(
        base[0] * base[1] * filters[0], activation=activation, name="project"
    )(inputs)
    hidden = keras.layers.Reshape(base_shape, name="reshape")(hidden)
    for index, units in enumerate(filters):
        hidden = keras.layers.Conv2DTranspose(
            units,
            kernel_size,
            strides=2,
            padding="same",
            activation=activation,
            name=f"upsample_{index}",
        )(hidden)
    outputs = keras.layers.Conv2D(
        channels,
        kernel_size,
        padding="same",
        activation=output_activation,
        name="image",
    )(hidden)
    return keras.Model(inputs, outputs, name=name)
