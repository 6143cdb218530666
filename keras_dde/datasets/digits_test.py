import numpy as np

from keras_dde.datasets import load_digits


def test_shape_range_and_labels():
    x, labels = load_digits(seed=0, return_labels=True)
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert sorted(set(labels.tolist())) == list(range(10))


def test_dequantization_is_seeded_and_stays_in_the_pixel_bin():
    a, b = load_digits(seed=1), load_digits(seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, load_digits(seed=2))
    plain = load_digits(dequantize=False)
    levels = plain * 16  # integer pixel values
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-5)
    # (pixel + u) / 17 with u in [0, 1) stays inside the pixel's bin.
    assert ((a * 17 >= levels - 1e-4) & (a * 17 < levels + 1 + 1e-4)).all()
