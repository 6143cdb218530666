"""The networks of the recipes: MLPs for vectors, convnets for images.

`keras_dde.recipes` picks the network from the data's shape, so that one
recipe serves both: a feature count `d` (or `(d,)`) gets the MLPs, an image
shape `(height, width, channels)` gets the convolutional networks, with the
recipe's `width` / `depth` settings read as follows.

| setting | vectors | images |
| --- | --- | --- |
| `width` | units per hidden layer | units of the dense layer before the head |
| `depth` | hidden layers | convolutions (32, 64, 64, ... channels, stride 2) |
| `generator_width` | units per hidden layer | channels of the first upsampling layer (halved in the second) |
| `generator_depth` | hidden layers | not used: two stride-2 upsamplings (28 = 7 x 4) |

With the recipes' defaults (`depth=3`, `generator_width=128`) the image
networks are `energy_convnet`'s and `generator_convnet`'s own defaults,
except the dense width (`width=64` instead of 128).
"""

import math

import keras

from keras_dde.models.conditional_energy_convnet import conditional_energy_convnet
from keras_dde.models.conditional_energy_mlp import conditional_energy_mlp
from keras_dde.models.energy_convnet import energy_convnet
from keras_dde.models.energy_mlp import energy_mlp
from keras_dde.models.generator_convnet import generator_convnet
from keras_dde.models.generator_mlp import generator_mlp
from keras_dde.utils.validation import check_positive_int

# The image generator's upsamplings: 28x28 images start from 7x7.
GENERATOR_UPSAMPLINGS = 2


def feature_shape_of(feature_shape):
    """`feature_shape` as an int (vectors) or a 3-tuple of ints (images)."""
    shape = feature_shape
    if isinstance(shape, (tuple, list)):
        shape = tuple(shape)
        if len(shape) == 3:
            return tuple(check_positive_int(s, "feature_shape") for s in shape)
        if len(shape) != 1:
            raise ValueError(
                "`feature_shape` must be the number of features (an int or a "
                "1-tuple) or an image shape (height, width, channels); "
                f"received {feature_shape!r}. Add a channel axis to grey "
                "images (`x[..., None]`), or flatten the data."
            )
        (shape,) = shape
    return check_positive_int(shape, "feature_shape")


def is_image(features):
    return isinstance(features, tuple)


def feature_count(features):
    """The number of features of a vector or of an image (its pixels x channels)."""
    return math.prod(features) if is_image(features) else features


def conv_filters(depth):
    """Channels of `depth` convolutions: 32, 64, 64, ..."""
    return tuple(32 if index == 0 else 64 for index in range(depth))


def energy_network_for(energy_network, features, width, depth):
    """The energy network of a DDE: the user's factory, an MLP or a convnet."""
    if energy_network is not None:
        if not callable(energy_network):
            raise TypeError(
                "`energy_network` must be None or a callable "
                "`energy_network(input_dim, width, depth)` returning a Keras "
                f"model; received {type(energy_network).__name__}."
            )
        return energy_network(features, width, depth)
    width = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    if is_image(features):
        return energy_convnet(features, filters=conv_filters(depth),
                              dense_width=width)
    return energy_mlp(features, width=width, depth=depth)


def generator_for(latent_dim, features, width, depth, activation="swish",
                  kernel_size=3):
    """The generator of an EnergyGAN: an MLP, or for image shapes an
    upsampling convnet of `kernel_size` kernels; hidden `activation` in both."""
    width = check_positive_int(width, "generator_width")
    if is_image(features):
        if width < 4:
            raise ValueError(
                f"`generator_width` must be >= 4 for images; received {width}."
            )
        filters = tuple(width // 2**(index + 1) for index in range(GENERATOR_UPSAMPLINGS))
        return generator_convnet(latent_dim, features, filters=filters,
                                 kernel_size=kernel_size, activation=activation)
    depth = check_positive_int(depth, "generator_depth")
    return generator_mlp(
        latent_dim, features, width=width, depth=depth, activation=activation
    )


def conditional_network_for(features, width, depth, fourier_features=None):
    """The noise-conditional energy of a `MultiScaleDDE`: an MLP (with
    `fourier_features`, None for its default), or for image shapes a
    `conditional_energy_convnet`."""
    width = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    if is_image(features):
        return conditional_energy_convnet(
            features, filters=conv_filters(depth), dense_width=width
        )
    return conditional_energy_mlp(features, width=width, depth=depth,
                                  fourier_features=fourier_features)


def image_steps_per_execution(features, steps_per_execution):
    """1 for convnets on JAX when unset: its fused multi-step scan of conv
    double backprop compiles slowly and runs no faster."""
    if steps_per_execution is None and is_image(features):
        if keras.backend.backend() == "jax":
            return 1
    return steps_per_execution
