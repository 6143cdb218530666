"""Two JAX processes on localhost train as one process on the same batches.

Each process joins with `jax.distributed.initialize` (CPU collectives:
gloo), sets `keras.distribution.DataParallel` over `jax.devices()` (both
processes' devices) and fits its own half of every global batch. Both
processes must end with bit-identical weights, equal (to float rounding) to
one process fitting the whole global batches. The models start from the same
weights (`keras.utils.set_random_seed` on every process) and train with plain
SGD; `MultiScaleDDE` has `sigma_max=None` and a Gaussian base, so its data
statistics, its `sigma_max` and its base must be the global ones. Each
worker's `DDEModel` reads its share from a memory-mapped `.npy` of its own
(batch by batch, as a `keras.utils.PyDataset`); after training, both
processes' `MultiScaleDDE` give the same log Z, log densities and samples.

    python tests/test_multiprocess.py worker PROCESS_ID PORT OUT.json
    python tests/test_multiprocess.py reference OUT.json

The workers join through `keras_dde.utils.processes.initialize`, which
raises a clear `TimeoutError` when the coordinator cannot be reached.
"""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

PROCESSES = 2
GLOBAL_BATCH = 64
STEPS = 4
CASES = ("dde", "multiscale", "gan")
# Variables that only the log Z proposal uses: a Gaussian mixture fitted by
# EM to the gathered rows, which the two runs see in a different order.
ORDER_DEPENDENT = ("mixture_",)


def free_port():
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def build_model(name):
    """A small DDEModel, MultiScaleDDE or EnergyGAN, compiled with SGD."""
    import keras

    import keras_dde

    keras.utils.set_random_seed(0)
    energy = lambda: keras_dde.models.energy_mlp(2, width=16, depth=2)  # noqa: E731
    if name == "dde":
        model = keras_dde.DDEModel(energy(), sigma=0.2, seed=1)
    elif name == "multiscale":
        network = keras_dde.models.conditional_energy_mlp(2, width=16, depth=2)
        model = keras_dde.MultiScaleDDE(network, sigma=0.2, seed=1)
    else:
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
        )
        return model
    model.compile(optimizer=keras.optimizers.SGD(0.05))
    return model


def global_data():
    import keras_dde

    return keras_dde.datasets.toy2d("8gaussians", GLOBAL_BATCH * STEPS, seed=0)


def local_share(x, process_id):
    """This process's half of every global batch, in batch order."""
    share = GLOBAL_BATCH // PROCESSES
    batches = x.reshape(STEPS, GLOBAL_BATCH, -1)
    return batches[:, process_id * share : (process_id + 1) * share].reshape(
        -1, x.shape[1]
    )


def _numpy(variable):
    value = variable.value
    shards = getattr(value, "addressable_shards", None)
    if shards:  # a replicated global array: this process's copy
        value = shards[0].data
    return np.asarray(value)


def train(name, x, batch_size):
    start = time.perf_counter()
    model = build_model(name)
    history = model.fit(x, batch_size=batch_size, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    variables = model.variables
    result = {
        "names": [v.path for v in variables],
        "weights": [_numpy(v).tolist() for v in variables],
        "losses": {k: float(v[-1]) for k, v in history.history.items()},
        "seconds": seconds,
    }
    if name == "multiscale":
        start = time.perf_counter()
        result.update(use(model))
        result["use_seconds"] = time.perf_counter() - start
    return result


def use(model):
    """What a fitted model is for: log Z, log densities and samples."""
    import keras_dde

    points = keras_dde.datasets.toy2d("8gaussians", 8, seed=5)
    log_z, stderr = model.log_partition(n_samples=2000, seed=0, verbose=0)
    samples = model.sample(8, n_levels=1, steps_per_level=3, seed=0, verbose=0)
    return {
        "log_z": [float(log_z), float(stderr)],
        "log_prob": np.asarray(model.log_prob(points)).tolist(),
        "samples": np.asarray(samples).tolist(),
    }


def worker(process_id, port, out):
    import jax
    import keras

    from keras_dde.utils import processes

    processes.initialize(f"localhost:{port}", PROCESSES, process_id, timeout=120)

    assert jax.process_count() == PROCESSES and jax.device_count() == PROCESSES
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=jax.devices(), auto_shard_dataset=False)
    )
    x = local_share(global_data(), process_id)
    # The DDE reads its share from a memory-mapped file of its own (a
    # `keras.utils.PyDataset` of batches, its statistics in one pass).
    path = os.path.join(os.path.dirname(out), f"share{process_id}.npy")
    np.save(path, x)
    inputs = {"dde": np.load(path, mmap_mode="r")}
    results = {
        name: train(name, inputs.get(name, x), GLOBAL_BATCH // PROCESSES)
        for name in CASES
    }
    with open(out, "w") as file:
        json.dump(results, file)


def reference(out):
    results = {name: train(name, global_data(), GLOBAL_BATCH) for name in CASES}
    with open(out, "w") as file:
        json.dump(results, file)


def _environment():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.pathsep.join(
        [root] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    )
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    return env


def run_processes(tmp_path):
    """Starts two workers and a one-process reference; returns their JSON."""
    port, env = free_port(), _environment()
    commands = [
        ["worker", str(i), str(port), str(tmp_path / f"worker{i}.json")]
        for i in range(PROCESSES)
    ] + [["reference", str(tmp_path / "reference.json")]]
    running = [
        subprocess.Popen(
            [sys.executable, __file__, *command], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for command in commands
    ]
    for process in running:
        try:
            output, _ = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            for other in running:
                other.kill()
            raise
        assert process.returncode == 0, output[-4000:]
    return [json.loads(open(command[-1]).read()) for command in commands]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return run_processes(tmp_path_factory.mktemp("multiprocess"))


@pytest.mark.slow
@pytest.mark.jax_only
@pytest.mark.parametrize("name", CASES)
def test_two_processes_match_each_other_and_one_process(runs, name):
    *workers, one = (run[name] for run in runs)
    first = workers[0]
    for other in workers[1:]:
        assert other["names"] == first["names"]
        for path, a, b in zip(first["names"], first["weights"], other["weights"]):
            np.testing.assert_array_equal(np.asarray(b), np.asarray(a), err_msg=path)
    assert first["names"] == one["names"]
    for path, a, b in zip(one["names"], one["weights"], first["weights"]):
        assert np.all(np.isfinite(a)), path
        if any(part in path for part in ORDER_DEPENDENT):
            continue
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5, err_msg=path)
    for key, value in one["losses"].items():
        np.testing.assert_allclose(first["losses"][key], value, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
@pytest.mark.jax_only
def test_log_partition_log_prob_and_sample_after_two_processes(runs):
    # Both processes estimate the same log Z, densities and samples, bit for
    # bit. Against one process, log Z (importance sampling from the mixture,
    # fitted by EM to the rows in another order) agrees within its standard
    # errors, and log Z + log p(x), the energy, to float rounding.
    *workers, one = (run["multiscale"] for run in runs)
    for other in workers[1:]:
        for key in ("log_z", "log_prob", "samples"):
            np.testing.assert_array_equal(other[key], workers[0][key], err_msg=key)
    (log_z, stderr), (log_z_one, stderr_one) = workers[0]["log_z"], one["log_z"]
    assert abs(log_z - log_z_one) < 3 * np.hypot(stderr, stderr_one)
    np.testing.assert_allclose(
        np.asarray(workers[0]["log_prob"]) + log_z,
        np.asarray(one["log_prob"]) + log_z_one, rtol=1e-4, atol=1e-4,
    )
    assert np.isfinite(workers[0]["samples"]).all()


@pytest.mark.jax_only
def test_unreachable_coordinator_raises_within_the_timeout():
    from keras_dde.utils import processes

    address = f"localhost:{free_port()}"  # nothing listens there
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="coordinator at " + address):
        processes.initialize(address, num_processes=2, process_id=1, timeout=1.5)
    assert time.monotonic() - start < 10


def _unfitted(name):
    """A model of `CASES` and a little data (refused before training)."""
    import keras_dde

    return build_model(name), keras_dde.datasets.toy2d("8gaussians", 64, seed=0)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("name", CASES)
def test_several_tensorflow_workers_are_refused_before_training(monkeypatch, name):
    model, x = _unfitted(name)
    cluster = {"worker": ["localhost:12345", "localhost:23456"]}
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}})
    )
    weights = [np.array(w) for w in model.get_weights()]
    with pytest.raises(RuntimeError) as error:
        model.fit(x, batch_size=32, verbose=0)
    for part in ("MultiWorkerMirroredStrategy", "keras-team/keras#20585", "JAX"):
        assert part in str(error.value)
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(after, before)


@pytest.mark.tensorflow_only
def test_a_multi_worker_strategy_of_several_workers_is_refused(monkeypatch):
    class Resolver:
        def cluster_spec(self):
            class Spec:
                def as_dict(self):
                    return {"chief": ["a:1"], "worker": ["b:1", "c:1"]}

            return Spec()

    class FakeMultiWorkerMirroredStrategy:
        cluster_resolver = Resolver()

    model, x = _unfitted("dde")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.setattr(model, "_distribute_strategy", FakeMultiWorkerMirroredStrategy())
    with pytest.raises(RuntimeError, match=r"\(3 in the cluster\).*MultiWorker"):
        model.fit(x, batch_size=32, verbose=0)


@pytest.mark.torch_only
@pytest.mark.parametrize("name", CASES)
def test_several_torch_processes_are_refused_before_training(monkeypatch, name):
    import torch.distributed as dist

    model, x = _unfitted(name)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 2)
    with pytest.raises(RuntimeError, match="several PyTorch processes.*world size of 2.*JAX"):
        model.fit(x, batch_size=32, verbose=0)
    monkeypatch.undo()
    model.fit(x, batch_size=32, epochs=1, verbose=0)  # one process trains


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        worker(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        reference(sys.argv[2])
