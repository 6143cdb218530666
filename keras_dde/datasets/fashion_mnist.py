"""Fashion-MNIST, read offline from IDX files already on the machine."""

import os

import numpy as np

from keras_dde.datasets.idx import read_idx

#: Where Debian's `dataset-fashion-mnist` package installs the files.
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
#: Keras's cache home when `$KERAS_HOME` (or `~/.keras`) is not writable.
KERAS_FALLBACK_HOME = os.path.join("/tmp", ".keras")

#: The ten classes, in label order.
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def load_fashion_mnist(split="train", path=None, value_range=(-1.0, 1.0)):
    """Zalando's Fashion-MNIST: 28x28 grey images of ten kinds of garment.

    Nothing is downloaded. The standard IDX files (gzipped or not) are read
    from the first of:

    1. `path`, a folder, when given (and only there);
    2. `/usr/share/datasets/fashion-mnist`, where Debian's
       `dataset-fashion-mnist` package puts them (MIT licensed);
    3. Keras's dataset cache, `$KERAS_HOME/datasets/fashion-mnist` (default
       `~/.keras/datasets/fashion-mnist`), where
       `keras.datasets.fashion_mnist.load_data()` stores its download.

    Pixels 0..255 are mapped linearly onto `value_range`, by default
    [-1, 1]. A DDE's `sigma` is in data units: on [-1, 1] a pixel's standard
    deviation over the data set is about 0.7, so the data have the unit-order
    scale of the 2-D toys, the default initialisers and learning rates behave
    as there, and `sigma` 0.1-0.5 means what it means on the toys. A
    generator's `tanh` output (`generator_convnet`'s default) covers exactly
    this range. On [0, 1] halve every `sigma`.

    Args:
        split: "train" (60,000 images) or "test" (10,000).
        path: None, or a folder holding `train-images-idx3-ubyte[.gz]`,
            `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`
            and `t10k-labels-idx1-ubyte[.gz]`.
        value_range: `(low, high)`, the values of pixels 0 and 255.

    Returns:
        `(images, labels)`: float32 `(n, 28, 28, 1)` and int64 `(n,)` in
        0..9 (see `CLASS_NAMES`).

    Example:
    ```python
    images, labels = keras_dde.datasets.load_fashion_mnist("train")
    dde = keras_dde.DDEModel(keras_dde.models.energy_convnet(), sigma=0.3)
    dde.compile()
    dde.fit(images[:6400], epochs=1, batch_size=64)
    ```

    References:
        - [Xiao et al., 2017](https://arxiv.org/abs/1708.07747)
    """
    if split not in _FILES:
        raise ValueError(f'`split` must be "train" or "test"; received {split!r}.')
    low, high = _check_range(value_range)
    folder = _find_folder(split, path)
    image_file, label_file = (_find_file(folder, name) for name in _FILES[split])
    images, labels = read_idx(image_file), read_idx(label_file)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(
            f"{image_file!r} is not a Fashion-MNIST image file: it holds "
            f"{images.dtype} of shape {images.shape}, expected uint8 (n, 28, 28)."
        )
    if labels.shape != images.shape[:1] or labels.size and labels.max() > 9:
        raise ValueError(
            f"{label_file!r} does not match {image_file!r}: expected "
            f"{len(images)} labels in 0..9, found shape {labels.shape}."
        )
    scale = np.float32((high - low) / 255.0)
    images = images[..., None].astype("float32") * scale + np.float32(low)
    return images, labels.astype("int64")


def candidate_folders(path=None):
    """The folders searched, in order (only `path` when it is given)."""
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"`path` must be a folder (str); received {path!r}.")
        return [os.fspath(path)]
    if "KERAS_HOME" in os.environ:
        keras_home = os.environ["KERAS_HOME"]
    else:
        keras_home = os.path.join(os.path.expanduser("~"), ".keras")
    cache = os.path.join("datasets", "fashion-mnist")
    return [
        DEBIAN_DIR,
        os.path.join(os.path.expanduser(keras_home), cache),
        os.path.join(KERAS_FALLBACK_HOME, cache),
    ]


def _find_folder(split, path):
    folders = candidate_folders(path)
    for folder in folders:
        if all(_find_file(folder, name, required=False) for name in _FILES[split]):
            return folder
    wanted = " and ".join(f"{name}[.gz]" for name in _FILES[split])
    if path is not None:
        raise FileNotFoundError(
            f"Fashion-MNIST's {split} files ({wanted}) are not in `path`="
            f"{folders[0]!r}. Pass the folder that holds them, or pass no "
            "`path` to use Debian's package or Keras's cache."
        )
    raise FileNotFoundError(
        f"Fashion-MNIST's {split} files ({wanted}) were not found in "
        f"{', '.join(repr(f) for f in folders)}. Get them either way, then "
        "call again:\n"
        "  - install Debian's package: `sudo apt-get install "
        "dataset-fashion-mnist` (puts them in /usr/share/datasets/fashion-mnist);\n"
        "  - or download them once with `keras.datasets.fashion_mnist.load_data()` "
        "(Keras's cache), or copy the IDX files into a folder and pass `path=`.\n"
        "keras-dde itself never downloads."
    )


def _find_file(folder, name, required=True):
    # MNIST mirrors also spell the files 'train-images.idx3-ubyte'.
    dotted = name.replace("-idx", ".idx")
    for candidate in (name + ".gz", name, dotted + ".gz", dotted):
        full = os.path.join(folder, candidate)
        if os.path.isfile(full):
            return full
    if required:
        raise FileNotFoundError(f"{name}[.gz] is not in {folder!r}.")
    return None


def _check_range(value_range):
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError) as error:
        raise TypeError(
            "`value_range` must be a pair (low, high) of numbers, e.g. (-1, 1); "
            f"received {value_range!r}."
        ) from error
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"`value_range` must be finite with low < high; received {value_range!r}."
        )
    return low, high
