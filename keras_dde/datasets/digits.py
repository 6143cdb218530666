from keras_dde.datasets.toy2d import _generator


def load_digits(dequantize=True, seed=None, return_labels=False):
    """scikit-learn's bundled 8x8 handwritten digits as 64-d real data.

    The 1,797 images ship with scikit-learn, so nothing is downloaded. Pixel
    values 0..16 are mapped to [0, 1]. With `dequantize`, uniform noise
    spreads each integer level over its bin, `(pixel + u) / 17`, the usual
    preparation for density estimation on discrete data.

    Args:
        dequantize: bool, add uniform dequantization noise.
        seed: None, an int or a `numpy.random.Generator`, for the noise.
        return_labels: bool, also return the int labels 0..9.

    Returns:
        float32 array `(1797, 64)`, or `(x, labels)` with `return_labels`.

    Example:
    ```python
    x, labels = keras_dde.datasets.load_digits(seed=0, return_labels=True)
    ```

    References:
        - [UCI optical recognition of handwritten digits](https://archive.ics.uci.edu/dataset/80)
    """
    from sklearn.datasets import load_digits as sklearn_load_digits

    bunch = sklearn_load_digits()
    pixels = bunch.data.astype("float64")
    if dequantize:
        pixels = (pixels + _generator(seed).random(pixels.shape)) / 17.0
    else:
        pixels = pixels / 16.0
    x = pixels.astype("float32")
    if return_labels:
        return x, bunch.target.astype("int64")
    return x
