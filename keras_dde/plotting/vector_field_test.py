import numpy as np
import pytest
from matplotlib.figure import Figure

import keras_dde
from keras_dde.plotting import plot_vector_field
from keras_dde.plotting import score_grid


def toward(center):
    center = np.asarray(center, dtype="float32")
    return lambda x: center - np.asarray(x)  # score of -|x - c|^2 / 2


def test_score_grid_points_toward_the_mode():
    grad_u, grad_v = score_grid(toward([1.0, 0.0]), (-2, 2, -2, 2), 5)
    xs = np.linspace(-2, 2, 5)
    np.testing.assert_allclose(grad_u, np.tile(1.0 - xs, (5, 1)))
    np.testing.assert_allclose(grad_v, -np.tile(xs[:, None], (1, 5)))


def test_tangent_of_a_slanted_plane_is_the_directional_derivative():
    score = toward([1.0, 2.0, 3.0])
    plane = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    grad_u, grad_v = score_grid(score, (0, 0.0001, 0, 0.0001), 2, plane=plane,
                                feature_shape=(3,))
    # At the origin the score is (1, 2, 3): along (1, 1, 0) -> 3, along z -> 3.
    np.testing.assert_allclose([grad_u[0, 0], grad_v[0, 0]], [3.0, 3.0], atol=1e-3)


@pytest.mark.parametrize("style", ["quiver", "stream"])
def test_styles_render(style):
    rgb = plot_vector_field(toward([0.0, 0.0]), style=style, resolution=9,
                            as_array=True, dpi=40)
    assert rgb.shape == (160, 160, 3)
    assert rgb.std() > 0


def test_dde_model_with_density_background():
    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=8, depth=1),
                             sigma=0.2, seed=0)
    figure = plot_vector_field(dde, resolution=6, background_resolution=12,
                               title="field")
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    assert len(ax.images) == 1 and len(ax.collections) == 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="style"):
        plot_vector_field(toward([0, 0]), style="arrows")
    with pytest.raises(ValueError, match="background"):
        plot_vector_field(toward([0, 0]), background="energy")
    with pytest.raises(ValueError, match="plane"):
        plot_vector_field(toward([0, 0, 0]), feature_shape=(3,))
    with pytest.raises(TypeError, match="score"):
        plot_vector_field(42)
