import copy

import keras
import numpy as np
from keras import ops

from keras_dde import backend
from keras_dde.layers.noise_pairing import NoisePairing
from keras_dde.models import energy_gan_objectives as objectives
from keras_dde.models.checks.gan_arguments import check_gan_arguments
from keras_dde.models.checks.gan_arguments import check_sigma_schedule
from keras_dde.models.checks.gan_arguments import latent_dim_of
from keras_dde.optimizers.routed_optimizer import RoutedOptimizer
from keras_dde.training.checked_model import CheckedModel
from keras_dde.utils.validation import check_positive_int
from keras_dde.utils.validation import check_sigma


@keras.saving.register_keras_serializable(package="keras_dde")
class EnergyGAN(CheckedModel):
    """A generator trained against two DDEs: one of the data, one of its samples.

    Two objectives (`keras_dde.models.energy_gan_objectives`). With
    `objective="distillation"`, the default for two `MultiScaleDDE`s, the
    fitted real DDE is the teacher (frozen unless `train_real=True`): `fit`
    makes a bank of `n_pairs` pairs `(z, x)` once, `x` the teacher's
    probability-flow ODE started from `z` and continued to `sigma = 0`
    (`MultiScaleDDE.flow(to_zero=True)`), starts `fake_dde` from the
    teacher's weights, and each train step updates `G` on `mean sigma_i^2
    (s_fake - s_real)(x~)` (fresh latents, levels as in step 2 below) plus
    `regression_weight` times a Huber distance `sum_k huber(G(z)_k - x_k)`
    (threshold: the teacher's `sigma`) on a minibatch of the bank, then
    `fake_dde` as in step 3. The regression anchors every mode with the
    teacher's mass; the score difference sharpens (25gaussians at sigma
    0.05: `benchmarks/results/energy_gan_distillation.md`).

    With `objective="kl"` (the seed's; the default for `DDEModel`s), `G`
    minimises `KL(q~ || p~)` between the Gaussian-smoothed
    densities of its samples (`q~`, tracked by `fake_dde`) and of the data
    (`p~`, tracked by `real_dde`). Each train step:

    1. updates `real_dde` on the data batch (unless `train_real=False`),
       weighted by `sample_weight` when `fit` is given one;
    2. updates `G` with the loss `mean(s_fake(x~) - s_real(x~))`,
       `x~ = G(z) + sigma * eps`, differentiated into `G`'s weights only
       (for two `MultiScaleDDE`s, with one sigma per sample: a fraction
       `target_fraction` at `sigma`, the rest log-uniform in
       `[sigma, sigma_max]`, where large levels see missing modes);
    3. updates `fake_dde` `dde_steps` times on fresh generated samples.

    The DDE updates are `DDEModel.dde_update`, the DDEs' own train step;
    the noisy samples of step 2 come from `fake_dde.smoothed_samples`.
    The generator and the DDEs have their own optimizers; see `compile`.

    Args:
        generator: a Keras model mapping `(batch, latent_dim)` to samples
            shaped like the data.
        real_dde: a `keras_dde.DDEModel` (or `MultiScaleDDE`) for the data.
        fake_dde: a DDE of the same kind for the generated samples; two
            `MultiScaleDDE`s must share `sigma_max` (pass it explicitly)
            and `gaussian_base`. With the base, `fit` gives `fake_dde` the
            data's (the real DDE's) Gaussian, so that it cancels in the
            generator's `s_fake - s_real` and the generator is not pulled
            by two bases fitted to different samples. For the seed's
            objective, build both with `gaussian_base=False` and
            `conditional_energy_mlp(..., fourier_features=0)`, as
            `recipes.build_energy_gan(multiscale=True, objective="kl")`
            does: with either of them the generator covered far fewer
            modes of 25gaussians in `benchmarks/energy_gan.py` (its figures
            are on the benchmarks page of the docs).
        dde_steps: int, `fake_dde` updates per generator update.
        train_real: bool, or None (True for "kl", False for
            "distillation"); False keeps a pretrained `real_dde` frozen.
            With "distillation", True fits the teacher on the data at
            every step, so the score difference sharpens past the bank,
            which stays as `fit` first made it.
        allow_different_sigma: bool; by default both DDEs must share sigma.
        sigma_schedule: optional noise-level schedule, a Keras
            learning-rate schedule of the generator step such as
            `keras_dde.schedules.GeometricSigmaDecay`. At every train step
            it sets both DDEs' `sigma` (through `DDEModel.set_sigma`;
            `fit` checks the schedule's current value first), so they end at
            the schedule's last value. Needs `train_real=True` and a shared
            sigma.
        seed: int or None, seeds the latent and noise draws.
        target_fraction: float in [0, 1), for two `MultiScaleDDE`s: the
            share of the generator loss's samples at the target `sigma`
            (the rest log-uniform up to `sigma_max`). The default 0.5 keeps
            toy samples sharp: with 0 the generator spread them between the
            modes (25gaussians: 34% within 3 std at 200 epochs); on
            Fashion-MNIST 0-0.05 kept all ten classes, 0.5 lost some
            (`benchmarks/results/`). Ignored for single-sigma DDEs.
        objective: "kl", "distillation", or None: "distillation" for two
            `MultiScaleDDE`s and a generator with at least one latent per
            feature (the pairing uses the first `d`), else "kl".
        regression_weight: float >= 0, the weight `lambda` of the
            distillation's regression term, or a
            `keras.optimizers.schedules.LearningRateSchedule` of the
            generator step that sets it at each step (e.g. a `CosineDecay`
            that hands the generator over to the score difference).
        n_pairs: int, the size of the distillation's bank of ODE pairs.
        ode_steps: int, Heun steps of the teacher's ODE for the bank (on
            25gaussians its samples were as sharp at 20 steps as at 160).
        ode_to_zero: "euler" (default) or "tweedie", the bank's last step
            from `sigma` to 0 (`MultiScaleDDE.flow`'s `to_zero`): "euler"
            is right for vectors; on images "tweedie" gave sharper targets.
        warmup_steps: int >= 0, "distillation"'s steps of the regression
            alone, once, before the first train step (`energy_gan_objectives.
            regression_warmup`: cheap, and the whole loss from scratch blurs).
        teacher_epochs: int >= 0; 0 (default): "distillation" needs a
            fitted `real_dde`; else `fit` first fits an unfitted one on its
            array data for this many epochs (two `MultiScaleDDE`s may then
            both have `sigma_max=None`: the teacher's fit sets it).
        **kwargs: standard `keras.Model` arguments.

    Example:
    ```python
    x = keras_dde.datasets.toy2d("8gaussians", 8000, seed=0)
    gan = keras_dde.EnergyGAN(
        keras_dde.models.generator_mlp(latent_dim=8, output_dim=2),
        keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=0.2),
        keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=0.2),
    )
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(1e-4),
        dde_optimizer=keras.optimizers.Adam(1e-3),
    )
    gan.fit(x, batch_size=512, epochs=50)
    samples = gan.generate(1000, seed=0)
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
        - [Yin et al., 2024](https://arxiv.org/abs/2311.18828)
        - [Yin et al., 2024 (DMD2)](https://arxiv.org/abs/2405.14867)
        - [Song et al., 2021](https://arxiv.org/abs/2011.13456)
    """

    def __init__(
        self,
        generator,
        real_dde,
        fake_dde,
        dde_steps=1,
        train_real=None,
        allow_different_sigma=False,
        sigma_schedule=None,
        seed=None,
        target_fraction=0.5,
        objective=None,
        regression_weight=0.3,
        n_pairs=32768,
        ode_steps=20,
        ode_to_zero="euler",
        teacher_epochs=0,
        warmup_steps=4800,
        **kwargs,
    ):
        check_gan_arguments(
            generator, real_dde, fake_dde, allow_different_sigma, target_fraction,
            objective,
        )
        dde_steps = check_positive_int(dde_steps, "dde_steps")
        distillation = objectives.check_distillation_settings(
            regression_weight, n_pairs, ode_steps, ode_to_zero, teacher_epochs,
            warmup_steps,
        )
        super().__init__(**kwargs)
        self.generator = generator
        self.real_dde = real_dde
        self.fake_dde = fake_dde
        self.dde_steps = dde_steps
        self.allow_different_sigma = bool(allow_different_sigma)
        self.sigma_schedule = sigma_schedule
        self.seed = seed
        self.target_fraction = float(target_fraction)
        self.latent_dim = latent_dim_of(generator)
        # One random stream for the latents and the noise, as before the
        # noise went through `NoisePairing`: the layer owns (and saves) it.
        self.noise_pairing = NoisePairing(seed=seed, name="noise_pairing")
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self.real_loss_tracker = keras.metrics.Mean(name="real_dde_loss")
        self.fake_loss_tracker = keras.metrics.Mean(name="fake_dde_loss")
        self.regression_loss_tracker = keras.metrics.Mean(name="regression_loss")
        self._check_shapes()
        self.objective = objectives.resolve_objective(
            objective, real_dde, fake_dde, self.latent_dim, self.feature_shape
        )
        self.train_real = objectives.resolve_train_real(train_real, self.objective)
        check_sigma_schedule(
            sigma_schedule, self.train_real, allow_different_sigma, self.objective
        )
        for name, value in distillation.items():  # regression_weight, ...
            setattr(self, name, value)
        if self.objective == "distillation":
            objectives.add_pair_bank(self)
        self.build((None, self.latent_dim))

    @property
    def seed_generator(self):
        """The random stream of the latents and the noise (`noise_pairing`'s)."""
        return self.noise_pairing.seed_generator

    @property
    def sigma(self):
        """The fake DDE's current noise level, a python float."""
        return self.fake_dde.sigma

    def _check_shapes(self):
        feature_shape = tuple(
            self.generator.compute_output_spec(
                keras.KerasTensor((None, self.latent_dim))
            ).shape[1:]
        )
        for name in ("real_dde", "fake_dde"):
            dde = getattr(self, name)
            if dde.feature_shape is None:
                dde.build((None, *feature_shape))
            elif tuple(dde.feature_shape) != feature_shape:
                raise ValueError(
                    f"The generator makes samples of shape {feature_shape}, but "
                    f"`{name}` takes inputs of shape {tuple(dde.feature_shape)}: "
                    "make the generator's output and the DDEs' inputs the "
                    "data's shape."
                )
        self._feature_shape = feature_shape

    def build(self, input_shape):
        if not self.generator.built:
            self.generator.build(input_shape)
        self.noise_pairing.build((None, *self.feature_shape))

    def call(self, latents, training=None):
        """Maps latent vectors to samples."""
        return self.generator(latents, training=training)

    # --- Training ----------------------------------------------------------

    def compile(
        self,
        generator_optimizer=None,
        dde_optimizer=None,
        steps_per_execution=8,
        **kwargs,
    ):
        """Configures training with one optimizer for G and one for the DDEs.

        Args:
            generator_optimizer: optimizer for the generator, e.g.
                `keras.optimizers.Adam(1e-4)`.
            dde_optimizer: optimizer for both DDEs, e.g.
                `keras.optimizers.Adam(1e-3)`.
            steps_per_execution: train steps per compiled call.
            **kwargs: other `keras.Model.compile` arguments (no `optimizer`,
                `loss` or `metrics`: the model has its own).
        """
        missing = [
            name
            for name, value in (
                ("generator_optimizer", generator_optimizer),
                ("dde_optimizer", dde_optimizer),
            )
            if value is None
        ]
        if missing:
            raise ValueError(
                f"`EnergyGAN.compile` needs both `generator_optimizer` and "
                f"`dde_optimizer`; missing: {', '.join(missing)}."
            )
        self._refuse_compile_arguments(
            optimizer=kwargs.pop("optimizer", None),
            loss=kwargs.pop("loss", None),
            metrics=kwargs.pop("metrics", None),
        )
        router = RoutedOptimizer(
            {"generator": generator_optimizer, "dde": dde_optimizer}
        )
        router.route("generator", self.generator.trainable_variables)
        router.route(
            "dde",
            self.real_dde.trainable_variables + self.fake_dde.trainable_variables,
        )
        self.generator_optimizer = router.optimizers["generator"]
        self.dde_optimizer = router.optimizers["dde"]
        super().compile(
            optimizer=router, steps_per_execution=steps_per_execution, **kwargs
        )
        # Build now: a child optimizer built lazily on its first `apply` would
        # know only the variables of that first call.
        self.optimizer.build(self.trainable_variables)
        self._gan_compile_config = {
            "generator_optimizer": keras.saving.serialize_keras_object(
                self.generator_optimizer
            ),
            "dde_optimizer": keras.saving.serialize_keras_object(self.dde_optimizer),
            "steps_per_execution": steps_per_execution,
            **kwargs,
        }

    def get_compile_config(self):
        return getattr(self, "_gan_compile_config", {})

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(copy.deepcopy(config))
        self.compile(**config)

    def _latents(self, batch_size):
        return backend.normal(
            (batch_size, self.latent_dim), seed=self.seed_generator
        )

    def generator_loss(self, batch_size):
        """`mean(s_fake(x~) - s_real(x~))` on fresh noisy generated samples."""
        samples = self.generator(self._latents(batch_size), training=True)
        _, energy = self.fake_dde.smoothed_samples(
            samples, self.noise_pairing, self.target_fraction
        )
        return ops.mean(energy(self.fake_dde) - energy(self.real_dde))

    def _set_scheduled_sigma(self):
        sigma = self.sigma_schedule(self.generator_optimizer.iterations)
        # Not `dde.sigma = ...`: Keras's attribute tracking would read the
        # python-float getter, which a traced step cannot.
        self.real_dde.set_sigma(sigma)
        self.fake_dde.set_sigma(sigma)

    def stateful_train_step(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        batch_size = ops.shape(x)[0]
        if self.sigma_schedule is not None:
            self._set_scheduled_sigma()
        if self.train_real:
            loss = self.real_dde.dde_update(x, sample_weight, self.optimizer)
            self.real_loss_tracker.update_state(loss)
        if self.objective == "distillation":
            loss, regression = objectives.distillation_update(self, batch_size)
            self.regression_loss_tracker.update_state(regression)
        else:
            generator_variables = self.generator.trainable_variables
            loss, grads = backend.value_and_grad(
                lambda: self.generator_loss(batch_size), generator_variables
            )
            self.optimizer.apply(grads, generator_variables)
        self.generator_loss_tracker.update_state(loss)
        for _ in range(self.dde_steps):
            samples = ops.stop_gradient(
                self.generator(self._latents(batch_size), training=True)
            )
            loss = self.fake_dde.dde_update(samples, optimizer=self.optimizer)
            self.fake_loss_tracker.update_state(loss)
        return self._logs()

    def stateful_test_step(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        batch_size = ops.shape(x)[0]
        samples = self.generator(self._latents(batch_size))
        self.real_loss_tracker.update_state(
            self.real_dde.compute_dde_loss(x, sample_weight)
        )
        if self.objective == "distillation":
            dm, regression = objectives.distillation_losses(self, batch_size)
            self.generator_loss_tracker.update_state(dm)
            self.regression_loss_tracker.update_state(regression)
        else:
            self.generator_loss_tracker.update_state(self.generator_loss(batch_size))
        self.fake_loss_tracker.update_state(self.fake_dde.compute_dde_loss(samples))
        return self._logs()

    @property
    def metrics(self):
        trackers = [self.generator_loss_tracker, self.fake_loss_tracker]
        if self.train_real:
            trackers.insert(1, self.real_loss_tracker)
        if self.objective == "distillation":
            trackers.insert(1, self.regression_loss_tracker)
        return trackers

    @property
    def feature_shape(self):
        """The per-sample shape of the data and of the generator's samples."""
        return self._feature_shape

    def _record_data_statistics(self, x, sample_weight):
        # As `DDEModel.fit` does, so that `real_dde.log_prob` needs no data.
        self.real_dde.set_data_statistics(x, sample_weight)
        if getattr(self.fake_dde, "gaussian_base", False):
            self.fake_dde.set_gaussian_base(
                self.real_dde.data_mean, self.real_dde.data_covariance
            )

    def _needs_data_statistics(self):
        # As `DDEModel`: the real DDE's statistics (and the fake DDE's
        # Gaussian base) from one pass over a dataset, when it has none.
        return self.real_dde._needs_data_statistics()

    def fit(self, *args, **kwargs):
        """`keras.Model.fit`, checked and guarded as `DDEModel.fit` is.

        Array data is validated and cast to float32, its statistics go to
        `real_dde` (without the `validation_split` tail), `sample_weight`
        weights the real DDE's loss, and with `stop_on_divergence=True` a NaN
        or Inf in any of the three losses stops training and restores the
        last finite weights of all three networks and both optimizers.
        """
        if self.sigma_schedule is not None and hasattr(self, "generator_optimizer"):
            # Checked here, in python: inside the compiled step it cannot be.
            step = int(ops.convert_to_numpy(self.generator_optimizer.iterations))
            check_sigma(
                float(ops.convert_to_numpy(self.sigma_schedule(step))),
                f"sigma_schedule({step})",
            )
        if self.objective == "distillation":
            objectives.prepare_distillation(
                self, args[0] if args else kwargs.get("x"), kwargs.get("batch_size")
            )
        return super().fit(*args, **kwargs)

    # --- Sampling ------------------------------------------------------------

    def generate(self, n, seed=None, batch_size=4096):
        """Draws `n` samples from the generator as a numpy array.

        Args:
            n: int, number of samples.
            seed: None or int; the same int gives the same samples.
            batch_size: generator batch size.
        """
        n = check_positive_int(n, "n")
        latents = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        samples = self.generator.predict(
            latents.astype("float32"), batch_size=batch_size, verbose=0
        )
        # A plain numpy array on every backend (no autograd graph).
        return np.asarray(ops.convert_to_numpy(samples))

    # --- Serialization -------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(self.generator),
                "real_dde": keras.saving.serialize_keras_object(self.real_dde),
                "fake_dde": keras.saving.serialize_keras_object(self.fake_dde),
                "dde_steps": self.dde_steps,
                "train_real": self.train_real,
                "allow_different_sigma": self.allow_different_sigma,
                "sigma_schedule": (
                    None
                    if self.sigma_schedule is None
                    else keras.saving.serialize_keras_object(self.sigma_schedule)
                ),
                "seed": self.seed,
                "target_fraction": self.target_fraction,
                "objective": self.objective,
                # A float, or a schedule's serialized config.
                "regression_weight": keras.saving.serialize_keras_object(
                    self.regression_weight
                ),
                "n_pairs": self.n_pairs,
                "ode_steps": self.ode_steps,
                "ode_to_zero": self.ode_to_zero,
                "teacher_epochs": self.teacher_epochs,
                "warmup_steps": self.warmup_steps,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = copy.deepcopy(config)
        keys = ("generator", "real_dde", "fake_dde", "sigma_schedule", "regression_weight")
        for key in keys:
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

