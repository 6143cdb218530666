import gzip
import os

import numpy as np
import pytest

from keras_dde.datasets import fashion_mnist
from keras_dde.datasets import fashion_mnist_classes
from keras_dde.datasets import load_fashion_mnist


def _write_idx(path, array, compressed):
    raw = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    raw += array.astype("u1").tobytes()
    if compressed:
        path = path.with_name(path.name + ".gz")
        raw = gzip.compress(raw)
    path.write_bytes(raw)


def _write_split(folder, split, n, compressed=True, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28)).astype("uint8")
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = rng.integers(0, 10, size=n).astype("uint8")
    stem = "train" if split == "train" else "t10k"
    _write_idx(folder / f"{stem}-images-idx3-ubyte", images, compressed)
    _write_idx(folder / f"{stem}-labels-idx1-ubyte", labels, compressed)
    return images, labels


@pytest.mark.parametrize("compressed", [True, False])
def test_reads_a_folder_and_scales_pixels(tmp_path, compressed):
    images, labels = _write_split(tmp_path, "test", 5, compressed)
    x, y = load_fashion_mnist("test", path=tmp_path)
    assert x.shape == (5, 28, 28, 1) and x.dtype == np.float32
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_allclose(x[..., 0], images / 127.5 - 1.0, atol=1e-6)
    assert x[0, 0, 0, 0] == -1.0 and x[0, 0, 1, 0] == 1.0
    unit, _ = load_fashion_mnist("test", path=str(tmp_path), value_range=(0, 1))
    np.testing.assert_allclose(unit[..., 0], images / 255.0, atol=1e-6)


def test_path_is_the_only_place_searched_when_given(tmp_path):
    _write_split(tmp_path, "test", 3)
    with pytest.raises(FileNotFoundError, match="train.*not in `path`"):
        load_fashion_mnist("train", path=tmp_path)


def test_keras_cache_is_searched_after_debian(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", str(tmp_path / "no-debian"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    cache = tmp_path / "keras" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    _, labels = _write_split(cache, "train", 4, seed=3)
    np.testing.assert_array_equal(load_fashion_mnist("train")[1], labels)


def test_missing_data_names_both_ways_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "b"))
    monkeypatch.setattr(fashion_mnist, "KERAS_FALLBACK_HOME", str(tmp_path / "c"))
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist("test")
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "keras.datasets.fashion_mnist.load_data()" in message
    assert "path=" in message
    for folder in "abc":
        assert str(tmp_path / folder) in message


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_fashion_mnist("validation")
    with pytest.raises(TypeError, match="path"):
        load_fashion_mnist("train", path=3)
    with pytest.raises(ValueError, match="value_range"):
        load_fashion_mnist("train", value_range=(1, 0))
    with pytest.raises(TypeError, match="value_range"):
        load_fashion_mnist("train", value_range=1)


def test_files_of_the_wrong_shape_are_refused(tmp_path):
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 8, 8), "u1"), True)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(2, "u1"), True)
    with pytest.raises(ValueError, match=r"uint8 \(n, 28, 28\)"):
        load_fashion_mnist("test", path=tmp_path)
    _write_split(tmp_path, "test", 2)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3, "u1"), True)
    with pytest.raises(ValueError, match="2 labels"):
        load_fashion_mnist("test", path=tmp_path)


def test_the_real_debian_files():
    # CI installs Debian's dataset-fashion-mnist; a missing package fails here.
    assert os.path.isdir(fashion_mnist.DEBIAN_DIR), (
        "apt-get install dataset-fashion-mnist"
    )
    for split, n in (("train", 60000), ("test", 10000)):
        x, y = load_fashion_mnist(split)
        assert x.shape == (n, 28, 28, 1) and x.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64
        assert x.min() == -1.0 and x.max() == 1.0
        # Balanced classes: 6,000 / 1,000 images of each of the ten.
        np.testing.assert_array_equal(np.bincount(y), np.full(10, n // 10))
        # Published pixel statistics: mean 0.286, std 0.353 on [0, 1].
        unit = (x + 1) / 2
        assert abs(unit.mean() - 0.286) < 0.003 and abs(unit.std() - 0.353) < 0.003
    assert len(fashion_mnist_classes) == 10 and fashion_mnist_classes[9] == "Ankle boot"
