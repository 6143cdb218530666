import warnings

import imageio.v3 as iio
import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.callbacks import DensityFrames
from keras_dde.training import StopOnDivergence
from keras_dde.training.stop_on_divergence import with_divergence_guard

EPOCHS_BEFORE = 3  # Finite epochs before the learning rate jumps.
STEPS_PER_EPOCH = 8  # 512 points, batch 64.


def data():
    return keras_dde.datasets.toy2d("8gaussians", 512, seed=0)


def small_dde():
    keras.utils.set_random_seed(0)
    return keras_dde.DDEModel(
        keras_dde.models.energy_mlp(2, width=16, depth=2), sigma=0.3, seed=0
    )


def exploding_sgd():
    """SGD at 1e-2 for EPOCHS_BEFORE epochs, then at 1e6: NaN within steps."""
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
        [EPOCHS_BEFORE * STEPS_PER_EPOCH - 1], [1e-2, 1e6]
    )
    return keras.optimizers.SGD(schedule)


def fit(model, epochs, **kwargs):
    return model.fit(
        data(), batch_size=64, epochs=epochs, shuffle=False, verbose=0, **kwargs
    )


def weights(model):
    return [np.array(w) for w in model.trainable_weights]


def test_restores_the_weights_of_the_last_finite_epoch(tmp_path):
    # The same run, stopped by hand after the finite epochs.
    reference = small_dde()
    reference.compile(optimizer=exploding_sgd(), steps_per_execution=4)
    fit(reference, EPOCHS_BEFORE)

    dde = small_dde()
    # steps_per_execution=4: two train calls per epoch, checked after each.
    dde.compile(optimizer=exploding_sgd(), steps_per_execution=4)
    guard = StopOnDivergence()
    gif = tmp_path / "density.gif"
    frames = DensityFrames(gif, every=1, resolution=32, initial_frame=True)
    with pytest.warns(RuntimeWarning, match="Training diverged: loss = nan") as record:
        history = fit(dde, 50, callbacks=[guard, frames])
    # On torch, numpy 2 also warns about torch's `__array__`; pick ours.
    message = next(str(w.message) for w in record if w.category is RuntimeWarning)
    assert f"weights of the end of epoch {EPOCHS_BEFORE}" in message
    assert "Lower the learning rate" in message
    # History stops at the diverged epoch.
    losses = history.history["loss"]
    assert len(losses) == EPOCHS_BEFORE + 1
    assert np.isfinite(losses[:EPOCHS_BEFORE]).all() and not np.isfinite(losses[-1])
    assert guard.diverged and guard.stopped_epoch == EPOCHS_BEFORE
    assert guard.restored_epoch == EPOCHS_BEFORE
    # "Last finite" is the end of epoch 3, bit for bit, not a later state.
    for restored, expected in zip(weights(dde), weights(reference)):
        assert np.isfinite(restored).all()
        np.testing.assert_array_equal(restored, expected)
    # The optimizer state is back too: the model can go on training.
    assert int(dde.optimizer.iterations.numpy()) == EPOCHS_BEFORE * STEPS_PER_EPOCH
    assert np.isfinite(dde.predict(data()[:8], verbose=0)).all()
    # The frames so far are kept and written: the initial one, one per
    # finite epoch and the final one (of the restored weights, the same
    # picture as the last finite epoch's, which the GIF writer merges).
    assert len(frames.frames) == EPOCHS_BEFORE + 2
    np.testing.assert_array_equal(frames.frames[-1], frames.frames[-2])
    written = iio.imread(gif, index=None)
    assert written.shape[0] >= EPOCHS_BEFORE + 1
    assert written.shape[1:3] == (32, 32)


def test_dde_fit_adds_the_guard_by_default_and_can_opt_out():
    dde = small_dde()
    dde.compile(optimizer=keras.optimizers.SGD(1e6))
    with pytest.warns(RuntimeWarning, match="weights from before training"):
        history = fit(dde, 5)
    assert len(history.history["loss"]) == 1
    assert all(np.isfinite(w).all() for w in weights(dde))

    unguarded = small_dde()
    unguarded.compile(optimizer=keras.optimizers.SGD(1e6))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        history = fit(unguarded, 2, stop_on_divergence=False)
    assert len(history.history["loss"]) == 2
    assert not all(np.isfinite(w).all() for w in weights(unguarded))


def test_energy_gan_stops_and_restores_all_three_networks():
    keras.utils.set_random_seed(0)
    gan = keras_dde.EnergyGAN(
        keras_dde.models.generator_mlp(2, 2, width=16, depth=1),
        keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=16, depth=1), 0.3),
        keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=16, depth=1), 0.3),
        seed=0,
    )
    gan.compile(
        generator_optimizer=keras.optimizers.SGD(1e6),
        dde_optimizer=keras.optimizers.SGD(1e6),
    )
    before = weights(gan)
    with pytest.warns(RuntimeWarning, match="Training diverged: .*loss = nan"):
        history = fit(gan, 5)
    assert len(history.history["generator_loss"]) == 1
    for restored, initial in zip(weights(gan), before):
        np.testing.assert_array_equal(restored, initial)
    assert np.isfinite(gan.generate(16, seed=0)).all()


def test_non_finite_weights_at_an_epoch_end_count_as_divergence():
    # A step can turn the weights to NaN from a finite loss; the epoch-end
    # check catches it even when no logged loss is NaN yet.
    class Poison(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                kernel = self.model.trainable_weights[0]
                kernel.assign(np.full(kernel.shape, np.nan, "float32"))

    dde = small_dde()
    dde.compile(optimizer=keras.optimizers.Adam(1e-3))
    guard = StopOnDivergence()
    with pytest.warns(RuntimeWarning, match="non-finite values in the model's weights"):
        history = fit(dde, 10, callbacks=[Poison(), guard])
    assert len(history.history["loss"]) == 2 and guard.restored_epoch == 1
    assert all(np.isfinite(w).all() for w in weights(dde))


def test_works_on_a_plain_keras_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1e20), loss="mse")
    x = np.random.default_rng(0).normal(size=(256, 2)).astype("float32")
    guard = StopOnDivergence(monitor="loss")
    with pytest.warns(RuntimeWarning, match="diverged"):
        history = model.fit(x, 1e3 * x[:, :1], epochs=20, verbose=0, callbacks=[guard])
    assert len(history.history["loss"]) < 20 and guard.diverged
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_with_divergence_guard():
    frames = DensityFrames()
    own = StopOnDivergence(restore_weights=False)
    added = with_divergence_guard([frames])
    assert isinstance(added[0], StopOnDivergence) and added[1] is frames
    assert with_divergence_guard([frames, own]) == [frames, own]
    assert with_divergence_guard(None, enabled=False) is None
    with pytest.raises(TypeError, match="stop_on_divergence"):
        with_divergence_guard(None, enabled="yes")
    with pytest.raises(TypeError, match="monitor"):
        StopOnDivergence(monitor=3)
    config = own.get_config()
    assert StopOnDivergence(**config).restore_weights is False
