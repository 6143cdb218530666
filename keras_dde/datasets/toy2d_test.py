import numpy as np
import pytest

from keras_dde.datasets import toy2d
from keras_dde.datasets import toy2d_names

SEED_TUTORIAL_NAMES = ["8gaussians", "2spirals", "checkerboard", "rings"]


def test_seed_tutorial_sets_and_classics_are_available():
    names = toy2d_names()
    for name in SEED_TUTORIAL_NAMES + ["moons", "pinwheel", "swissroll", "circles"]:
        assert name in names


@pytest.mark.parametrize("name", toy2d_names())
@pytest.mark.parametrize("n", [1, 7, 1001])
def test_shape_dtype_and_finiteness(name, n):
    x = toy2d(name, n, seed=0)
    assert x.shape == (n, 2) and x.dtype == np.float32
    assert np.isfinite(x).all()


@pytest.mark.parametrize("name", toy2d_names())
def test_seeding(name):
    np.testing.assert_array_equal(toy2d(name, 500, seed=3), toy2d(name, 500, seed=3))
    assert not np.allclose(toy2d(name, 500, seed=3), toy2d(name, 500, seed=4))
    generator = np.random.default_rng(5)
    np.testing.assert_array_equal(
        toy2d(name, 100, seed=generator), toy2d(name, 100, seed=np.random.default_rng(5))
    )


@pytest.mark.parametrize("name", toy2d_names())
def test_extent_is_about_four_units(name):
    x = toy2d(name, 5000, seed=0)
    assert 1.0 < np.abs(x).max() < 6.0


def test_8gaussians_has_eight_equal_modes():
    x = toy2d("8gaussians", 16000, seed=0)
    radius = np.linalg.norm(x, axis=1)
    assert abs(np.median(radius) - 4 / 1.414) < 0.1
    sector = np.round(np.arctan2(x[:, 1], x[:, 0]) / (np.pi / 4)).astype(int) % 8
    counts = np.bincount(sector, minlength=8)
    assert counts.min() > 0.9 * 2000 and counts.max() < 1.1 * 2000


def test_rings_has_four_radii():
    radius = np.linalg.norm(toy2d("rings", 8000, seed=0), axis=1)
    # Radii 0.75, 1.5, 2.25 and 3, a quarter of the points each.
    histogram, _ = np.histogram(radius, bins=[0.0, 1.1, 1.9, 2.6, 5.0])
    assert (histogram > 1900).all() and (histogram < 2100).all()


def test_checkerboard_occupies_alternate_squares():
    x = toy2d("checkerboard", 4000, seed=0) / 2
    parity = (np.floor(x[:, 0]) + np.floor(x[:, 1])) % 2
    assert (parity == parity[0]).all()


@pytest.mark.parametrize(
    "args, error, match",
    [
        (("nope", 10), ValueError, "8gaussians"),
        ((3, 10), TypeError, "name"),
        (("rings", 0), ValueError, "`n`"),
        (("rings", -5), ValueError, "`n`"),
        (("rings", 2.5), TypeError, "`n`"),
    ],
)
def test_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        toy2d(*args)


def test_bad_seed():
    with pytest.raises(TypeError, match="seed"):
        toy2d("rings", 10, seed="x")
