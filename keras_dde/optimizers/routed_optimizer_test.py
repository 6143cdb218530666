import keras
import numpy as np
import pytest

from keras_dde.optimizers.routed_optimizer import RoutedOptimizer
from keras_dde.testing import run_serialization_test


def test_routes_each_variable_to_its_optimizer():
    a, b = keras.Variable(np.ones(2, "float32")), keras.Variable(np.ones(3, "float32"))
    router = RoutedOptimizer({"fast": keras.optimizers.SGD(1.0), "slow": keras.optimizers.SGD(0.1)})
    router.route("fast", [a])
    router.route("slow", [b])
    router.build([a, b])
    assert len(router.variables) > len(router.optimizers["fast"].variables)
    router.apply([np.ones(2, "float32"), np.ones(3, "float32")], [a, b])
    np.testing.assert_allclose(np.array(a), 0.0)
    np.testing.assert_allclose(np.array(b), 0.9)
    router.apply([np.ones(3, "float32")], [b])
    np.testing.assert_allclose(np.array(b), 0.8, atol=1e-6)
    assert int(router.iterations) == 1  # the first route's steps


def test_serialization():
    router = RoutedOptimizer({"g": keras.optimizers.Adam(1e-4), "d": "sgd"})
    revived = run_serialization_test(router)
    assert float(revived.optimizers["g"].learning_rate) == pytest.approx(1e-4)


def test_bad_routes():
    with pytest.raises(TypeError, match="optimizers"):
        RoutedOptimizer([keras.optimizers.SGD()])
    router = RoutedOptimizer({"g": "sgd"})
    with pytest.raises(ValueError, match="Unknown route"):
        router.route("d", [])
    with pytest.raises(ValueError, match="no route"):
        router.build([keras.Variable(np.ones(2, "float32"))])
