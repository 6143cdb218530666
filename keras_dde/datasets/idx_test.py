import gzip

import numpy as np
import pytest

from keras_dde.datasets import read_idx


def _idx_bytes(array, type_code, dtype):
    header = bytes([0, 0, type_code, array.ndim])
    header += np.asarray(array.shape, ">u4").tobytes()
    return header + np.asarray(array, dtype).tobytes()


@pytest.mark.parametrize("compressed", [False, True])
def test_round_trip_of_uint8_images(tmp_path, compressed):
    images = np.arange(2 * 3 * 4, dtype="uint8").reshape(2, 3, 4) * 7
    raw = _idx_bytes(images, 0x08, "u1")
    path = tmp_path / ("x.gz" if compressed else "x")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    values = read_idx(path)
    assert values.dtype == np.uint8 and values.shape == (2, 3, 4)
    np.testing.assert_array_equal(values, images)
    values[0, 0, 0] = 1  # a writable copy, not a view of the file's bytes


def test_big_endian_types_come_back_in_native_order(tmp_path):
    for code, dtype, values in (
        (0x0B, ">i2", np.array([-300, 2, 32000])),
        (0x0C, ">i4", np.array([-(2**30), 5, 2**30])),
        (0x0D, ">f4", np.array([0.5, -1.25, 3e7])),
        (0x0E, ">f8", np.array([np.pi, -np.e])),
    ):
        path = tmp_path / f"t{code}"
        path.write_bytes(_idx_bytes(values, code, dtype))
        read = read_idx(str(path))
        assert read.dtype.isnative
        np.testing.assert_array_equal(read, values.astype(dtype))


def test_a_gzip_named_plain_file_is_read_by_content(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], "uint8")
    path = tmp_path / "labels.gz"
    path.write_bytes(_idx_bytes(labels, 0x08, "u1"))
    np.testing.assert_array_equal(read_idx(path), labels)


def test_wrong_magic_number(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(ValueError, match="not an IDX file.*magic number"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 0x42, 1]) + bytes(8))  # unknown type code
    with pytest.raises(ValueError, match="magic number"):
        read_idx(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="magic number is missing"):
        read_idx(path)


@pytest.mark.parametrize("compressed", [False, True])
def test_truncated_files(tmp_path, compressed):
    raw = _idx_bytes(np.zeros((10, 28, 28), "uint8"), 0x08, "u1")
    path = tmp_path / "cut"
    data = raw[:-100]
    path.write_bytes(gzip.compress(data) if compressed else data)
    with pytest.raises(ValueError, match=r"truncated: shape \(10, 28, 28\)"):
        read_idx(path)
    path.write_bytes(raw[:9])  # inside the dimensions
    with pytest.raises(ValueError, match="truncated: its header"):
        read_idx(path)
    path.write_bytes(raw + b"\x00")
    with pytest.raises(ValueError, match="longer than its header"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    packed = gzip.compress(_idx_bytes(np.ones((50, 28, 28), "uint8"), 0x08, "u1"))
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="truncated gzip"):
        read_idx(path)


def test_bad_path():
    with pytest.raises(TypeError, match="path"):
        read_idx(3)
    with pytest.raises(FileNotFoundError):
        read_idx("/nonexistent/train-images-idx3-ubyte")
