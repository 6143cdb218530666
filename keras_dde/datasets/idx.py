"""IDX files, the format of MNIST and Fashion-MNIST, gzipped or not.

An IDX file is a 4-byte magic number, the dimensions, then the values:

    bytes 0-1   zero
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16,
                0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions k
    4 k bytes   the k dimensions, big-endian uint32
    the rest    prod(dims) values, big-endian, row-major

A gzipped file is recognised by its own magic bytes (1f 8b), not its name.
"""

import gzip
import os
import zlib

import numpy as np

_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path):
    """Reads an IDX file (e.g. MNIST's `train-images-idx3-ubyte[.gz]`).

    Args:
        path: str or path-like, an IDX file, gzipped or not.

    Returns:
        A numpy array of the file's shape and element type (native byte
        order), e.g. uint8 `(60000, 28, 28)` for MNIST training images.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: the file is not IDX (wrong magic number), is truncated,
            or is longer than its header says.

    Example:
    ```python
    folder = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist
    images = keras_dde.datasets.read_idx(f"{folder}/t10k-images-idx3-ubyte.gz")
    labels = keras_dde.datasets.read_idx(f"{folder}/t10k-labels-idx1-ubyte.gz")
    ```

    References:
        - [LeCun et al., the MNIST database](http://yann.lecun.com/exdb/mnist/)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"`path` must be the path of an IDX file (str); received {path!r}."
        )
    path = os.fspath(path)
    with open(path, "rb") as file:
        raw = file.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise ValueError(
                f"{path!r} is a damaged or truncated gzip file ({error}); "
                "download or copy it again."
            ) from error
    return parse_idx(raw, name=repr(path))


def parse_idx(raw, name="the IDX data"):
    """Parses the bytes of an (uncompressed) IDX file; see `read_idx`."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise ValueError(
            f"{name} is not an IDX file: its magic number is {raw[:4].hex() or 'missing'}, "
            "expected 00 00 <type: 08, 09, 0b, 0c, 0d or 0e> <ndim>. Pass an "
            "MNIST-style file such as 'train-images-idx3-ubyte(.gz)'."
        )
    dtype, ndim = _DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{name} is truncated: its header announces {ndim} dimensions but "
            f"the file has only {len(raw)} bytes."
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise ValueError(
            f"{name} is {problem}: shape {shape} of {dtype.name} needs "
            f"{expected} bytes, the file has {len(raw)}. Download or copy it again."
        )
    values = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))
