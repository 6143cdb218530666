import os

import imageio.v3 as iio
import numpy as np
import pytest
from matplotlib.figure import Figure

from keras_dde.utils.files import save_figure
from keras_dde.utils.files import write_gif
from keras_dde.utils.files import check_output_path


def frames(count, size=16):
    return [np.full((size, size + 4, 3), 20 * i, dtype=np.uint8) for i in range(count)]


def test_gif_round_trip(tmp_path):
    path = write_gif(frames(5), tmp_path / "a.gif", fps=20)
    read = iio.imread(path, index=None)
    assert read.shape[:3] == (5, 16, 20)
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]


def test_a_single_frame_gif(tmp_path):
    # A run interrupted in its first epoch has only the initial frame.
    path = write_gif(frames(1), tmp_path / "one.gif")
    assert iio.imread(path, index=None).shape[:3] == (1, 16, 20)


def test_failed_write_keeps_the_old_file_and_no_temporaries(tmp_path, monkeypatch):
    path = tmp_path / "a.gif"
    write_gif(frames(3), path)
    before = path.read_bytes()

    def broken(target, *args, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"GIF89a partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(iio, "imwrite", broken)
    with pytest.raises(KeyboardInterrupt):
        write_gif(frames(4), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]


def test_bad_frames(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        write_gif([], tmp_path / "a.gif")
    with pytest.raises(ValueError, match="same shape"):
        write_gif(frames(1, 8) + frames(1, 9), tmp_path / "a.gif")


def test_check_output_path(tmp_path):
    target = tmp_path / "new" / "dir" / "x.gif"
    nested = check_output_path(target, "gif_path", (".gif",))
    assert os.path.isdir(tmp_path / "new" / "dir") and nested.endswith("x.gif")
    with pytest.raises(ValueError, match="gif_path.*end with"):
        check_output_path(tmp_path / "x.png", "gif_path", (".gif",))
    with pytest.raises(ValueError, match="folder"):
        check_output_path(tmp_path, "gif_path")
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match="cannot be written"):
        check_output_path(blocker / "x.gif", "gif_path")
    with pytest.raises(TypeError, match="gif_path"):
        check_output_path(3, "gif_path")


def test_save_figure(tmp_path):
    figure = Figure(figsize=(1, 1), dpi=20)
    figure.add_subplot().plot([0, 1])
    path = save_figure(figure, tmp_path / "f.png")
    assert iio.imread(path).shape[:2] == (20, 20)
