"""Interruption, checkpoints, resume and determinism, on real (small) training.

- Interruption: Ctrl-C (`KeyboardInterrupt`) or an exception inside `fit`
  leaves valid GIFs of the frames so far and a model that predicts and
  trains again.
- Checkpoints: `keras.callbacks.ModelCheckpoint` writes `.keras` files and
  `.weights.h5` files of a `DDEModel` and an `EnergyGAN` that load back.
- Resume: a run interrupted after a checkpoint, loaded and continued with
  `initial_epoch`, ends with the weights of the uninterrupted run.
- Determinism: the same seed gives the same data, weights and samples.
"""

import imageio.v3 as iio
import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.callbacks import DensityFrames
from keras_dde.callbacks import SampleFrames

EPOCHS = 4
STOP_AFTER = 2  # epochs completed when the run is interrupted


def data(n=256, seed=0):
    return keras_dde.datasets.toy2d("8gaussians", n, seed=seed)


def make_dde(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras_dde.DDEModel(
        keras_dde.models.energy_mlp(2, width=16, depth=2), sigma=0.3, seed=seed
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), steps_per_execution=2)
    return model


def make_gan(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras_dde.EnergyGAN(
        keras_dde.models.generator_mlp(2, 2, width=16, depth=1),
        keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=16, depth=1), 0.3, seed),
        keras_dde.DDEModel(
            keras_dde.models.energy_mlp(2, width=16, depth=1), 0.3, seed + 1
        ),
        seed=seed + 2,
    )
    model.compile(
        generator_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        dde_optimizer=keras.optimizers.Adam(2e-3),
        steps_per_execution=2,
    )
    return model


MODELS = {"dde": make_dde, "gan": make_gan}


def fit(model, epochs=EPOCHS, **kwargs):
    kwargs.setdefault("shuffle", False)
    return model.fit(data(), batch_size=64, epochs=epochs, verbose=0, **kwargs)


def weights(model):
    return [np.array(w) for w in model.weights if w.dtype.startswith("float")]


def assert_same_weights(a, b, atol=1e-6):
    a, b = weights(a), weights(b)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=atol, equal_nan=True)


def probe(model):
    """What the model computes: energies for a DDE, samples for a GAN."""
    if isinstance(model, keras_dde.EnergyGAN):
        return model.generate(32, seed=0)
    return model.predict(data(32, seed=9), verbose=0)


class StopAt(keras.callbacks.Callback):
    """Raises `error` after `epochs` epochs (or mid-epoch, after a batch)."""

    def __init__(self, error, epochs=STOP_AFTER, batch=None):
        super().__init__()
        self.error, self.epochs, self.batch = error, epochs, batch

    def on_epoch_end(self, epoch, logs=None):
        if self.batch is None and epoch + 1 == self.epochs:
            raise self.error

    def on_train_batch_end(self, batch, logs=None):
        if self.batch is not None and batch >= self.batch:
            raise self.error


def frame_callbacks(model_name, folder):
    if model_name == "gan":
        return [
            DensityFrames(folder / "real.gif", dde="real", resolution=24,
                          initial_frame=True),
            SampleFrames(folder / "samples.gif", data=data(), num_samples=64,
                         figsize=(1.5, 1.5), initial_frame=True),
        ]
    return [DensityFrames(folder / "density.gif", resolution=24, initial_frame=True)]


# --- Interruption -------------------------------------------------------------


@pytest.mark.parametrize(
    "model_name, error, batch",
    [
        ("dde", KeyboardInterrupt(), None),
        ("dde", RuntimeError("disk full"), 1),  # mid-epoch
        ("gan", KeyboardInterrupt(), 1),
    ],
)
def test_interrupted_fit_keeps_frames_and_a_usable_model(tmp_path, model_name, error, batch):
    model = MODELS[model_name]()
    before = weights(model)
    callbacks = frame_callbacks(model_name, tmp_path)
    with pytest.raises(type(error)):
        fit(model, epochs=50, callbacks=[*callbacks, StopAt(error, batch=batch)])
    # The GIFs hold the frames drawn so far: the initial one and one per
    # finished epoch, and nothing half-written is left in the folder.
    expected = 1 + (0 if batch is not None else STOP_AFTER)
    for callback in callbacks:
        assert len(callback.frames) == expected
        assert callback.written_path is not None
        gif = iio.imread(callback.written_path, index=None)
        assert gif.ndim == 4 and 1 <= gif.shape[0] <= expected
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{name}.gif" for name in (["real", "samples"] if model_name == "gan" else ["density"])
    )
    # The model trained until the interruption (the state of a mid-epoch
    # interruption is synced back too), and is usable.
    assert any(not np.array_equal(a, b) for a, b in zip(before, weights(model)))
    assert all(np.isfinite(np.array(w)).all() for w in model.trainable_weights)
    assert np.isfinite(probe(model)).all()
    iterations = int(model.optimizer.iterations.numpy())
    assert iterations > 0
    history = fit(model, epochs=1)
    assert int(model.optimizer.iterations.numpy()) > iterations
    assert all(np.isfinite(v).all() for v in history.history.values())


# --- Checkpoints and resume -------------------------------------------------------


@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_model_checkpoint_writes_loadable_keras_and_weights_files(tmp_path, model_name):
    model = MODELS[model_name]()
    checkpoints = [
        keras.callbacks.ModelCheckpoint(tmp_path / "epoch{epoch}.keras"),
        keras.callbacks.ModelCheckpoint(
            tmp_path / "epoch{epoch}.weights.h5", save_weights_only=True
        ),
        keras.callbacks.ModelCheckpoint(
            tmp_path / "best.keras", monitor="loss" if model_name == "dde"
            else "generator_loss", save_best_only=True, mode="min",
        ),
    ]
    fit(model, epochs=2, callbacks=checkpoints)
    assert (tmp_path / "best.keras").exists()
    loaded = keras.models.load_model(tmp_path / "epoch2.keras")
    assert type(loaded) is type(model)
    assert_same_weights(loaded, model)
    np.testing.assert_allclose(probe(loaded), probe(model), atol=1e-5)
    assert int(loaded.optimizer.iterations.numpy()) == int(
        model.optimizer.iterations.numpy()
    )
    fresh = MODELS[model_name](seed=5)
    fresh.load_weights(tmp_path / "epoch2.weights.h5")
    np.testing.assert_allclose(probe(fresh), probe(model), atol=1e-5)
    # With the optimizer state (Adam's moments, the step count).
    assert int(fresh.optimizer.iterations.numpy()) == 8
    for a, b in zip(fresh.optimizer.variables, model.optimizer.variables):
        np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-6)
    # The epoch-1 checkpoint is a different, earlier state.
    earlier = keras.models.load_model(tmp_path / "epoch1.keras")
    assert not np.allclose(probe(earlier), probe(model))


@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_resume_from_a_checkpoint_matches_the_uninterrupted_run(tmp_path, model_name):
    # `model.save` in a callback is the same path; models/*_test.py test
    # save, load and continue without an interruption.
    # The uninterrupted run.
    reference = MODELS[model_name]()
    fit(reference, callbacks=[
        keras.callbacks.ModelCheckpoint(tmp_path / "reference{epoch}.keras")
    ])

    # The same run, interrupted by Ctrl-C after STOP_AFTER epochs.
    model = MODELS[model_name]()
    path = tmp_path / f"{model_name}.keras"
    saver = keras.callbacks.ModelCheckpoint(path)
    with pytest.raises(KeyboardInterrupt):
        fit(model, callbacks=[saver, StopAt(KeyboardInterrupt())])
    del model

    # Determinism: the same seed gave the same first epochs, bit for bit
    # (weights, optimizer state, noise streams), and the same samples.
    checkpoint = keras.models.load_model(path)
    same = keras.models.load_model(tmp_path / f"reference{STOP_AFTER}.keras")
    for a, b in zip(checkpoint.variables, same.variables):
        np.testing.assert_array_equal(np.array(a), np.array(b))
    np.testing.assert_array_equal(probe(checkpoint), probe(same))

    # A new session: load the last checkpoint and finish the run.
    keras.utils.set_random_seed(123)  # The resumed run must not depend on it.
    resumed = keras.models.load_model(path)
    assert int(resumed.optimizer.iterations.numpy()) == STOP_AFTER * 4
    history = fit(resumed, initial_epoch=STOP_AFTER)
    assert len(next(iter(history.history.values()))) == EPOCHS - STOP_AFTER
    assert_same_weights(resumed, reference)
    np.testing.assert_allclose(probe(resumed), probe(reference), atol=1e-5)


# --- Determinism ----------------------------------------------------------------


def test_same_seed_same_data_weights_and_samples():
    for name in keras_dde.datasets.toy2d_names():
        np.testing.assert_array_equal(
            keras_dde.datasets.toy2d(name, 100, seed=3),
            keras_dde.datasets.toy2d(name, 100, seed=3),
        )
    assert not np.array_equal(
        keras_dde.datasets.toy2d("2spirals", 100, seed=3),
        keras_dde.datasets.toy2d("2spirals", 100, seed=4),
    )

    def run(seed):
        model = make_dde(seed)
        initial = weights(model)
        # shuffle=True: Keras shuffles with the seeded global generators.
        fit(model, epochs=2, shuffle=True)
        return initial, weights(model), model.sample(64, n_steps=20, seed=1, verbose=0)

    first, second = run(0), run(0)
    for a, b in zip(first[0] + first[1], second[0] + second[1]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[2], second[2])
    # Not vacuous: another seed gives other weights.
    keras.utils.set_random_seed(1)
    other = keras_dde.models.energy_mlp(2, width=16, depth=2)
    assert not np.array_equal(np.array(other.weights[0]), first[0][0])
