import keras
import numpy as np
import pytest
from keras import ops

from keras_dde.schedules import GeometricSigmaDecay


def test_decays_geometrically_to_the_floor():
    schedule = GeometricSigmaDecay(
        initial_sigma=1.0, floor_sigma=0.1, decay_rate=0.5, decay_steps=100
    )
    steps = np.array([0, 50, 100, 300, 332, 333, 10_000])
    values = ops.convert_to_numpy(schedule(steps))
    expected = np.maximum(0.1, 0.5 ** (steps / 100))
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    assert values[-1] == pytest.approx(0.1)


def test_round_trips_through_keras_serialization():
    schedule = GeometricSigmaDecay(0.8, 0.05, 0.9, 7)
    revived = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(schedule)
    )
    assert isinstance(revived, GeometricSigmaDecay)
    assert revived.get_config() == schedule.get_config()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(initial_sigma=0.0), ValueError, "initial_sigma"),
        (dict(floor_sigma=-1.0), ValueError, "floor_sigma"),
        (dict(floor_sigma=2.0), ValueError, "must not exceed"),
        (dict(decay_rate=1.5), ValueError, "decay_rate"),
        (dict(decay_rate="fast"), TypeError, "decay_rate"),
        (dict(decay_steps=0), ValueError, "decay_steps"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    arguments = dict(initial_sigma=1.0, floor_sigma=0.1, decay_rate=0.5, decay_steps=10)
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        GeometricSigmaDecay(**arguments)
