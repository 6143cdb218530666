"""Data-parallel training on the engines' own tools, on CPU logical devices.

Each case runs in a subprocess (device counts are fixed per process): it
trains the same model from the same weights on the same global batches with
one replica and with two, using plain SGD (Adam would hide a wrongly scaled
gradient), and returns the weights and losses. Two replicas must reproduce
one replica up to float rounding: each replica's mean loss contributes
`1 / replicas` of the global mean, and the noise of a global batch does not
depend on how it is split.

    python tests/test_data_parallel.py tensorflow dde   # prints JSON
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

REPLICAS = 2
BATCH_SIZE = 128
STEPS = 4


IMAGE_SHAPE = (8, 8, 1)
CASES = ["dde", "gan", "multiscale", "image"]


def _models(name):
    """A DDEModel, EnergyGAN, MultiScaleDDE or conv DDEModel (image tensors)
    with fixed initial weights, compiled with SGD."""
    import keras_dde

    keras.utils.set_random_seed(0)
    energy = lambda: keras_dde.models.energy_mlp(2, width=16, depth=2)  # noqa: E731
    if name in ("dde", "multiscale", "image"):
        if name == "dde":
            model = keras_dde.DDEModel(energy(), sigma=0.2, seed=1)
        elif name == "multiscale":
            network = keras_dde.models.conditional_energy_mlp(2, width=16, depth=2)
            model = keras_dde.MultiScaleDDE(network, sigma=0.2, sigma_max=2.0, seed=1)
        else:
            network = keras_dde.models.energy_convnet(
                IMAGE_SHAPE, filters=(4,), dense_width=8
            )
            model = keras_dde.DDEModel(network, sigma=0.3, seed=1)
        model.compile(optimizer=keras.optimizers.SGD(0.05), steps_per_execution=2)
        return model
    generator = keras_dde.models.generator_mlp(4, 2, width=16, depth=2)
    model = keras_dde.EnergyGAN(
        generator,
        keras_dde.DDEModel(energy(), sigma=0.3, seed=2),
        keras_dde.DDEModel(energy(), sigma=0.3, seed=3),
        seed=4,
    )
    model.compile(
        generator_optimizer=keras.optimizers.SGD(0.02),
        dde_optimizer=keras.optimizers.SGD(0.05),
        steps_per_execution=2,
    )
    return model


def _train(model):
    import keras_dde

    x = keras_dde.datasets.toy2d("8gaussians", BATCH_SIZE * STEPS, seed=0)
    if getattr(model, "feature_shape", None) == IMAGE_SHAPE:
        noise = np.random.default_rng(0).standard_normal((len(x), *IMAGE_SHAPE))
        x = np.tanh(noise).astype("float32")
    history = model.fit(x, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
    return {
        "weights": [np.asarray(w).tolist() for w in model.get_weights()],
        "losses": {k: v[-1] for k, v in history.history.items()},
    }


def _tensorflow_worker(name):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * REPLICAS
    )
    results = {"1": _train(_models(name))}
    strategy = tf.distribute.MirroredStrategy(
        [f"/cpu:{i}" for i in range(REPLICAS)]
    )
    with strategy.scope():
        model = _models(name)
    assert model.distribute_strategy.num_replicas_in_sync == REPLICAS
    results[str(REPLICAS)] = _train(model)
    return results


def _jax_worker(name):
    import jax

    assert jax.device_count() == REPLICAS, jax.devices()
    results = {"1": _train(_models(name))}
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=jax.devices())
    )
    model = _models(name)
    kernel = model.trainable_variables[0].value
    assert len(kernel.sharding.device_set) == REPLICAS
    results[str(REPLICAS)] = _train(model)
    return results


def _run_worker(backend, name):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    if backend == "jax":
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={REPLICAS}"
    result = subprocess.run(
        [sys.executable, __file__, backend, name],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _assert_same_training(results):
    one, two = results["1"], results[str(REPLICAS)]
    assert len(one["weights"]) == len(two["weights"])
    for a, b in zip(one["weights"], two["weights"]):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    assert set(one["losses"]) == set(two["losses"])
    for key, value in one["losses"].items():
        assert np.isfinite(value)
        np.testing.assert_allclose(two["losses"][key], value, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
@pytest.mark.tensorflow_only
@pytest.mark.parametrize("name", CASES)
def test_mirrored_strategy_two_replicas_equal_one(name):
    _assert_same_training(_run_worker("tensorflow", name))


@pytest.mark.slow
@pytest.mark.jax_only
@pytest.mark.parametrize("name", CASES)
def test_jax_data_parallel_two_devices_equal_one(name):
    _assert_same_training(_run_worker("jax", name))


if __name__ == "__main__":
    backend_name, model_name = sys.argv[1:3]
    worker = {"tensorflow": _tensorflow_worker, "jax": _jax_worker}[backend_name]
    print(json.dumps(worker(model_name)))
