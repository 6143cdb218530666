"""Data and run folders for the command line: a toy name or a file, checked."""

import os

import numpy as np

from keras_dde.cli.parser import UsageError
from keras_dde.cli.parser import is_image_data
from keras_dde.datasets import load_fashion_mnist
from keras_dde.datasets import toy2d
from keras_dde.datasets import toy2d_names
from keras_dde.models.state.data_statistics import moments_of
from keras_dde.training.memmap_batches import MemmapBatches
from keras_dde.utils.files import check_output_path
from keras_dde.utils.validation import check_data


def one_line(error):
    """The message of `error` on one line (its type's name if empty)."""
    return " ".join(str(error).split()) or type(error).__name__


# `.npy` files larger than this are memory-mapped by `train` rather than read.
MEMMAP_MIN_BYTES = 256 * 2**20
# Rows of a memory-mapped file drawn for the pictures (the fit reads them all).
PICTURE_ROWS = 20000


def load_data(spec, n_samples, seed, memory_map=False):
    """A named toy, an image data set or a .npy/.csv file; UsageError if bad.

    Toys and files come as float32 `(n, d)`; `fashion-mnist` as its first
    `n_samples` (None: all) training images, float32 `(n, 28, 28, 1)` in
    [-1, 1], read offline (a missing data set raises the loader's error,
    which names the ways to get it). With `memory_map`, a float32 `.npy`
    file of `(n, d)` larger than `MEMMAP_MIN_BYTES` comes as a read-only
    `np.memmap`: `fit` reads it batch by batch and checks each batch, so
    a file larger than memory trains (`train` and `gan`; the pictures then
    show `PICTURE_ROWS` of its rows, `picture_rows`).
    """
    lower = spec.lower()
    if is_image_data(spec):
        images, _ = load_fashion_mnist("train")
        return images if n_samples is None else images[:n_samples]
    if not lower.endswith((".npy", ".csv")):
        if spec not in toy2d_names():
            raise UsageError(
                f"unknown data set {spec!r}: give a .npy or .csv file, "
                f"fashion-mnist, or one of {', '.join(toy2d_names())}"
            )
        return toy2d(spec, n_samples, seed=seed)
    if not os.path.isfile(spec):
        raise UsageError(f"data file not found: {spec!r}")
    try:
        if lower.endswith(".npy"):
            array = np.load(spec, mmap_mode="r", allow_pickle=False)
            if memory_map and _streamable(array):
                return array
            array = np.asarray(array)
        else:
            array = _load_csv(spec)
    except (OSError, ValueError) as error:
        if lower.endswith(".npy"):
            # numpy's own message talks about pickles, which misleads here.
            raise UsageError(
                f"cannot read {spec!r}: it is not a .npy file of numbers; write "
                "one with numpy.save(path, array)"
            ) from error
        raise UsageError(f"cannot read {spec!r}: {one_line(error)}") from error
    if getattr(array, "ndim", 0) < 2:
        # As `DDEModel.fit` and `DDEDensity.fit`: 1-D data is refused, not
        # guessed to be one feature (the pictures need two anyway).
        raise UsageError(
            f"{spec!r} has shape {getattr(array, 'shape', ())}; the data must "
            "have shape (n_samples, n_features) with at least 2 features"
        )
    if array.ndim > 2:
        array = array.reshape(len(array), -1)
    try:
        array = check_data(array, spec)
    except (TypeError, ValueError) as error:
        raise UsageError(one_line(error)) from error
    if array.shape[1] < 2:
        raise UsageError(
            f"{spec!r} has {array.shape[1]} feature; the command line draws "
            "2-D pictures and needs data with at least 2 features"
        )
    return array


def _streamable(array):
    return (
        array.ndim == 2 and array.dtype == np.float32 and array.shape[1] >= 2
        and array.nbytes > MEMMAP_MIN_BYTES
    )


def data_covariance(data, chunk=65536):
    """The covariance of the rows of `data` (as `np.cov`, divided by n - 1);
    a memory-mapped file is read `chunk` rows at a time."""
    if not isinstance(data, np.memmap):
        return np.cov(data.reshape(len(data), -1), rowvar=False)
    moments = moments_of(MemmapBatches(data, chunk))
    return moments.scatter / (moments.count - 1)


def picture_rows(data, seed=0):
    """`data`, or for a memory-mapped file `PICTURE_ROWS` of its rows, in memory."""
    if not isinstance(data, np.memmap) or len(data) <= PICTURE_ROWS:
        return np.asarray(data)
    rows = np.sort(np.random.default_rng(seed).choice(len(data), PICTURE_ROWS, replace=False))
    return np.asarray(data[rows])


def _load_csv(path):
    with open(path) as handle:
        first = handle.readline()
    try:
        [float(v) for v in first.strip().split(",") if v.strip()]
        skip = 0
    except ValueError:
        skip = 1  # a header line
    return np.loadtxt(path, delimiter=",", skiprows=skip, dtype="float64", ndmin=2)


def prepare_out(out, overwrite):
    """Creates the run folder; refuses a non-empty one unless `overwrite`."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} exists and is not a folder")
    if os.path.isdir(out) and os.listdir(out) and not overwrite:
        raise UsageError(
            f"--out {out!r} exists and is not empty; pass --overwrite to write "
            "into it"
        )
    try:
        check_output_path(os.path.join(out, "model.keras"), "--out")
    except ValueError as error:
        raise UsageError(one_line(error)) from error
    return os.path.abspath(out)


def picture_plane(data):
    """None for 2-D data; else the top two principal components through the mean."""
    if data.shape[1] == 2:
        return None, None
    mean = data.mean(axis=0)
    _, _, vt = np.linalg.svd(data - mean, full_matrices=False)
    basis = vt[:2]
    if len(basis) < 2:
        raise UsageError("the data needs at least 2 features to be drawn")
    return basis, mean
