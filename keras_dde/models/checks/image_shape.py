"""Checks of image shapes shared by the convolutional networks."""

import numbers

import keras


def check_image_shape(shape, name, suggestion):
    """Returns `shape` as `(height, width, channels)` ints (or `(c, h, w)`).

    The order follows `keras.config.image_data_format()`. A shape without a
    channel axis, e.g. `(28, 28)`, or a flat one, e.g. `(784,)`, is a
    `ValueError` that says what to pass instead.
    """
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError as error:
        raise TypeError(
            f"`{name}` must be a tuple (height, width, channels); received "
            f"{shape!r}."
        ) from error
    if not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
        for s in shape
    ):
        raise ValueError(
            f"`{name}` must hold positive integers; received {shape!r}."
        )
    channels_last = keras.config.image_data_format() == "channels_last"
    order = "(height, width, channels)" if channels_last else "(channels, height, width)"
    if len(shape) == 2:
        example = (*shape, 1) if channels_last else (1, *shape)
        raise ValueError(
            f"`{name}` {shape!r} has no channel axis; images need {order}, e.g. "
            f"{example} for grey images (add the axis to the data too: "
            "`x[..., None]`)."
        )
    if len(shape) != 3:
        raise ValueError(
            f"`{name}` must be an image shape {order}; received {shape!r}. "
            f"{suggestion}"
        )
    return tuple(int(s) for s in shape)


def spatial_and_channels(shape):
    """`((height, width), channels)` of a checked image shape."""
    if keras.config.image_data_format() == "channels_last":
        return shape[:2], shape[2]
    return shape[1:], shape[0]
