"""Data files for the command line: .npy and .csv, high-dimensional, bad values."""

import numpy as np

from keras_dde.cli.commands_test import FAST
from keras_dde.cli.commands_test import run
from keras_dde.cli.data import load_data
from keras_dde.cli.data import picture_plane


def test_high_dimensional_npy_and_csv_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(256, 4)).astype("float32")
    np.save(tmp_path / "d.npy", data)
    code, _, err = run(capsys, "train", str(tmp_path / "d.npy"), "--out",
                       str(tmp_path / "a"), *FAST)
    assert code == 0, err
    assert (tmp_path / "a" / "training.gif").exists()
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n" + "\n".join(f"{a},{b}" for a, b in data[:, :2]))
    code, _, err = run(capsys, "train", str(csv), "--out", str(tmp_path / "b"), *FAST)
    assert code == 0, err
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,nan\n")
    code, _, err = run(capsys, "train", str(bad), "--out", str(tmp_path / "c"), *FAST)
    assert code == 2 and "NaN" in err




def test_picture_plane_is_the_top_two_principal_directions():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(500, 3)) * [5.0, 0.1, 2.0] + [1.0, 2.0, 3.0]
    assert picture_plane(data[:, :2]) == (None, None)
    basis, origin = picture_plane(data)
    np.testing.assert_allclose(origin, data.mean(axis=0))
    np.testing.assert_allclose(np.abs(basis), [[1, 0, 0], [0, 0, 1]], atol=0.05)


def test_load_data_of_a_toy_is_seeded():
    first = load_data("rings", 100, seed=1)
    np.testing.assert_array_equal(first, load_data("rings", 100, seed=1))
    assert first.shape == (100, 2) and first.dtype == np.float32
