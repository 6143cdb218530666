"""Argument checks shared by the public API.

Each check raises a `TypeError` or `ValueError` that names the argument and
says how to fix it, before any long work starts.
"""

import math
import numbers

import numpy as np


def check_sigma(sigma, name="sigma"):
    """Returns `sigma` as a positive, finite python float."""
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real):
        raise TypeError(
            f"`{name}` must be a positive number (the noise standard deviation); "
            f"received {sigma!r} of type {type(sigma).__name__}."
        )
    sigma = float(sigma)
    if not math.isfinite(sigma) or sigma <= 0:
        raise ValueError(
            f"`{name}` must be a positive, finite number (the noise standard "
            f"deviation); received {sigma}."
        )
    return sigma


def check_positive_int(value, name):
    """Returns `value` as a python int >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be a positive integer; received {value!r} "
            f"of type {type(value).__name__}."
        )
    if value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer (1 or more); received {value}."
        )
    return int(value)


def is_array_like(x):
    """True for numpy arrays, nested lists and backend tensors."""
    if isinstance(x, (np.ndarray, list, tuple)):
        return True
    return hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "__array__")


def check_data(x, name="x", feature_shape=None):
    """Validates a data array and returns it as float32 numpy.

    Args:
        x: array-like of shape `(n_samples, *feature_shape)`.
        name: the argument's name, for error messages.
        feature_shape: the per-sample shape a model expects, or None.
    """
    try:
        array = np.asarray(x)
    except Exception as error:  # ragged lists and the like
        raise TypeError(
            f"`{name}` must be a numeric array of shape (n_samples, n_features); "
            f"it could not be converted to an array ({error})."
        ) from error
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == bool
    ):
        raise TypeError(
            f"`{name}` must hold numbers; received an array of dtype "
            f"{array.dtype}. Convert it first, e.g. `np.asarray({name}, "
            "dtype='float32')`, after encoding any text columns as numbers."
        )
    if array.ndim < 2:
        raise ValueError(
            f"`{name}` must have shape (n_samples, n_features); received shape "
            f"{array.shape}. For a single feature, pass `{name}.reshape(-1, 1)`."
        )
    if array.shape[0] == 0:
        raise ValueError(
            f"`{name}` is empty: it has shape {array.shape}; pass at least one "
            "sample."
        )
    array = array.astype("float32", copy=False)
    finite = np.isfinite(array)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.reshape(len(array), -1).all(axis=1))
        raise ValueError(
            f"`{name}` contains NaN or Inf values in {len(bad_rows)} of "
            f"{len(array)} samples (first at index {bad_rows[0]}); remove or "
            "impute them before training."
        )
    if feature_shape is not None and tuple(array.shape[1:]) != tuple(feature_shape):
        raise ValueError(
            f"`{name}` has per-sample shape {tuple(array.shape[1:])}, but the "
            f"model expects {tuple(feature_shape)}: pass data of that shape, or "
            f"build the model for {tuple(array.shape[1:])} (e.g. "
            f"`energy_mlp({int(np.prod(array.shape[1:]))})`)."
        )
    return array


def check_sample_weight(sample_weight, n_samples, name="sample_weight"):
    """Validates per-sample weights: shape `(n_samples,)`, finite, >= 0, not all 0."""
    weights = np.asarray(sample_weight)
    if not np.issubdtype(weights.dtype, np.number):
        raise TypeError(f"`{name}` must hold numbers; received dtype {weights.dtype}.")
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights[:, 0]
    weights = weights.astype("float32")
    if weights.shape != (n_samples,):
        raise ValueError(
            f"`{name}` must have shape ({n_samples},), one weight per sample; "
            f"received shape {np.shape(sample_weight)}."
        )
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(
            f"`{name}` must be finite and non-negative; it has NaN, Inf or "
            "negative values."
        )
    if not weights.any():
        raise ValueError(
            f"`{name}` is zero for every sample: give some samples a positive "
            "weight."
        )
    return weights


def check_seed(seed, name="seed"):
    """`seed` (None, an int or a `keras.random.SeedGenerator`) as a generator."""
    import keras

    if isinstance(seed, keras.random.SeedGenerator):
        return seed
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
    ):
        raise TypeError(f"`{name}` must be None or an int; received {seed!r}.")
    return keras.random.SeedGenerator(seed)
