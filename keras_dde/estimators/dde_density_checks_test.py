"""scikit-learn's own estimator checks, and the random state `fit` leaves alone."""

import random

import keras
import numpy as np
import pytest
from keras.src.random.seed_generator import global_seed_generator
from sklearn.utils.estimator_checks import parametrize_with_checks

from keras_dde.estimators import DDEDensity

# Small and fast: the checks test the estimator's API, not its accuracy.
TINY = dict(
    bandwidth=0.3,
    width=4,
    depth=1,
    steps=2,
    batch_size=16,
    log_z_method="is",
    log_z_samples=256,
    sample_steps=2,
    random_state=0,
)
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    [DDEDensity(**TINY)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def _global_random_states():
    states = {
        "numpy": np.random.get_state()[1].copy(),
        "python": random.getstate(),
        "keras": keras.ops.convert_to_numpy(_keras_global_seed_state()),
    }
    return states


def _keras_global_seed_state():
    # Keras has no public getter for the generator behind unseeded draws.
    return global_seed_generator().state.value


def test_fit_leaves_global_random_states_alone():
    """numpy's, Python's and Keras's global random states are untouched.

    (On PyTorch, Keras's own data loader still draws its base seed from
    torch's global generator; that draw does not reach the results.)
    """
    x = np.random.RandomState(1).normal(size=(64, 2)).astype("float32")
    keras.random.normal((1,))  # The global Keras seed generator exists.
    before = _global_random_states()
    estimator = DDEDensity(**TINY).fit(x)
    estimator.score_samples(x)
    after = _global_random_states()
    for name in before:
        if name == "python":
            assert before[name] == after[name], name
        else:
            np.testing.assert_array_equal(before[name], after[name], err_msg=name)
    # The fit itself is reproducible from `random_state` alone.
    np.random.seed(123)
    random.seed(123)
    again = DDEDensity(**TINY).fit(x)
    np.testing.assert_array_equal(estimator.score_samples(x), again.score_samples(x))


def test_score_samples_does_not_depend_on_batching():
    x = np.random.RandomState(2).normal(size=(600, 3)).astype("float32")
    estimator = DDEDensity(**TINY).fit(x)
    full = estimator.score_samples(x)
    # Rows alone, at positions all over the 256-row blocks, and a shifted subset.
    for index in range(0, 600, 23):
        assert estimator.score_samples(x[index : index + 1])[0] == full[index]
    np.testing.assert_array_equal(estimator.score_samples(x[13:]), full[13:])


def test_sparse_input_is_refused_clearly():
    from scipy import sparse

    with pytest.raises(TypeError, match="[Ss]parse data was passed.*dense data is required"):
        DDEDensity(**TINY).fit(sparse.csr_matrix(np.ones((10, 2))))
