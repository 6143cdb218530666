"""`keras.callbacks.BackupAndRestore` resumes a killed run exactly.

For `DDEModel`, `MultiScaleDDE` (`sigma_max=None`, Gaussian base, weight
averaging) and `EnergyGAN`, a worker process trains with a backup at every
epoch's end and is killed by a real SIGKILL in the middle of its third epoch.
A new process builds the same model and fits again with the same callback:
it resumes from the last backup (the start of the third epoch) and must end
with the same weights, optimizer state and noise stream (the seed
generators' states) as an uninterrupted run, bit for bit. `shuffle=False`:
Keras does not restore its shuffling's random state.

    python tests/test_resume.py kill MODEL BACKUP_DIR
    python tests/test_resume.py resume BACKUP_ROOT OUT.json
"""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

CASES = ("dde", "multiscale", "gan")
EPOCHS = 4
BATCH_SIZE = 32
STEPS = 4  # per epoch; the batch hooks run every 2 steps
KILL_EPOCH = 2  # 0-based: after the backups of epochs 0 and 1


def build_model(name):
    import keras

    import keras_dde

    keras.utils.set_random_seed(0)
    energy = lambda: keras_dde.models.energy_mlp(2, width=8, depth=1)  # noqa: E731
    if name == "dde":
        model = keras_dde.DDEModel(energy(), sigma=0.2, seed=1)
    elif name == "multiscale":
        network = keras_dde.models.conditional_energy_mlp(2, width=8, depth=1)
        model = keras_dde.MultiScaleDDE(network, sigma=0.2, seed=1)
    else:
        generator = keras_dde.models.generator_mlp(4, 2, width=8, depth=1)
        model = keras_dde.EnergyGAN(
            generator,
            keras_dde.DDEModel(energy(), sigma=0.3, seed=2),
            keras_dde.DDEModel(energy(), sigma=0.3, seed=3),
            seed=4,
        )
        model.compile(
            generator_optimizer=keras.optimizers.Adam(1e-3),
            dde_optimizer=keras.optimizers.Adam(1e-3),
            steps_per_execution=2,
        )
        return model
    model.compile(optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=2)
    return model


def data():
    import keras_dde

    return keras_dde.datasets.toy2d("8gaussians", BATCH_SIZE * STEPS, seed=0)


def state(model):
    """Every variable of the model and of its optimizers, by path."""
    import keras
    from keras import ops

    variables = list(model.variables)
    for value in vars(model).values():
        if isinstance(value, keras.optimizers.Optimizer):
            seen = {id(v) for v in variables}
            variables += [v for v in value.variables if id(v) not in seen]
    return {
        f"{i}:{v.path.split('/', 1)[-1]}": np.asarray(ops.convert_to_numpy(v)).tolist()
        for i, v in enumerate(variables)
    }


def fit(model, callbacks=()):
    return model.fit(
        data(), batch_size=BATCH_SIZE, epochs=EPOCHS, shuffle=False, verbose=0,
        callbacks=list(callbacks),
    )


def kill(name, backup_dir):
    """Trains with backups and kills itself (SIGKILL) mid-epoch."""
    import keras

    class Kill(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == KILL_EPOCH:
                os.kill(os.getpid(), signal.SIGKILL)

    fit(build_model(name), [keras.callbacks.BackupAndRestore(backup_dir), Kill()])
    raise AssertionError("not killed")


def resume(root, out):
    """Resumes every case from its backup, and trains it uninterrupted."""
    import keras

    results = {}
    for name in CASES:
        model = build_model(name)
        backup = keras.callbacks.BackupAndRestore(os.path.join(root, name))
        history = fit(model, [backup])
        resumed_epochs = len(next(iter(history.history.values())))
        results[name] = {
            "resumed": state(model),
            "resumed_epochs": resumed_epochs,
            "uninterrupted": state(fit_uninterrupted(name)),
        }
    with open(out, "w") as file:
        json.dump(results, file)


def fit_uninterrupted(name):
    model = build_model(name)
    fit(model)
    return model


def _run(args, backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(
        [root] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    )
    if backend == "torch":
        env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.Popen(
        [sys.executable, __file__, *args], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    import keras

    backend = keras.backend.backend()
    root = tmp_path_factory.mktemp("backups")
    killed = [_run(["kill", name, str(root / name)], backend) for name in CASES]
    for process in killed:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == -signal.SIGKILL, output[-3000:]
    for name in CASES:
        assert (root / name / "latest.weights.h5").exists()
        metadata = json.loads((root / name / "training_metadata.json").read_text())
        assert metadata["epoch"] == KILL_EPOCH
    out = root / "resumed.json"
    process = _run(["resume", str(root), str(out)], backend)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-3000:]
    return json.loads(out.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_a_killed_run_resumes_to_the_uninterrupted_state(resumed, name):
    result = resumed[name]
    assert result["resumed_epochs"] == EPOCHS - KILL_EPOCH
    resumed_state, uninterrupted = result["resumed"], result["uninterrupted"]
    assert list(resumed_state) == list(uninterrupted)
    assert any("seed_generator" in path for path in uninterrupted)
    assert any("iteration" in path for path in uninterrupted)
    for path, value in uninterrupted.items():
        np.testing.assert_array_equal(
            np.asarray(resumed_state[path]), np.asarray(value), err_msg=path
        )


@pytest.mark.parametrize("other", ["multiscale", "gan"])
def test_a_backup_of_another_model_is_refused_and_left_intact(tmp_path, other):
    import keras

    backup = keras.callbacks.BackupAndRestore(str(tmp_path), delete_checkpoint=False)
    build_model("dde").fit(data(), batch_size=BATCH_SIZE, verbose=0, callbacks=[backup])
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert "latest.weights.h5" in files
    model = build_model(other)
    backup = keras.callbacks.BackupAndRestore(str(tmp_path), delete_checkpoint=False)
    with pytest.raises(ValueError, match="is not a backup of this") as error:
        model.fit(data(), batch_size=BATCH_SIZE, verbose=0, callbacks=[backup])
    assert str(tmp_path) in str(error.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files


if __name__ == "__main__":
    if sys.argv[1] == "kill":
        kill(sys.argv[2], sys.argv[3])
    else:
        resume(sys.argv[2], sys.argv[3])
