"""Images: conv DDE training throughput per backend, and a Fashion-MNIST GAN check.

    python benchmarks/images.py --throughput              # 2 rounds, prints a table
    python benchmarks/images.py --throughput --rounds 3 --output benchmarks/results/images_throughput.md
    python benchmarks/images.py --gan --quick --out /tmp/img   # smoke run, ~2 min
    python benchmarks/images.py --gan --budget 900 --out benchmarks/results
    python benchmarks/images.py --score runs/fashion/model.keras   # a saved GAN

GAN comparison (issue 15): an EnergyGAN (generator_convnet, two
energy_convnet DDEs) and a WGAN-GP with the same generator and the same
network as its critic, each trained for the same wall-clock budget on
Fashion-MNIST; a small CNN classifier trained once on the real training set
(cached under benchmarks/cache/) reports its test accuracy, then labels
samples of each model: classes covered (>= 1% of samples), entropy of the
predicted classes (ln 10 = 2.303 is balanced; >= 0.9 ln 10 wanted) and the
Frechet distance of its penultimate (Dense 128) features to the real test set.

With `--objective distillation` (needs `--sigma-max`) the EnergyGAN is
distilled (issue 24): its teacher `MultiScaleDDE` trains first for
`--teacher-fraction` of the budget, then its probability-flow ODE makes a
bank of `--n-pairs` (z, x) pairs (`--ode-steps` Heun steps; `--ode-to-zero
tweedie`, the `EnergyGAN` argument of that name, ends with Tweedie's full
denoising step instead of the Euler half step; `--regression-decay-steps N`
lowers the regression weight to 0 by a cosine over N generator steps;
`--train-real` goes on fitting the teacher during the GAN), the
generator (784 latents, one per pixel) warms up on it for `--warmup-steps`,
and the GAN trains for what is left: all four count in the budget. The bank
is scored like the samples (`teacher_ode`) and drawn too. The defaults of
these flags are the best measured setting (runs F1, G1, G2 and H3 in
`benchmarks/results/images_gan.md`; `--no-train-real --teacher-fraction 0.3
--regression-decay-steps 0` gives the frozen teacher of run C2).

    python benchmarks/images.py --gan --budget 900 --sigma 0.5 --sigma-max 2 --target-fraction 0.05 --models energy_gan --objective distillation --out <dir>

`--score MODEL.keras` scores a saved `EnergyGAN` (e.g. the `model.keras` of
`keras-dde gan fashion-mnist`) as the runs above score theirs: 10,000
samples of `gan.generate(n, seed=1)`, classes, entropy and Frechet
distance; `--out DIR` also draws the first 64.

Throughput workload (issue 15): `energy_convnet()` (3 convs 32-64-64, stride
2, swish, Dense 128; 187k parameters) on 2,048 Fashion-MNIST training images
scaled to [-1, 1], batch 64, sigma 0.3, Adam, `DDEModel.fit` after one
warm-up epoch (compilation). Each configuration runs in a fresh subprocess
(one Keras backend per process); configurations alternate over rounds and
the medians are reported, so a shared machine affects them alike.

Configurations:
  tensorflow          DDEModel defaults (Keras runs TF without XLA on CPU).
  tensorflow-xla      the same with `jit_compile=True`.
  jax                 DDEModel defaults, energy_convnet (EnergyConv2D layers).
  jax-plain-conv2d    the same network with keras.layers.Conv2D: the issue's
                      measurement, JAX's own double-backward convolutions.
  jax-plain-spe1      plain Conv2D, steps_per_execution=1 (no lax.scan fusion).
  jax-spe1            energy_convnet (EnergyConv2D), steps_per_execution=1.
  torch               DDEModel defaults.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

BATCH = 64
STEPS = 32
SIGMA = 0.3

# Run from a checkout: import this checkout's keras_dde, not an installed one.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CONFIGS = {
    "tensorflow": "tensorflow",
    "tensorflow-xla": "tensorflow",
    "jax": "jax",
    "jax-plain-conv2d": "jax",
    "jax-plain-spe1": "jax",
    "jax-spe1": "jax",
    "torch": "torch",
}


def plain_energy_convnet():
    """`energy_convnet()`'s architecture with `keras.layers.Conv2D`."""
    import keras

    from keras_dde.layers.energy_head import EnergyHead

    inputs = keras.Input((28, 28, 1))
    hidden = inputs
    for channels in (32, 64, 64):
        hidden = keras.layers.Conv2D(
            channels, 3, strides=2, padding="same", activation="swish"
        )(hidden)
    hidden = keras.layers.Flatten()(hidden)
    hidden = keras.layers.Dense(128, activation="swish")(hidden)
    return keras.Model(inputs, EnergyHead()(hidden))


def run_throughput(config):
    import keras

    import keras_dde

    keras.utils.set_random_seed(0)
    images, _ = keras_dde.datasets.load_fashion_mnist("train")
    x = images[: BATCH * STEPS]
    plain = config.startswith("jax-plain")
    energy = plain_energy_convnet() if plain else keras_dde.models.energy_convnet()
    assert energy.count_params() == 187_072
    dde = keras_dde.DDEModel(energy, sigma=SIGMA, seed=0)
    kwargs = {}
    if config == "tensorflow-xla":
        kwargs["jit_compile"] = True
    if config.endswith("spe1"):
        kwargs["steps_per_execution"] = 1
    dde.compile(optimizer=keras.optimizers.Adam(1e-3), **kwargs)
    dde.fit(x, batch_size=BATCH, epochs=1, verbose=0)  # compile, warm up
    start = time.perf_counter()
    history = dde.fit(x, batch_size=BATCH, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    loss = history.history["loss"][-1]
    assert loss == loss, "the loss is NaN"
    return {"steps_per_s": STEPS / seconds, "loss": loss}


def throughput_table(rounds, configs):
    results = {name: [] for name in configs}
    for round_index in range(rounds):
        for name in configs:
            env = dict(os.environ, KERAS_BACKEND=CONFIGS[name], TF_CPP_MIN_LOG_LEVEL="3")
            out = subprocess.run(
                [sys.executable, __file__, "--run-config", name],
                env=env, capture_output=True, text=True, check=False,
            )
            if out.returncode != 0:
                raise RuntimeError(f"{name} failed:\n{out.stderr[-3000:]}")
            value = json.loads(out.stdout.strip().splitlines()[-1])["steps_per_s"]
            results[name].append(value)
            print(f"round {round_index + 1}: {name:18s} {value:7.2f} steps/s", flush=True)
    medians = {name: statistics.median(values) for name, values in results.items()}
    base = medians.get("tensorflow")
    lines = [
        "| configuration | steps/s (median) | runs | vs tensorflow |",
        "| --- | --- | --- | --- |",
    ]
    for name, values in results.items():
        ratio = f"{medians[name] / base:.2f}x" if base else "-"
        runs = ", ".join(f"{v:.1f}" for v in values)
        lines.append(f"| {name} | {medians[name]:.1f} | {runs} | {ratio} |")
    return "\n".join(lines)


# --- EnergyGAN vs WGAN-GP on Fashion-MNIST -----------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSIFIER = os.path.join(HERE, "cache", "fashion_mnist_classifier.keras")


def classifier(quick):
    """A small CNN trained once on the real training set, cached (not when quick)."""
    import keras

    import keras_dde

    path = CLASSIFIER.replace(".keras", "_quick.keras") if quick else CLASSIFIER
    if os.path.exists(path):
        return keras.models.load_model(path)
    x, y = keras_dde.datasets.load_fashion_mnist("train")
    if quick:
        x, y = x[:6000], y[:6000]
    inputs = keras.Input((28, 28, 1))
    h = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
    h = keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(128, activation="relu", name="penultimate")(h)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=128, epochs=1 if quick else 5, verbose=0)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    from keras_dde.utils.files import atomic_path

    with atomic_path(path, suffix=".keras") as temporary:
        model.save(temporary)
    return model


def scorer(quick):
    """The cached classifier, the penultimate features of the test set (the
    reference of `sample_metrics`) and the classifier's test accuracy."""
    import keras
    import numpy as np

    import keras_dde

    keras.utils.set_random_seed(0)
    model = classifier(quick)
    x_test, y_test = keras_dde.datasets.load_fashion_mnist("test")
    accuracy = float(np.mean(model.predict(x_test, verbose=0).argmax(1) == y_test))
    feature_model = keras.Model(model.inputs, model.get_layer("penultimate").output)
    reference = feature_model.predict(x_test, batch_size=512, verbose=0)
    return model, reference, accuracy


def sample_metrics(model, samples, reference_features):
    """Class coverage, entropy of predicted classes and a Frechet distance."""
    import keras
    import numpy as np
    from scipy import linalg

    features_model = keras.Model(model.inputs, [model.get_layer("penultimate").output,
                                                model.outputs[0]])
    features, probabilities = features_model.predict(samples, batch_size=512, verbose=0)
    histogram = np.bincount(probabilities.argmax(1), minlength=10) / len(samples)
    nonzero = histogram[histogram > 0]
    mu1, mu2 = features.mean(0), reference_features.mean(0)
    c1 = np.cov(features, rowvar=False)
    c2 = np.cov(reference_features, rowvar=False)
    root = linalg.sqrtm(c1 @ c2).real
    frechet = float(((mu1 - mu2) ** 2).sum() + np.trace(c1 + c2 - 2 * root))
    return {
        "classes": int((histogram >= 0.01).sum()),
        "entropy": float(-(nonzero * np.log(nonzero)).sum()),
        "frechet": frechet,
    }


def wgan_gp(generator, critic, n_critic=5, penalty=10.0):
    """A WGAN-GP (Gulrajani et al., 2017) on keras_dde's backend primitives."""
    import keras
    from keras import ops

    from keras_dde import backend

    class WGANGP(backend.StatefulTrainer, keras.Model):
        def __init__(self):
            super().__init__()
            self.generator, self.critic = generator, critic
            self.latent_dim = generator.input_shape[-1]
            self.seeds = keras.random.SeedGenerator(0)
            self.critic_tracker = keras.metrics.Mean(name="critic_loss")

        def compile(self, **kwargs):
            super().compile(optimizer=keras.optimizers.Adam(1e-4, 0.5, 0.9), **kwargs)
            self.g_opt = keras.optimizers.Adam(1e-4, 0.5, 0.9)
            self.g_opt.build(self.generator.trainable_variables)
            self.optimizer.build(self.critic.trainable_variables)

        @property
        def metrics(self):
            return [self.critic_tracker]

        def _fake(self, n):
            return self.generator(keras.random.normal((n, self.latent_dim), seed=self.seeds))

        def stateful_train_step(self, data):
            x = data[0] if isinstance(data, tuple) else data
            n = ops.shape(x)[0]
            for _ in range(n_critic):
                def critic_loss():
                    fake = ops.stop_gradient(self._fake(n))
                    t = keras.random.uniform((n, 1, 1, 1), seed=self.seeds)
                    mix = t * x + (1 - t) * fake
                    _, grad = backend.input_gradient(self.critic, mix)
                    norm = ops.sqrt(ops.sum(ops.square(grad), axis=(1, 2, 3)) + 1e-12)
                    return (ops.mean(self.critic(fake)) - ops.mean(self.critic(x))
                            + penalty * ops.mean(ops.square(norm - 1)))

                loss, grads = backend.value_and_grad(
                    critic_loss, self.critic.trainable_variables)
                self.optimizer.apply(grads, self.critic.trainable_variables)
            _, grads = backend.value_and_grad(
                lambda: -ops.mean(self.critic(self._fake(n))),
                self.generator.trainable_variables)
            self.g_opt.apply(grads, self.generator.trainable_variables)
            self.critic_tracker.update_state(loss)
            return {"critic_loss": self.critic_tracker.result()}

    return WGANGP()


def train_for(model, x, budget_s, batch, chunk_steps=32, every_s=0, on_check=None):
    """`fit` on chunks of `chunk_steps` batches until `budget_s` seconds pass.

    With `every_s > 0`, calls `on_check(seconds)` about every `every_s` seconds
    of training (its own time is not counted). Returns the seconds spent and
    the number of epochs (passes over `x`) done.
    """
    spent, steps, chunk, next_check = 0.0, 0, batch * chunk_steps, every_s
    while spent < budget_s:
        offset = (steps * batch) % max(len(x) - chunk + 1, 1)
        start = time.perf_counter()
        model.fit(x[offset : offset + chunk], batch_size=batch, epochs=1, verbose=0)
        spent += time.perf_counter() - start
        steps += chunk_steps
        if every_s and on_check is not None and spent >= next_check and spent < budget_s:
            on_check(spent)
            next_check += every_s
    return spent, steps * batch / len(x)


def distilled_gan(x, budget_s, batch, sigma, sigma_max, time_weight, target_fraction,
                  generator_lr, dde_steps, settings, seed=0):
    """The distilled EnergyGAN, its teacher fitted inside `budget_s`.

    The teacher (`MultiScaleDDE(conditional_energy_convnet())`) trains for
    `settings["teacher_fraction"]` of the budget; the bank of ODE pairs and
    the regression warm-up run in `prepare_distillation`, timed, and the
    GAN trains for what is left. Returns `(gan, phases)`, `phases` the
    seconds of each and the budget left for the GAN.
    """
    import keras
    import numpy as np

    import keras_dde
    from keras_dde.models import energy_gan_objectives as objectives

    def dde(dde_seed):
        return keras_dde.MultiScaleDDE(
            keras_dde.models.conditional_energy_convnet(), sigma, sigma_max,
            seed=dde_seed, time_weight=time_weight, gaussian_base=False,
        )

    teacher = dde(1 + 3 * seed)
    teacher.compile(optimizer=keras.optimizers.Adam(settings["teacher_lr"]),
                    steps_per_execution=1)
    teacher_s, teacher_epochs = train_for(
        teacher, x, settings["teacher_fraction"] * budget_s, batch, chunk_steps=128
    )
    start = time.perf_counter()
    # `fit` on chunks recorded the last chunk's moments: the ODE starts
    # from the whole training set's Gaussian.
    teacher.set_data_statistics(x)
    latent_dim = max(settings["latent_dim"], math.prod(x.shape[1:]))
    regression_weight = settings["regression_weight"]
    if settings["regression_decay_steps"]:
        # Hands the generator over to the score difference (DMD2 drops the
        # regression): a cosine from the weight to 0 over these GAN steps.
        regression_weight = keras.optimizers.schedules.CosineDecay(
            regression_weight, settings["regression_decay_steps"]
        )
    gan = keras_dde.EnergyGAN(
        keras_dde.models.generator_convnet(
            latent_dim, kernel_size=settings["generator_kernel"],
            activation=settings["generator_activation"],
        ),
        teacher, dde(2 + 3 * seed), dde_steps=dde_steps, seed=seed,
        target_fraction=target_fraction,
        objective="distillation", regression_weight=regression_weight,
        n_pairs=settings["n_pairs"], ode_steps=settings["ode_steps"],
        ode_to_zero=settings["ode_to_zero"],
        warmup_steps=settings["warmup_steps"], train_real=settings["train_real"],
    )
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(generator_lr, beta_1=0.5),
        dde_optimizer=keras.optimizers.Adam(1e-3),
        steps_per_execution=1,
    )
    bank_start = time.perf_counter()
    objectives.prepare_distillation(gan, x[:batch], batch)
    bank_s = time.perf_counter() - bank_start
    phases = {
        "teacher_s": round(teacher_s, 1), "teacher_epochs": round(teacher_epochs, 2),
        "teacher_steps": int(keras.ops.convert_to_numpy(teacher.optimizer.iterations)),
        "setup_s": round(bank_start - start, 1),
        "bank_and_warmup_s": round(bank_s, 1),
    }
    phases["gan_budget_s"] = round(budget_s - (time.perf_counter() - start) - teacher_s, 1)
    print("distillation phases", json.dumps(phases), flush=True)
    return gan, phases


def run_gan(budget_s, quick, sigma, latent_dim, out, dde_steps=1, generator_lr=2e-4,
            models=("energy_gan", "wgan_gp"), every_s=0, sigma_max=None, time_weight=1.0,
            generator_decay_steps=None, target_fraction=0.5, objective="kl",
            distillation=None, tag="", seed=0):
    import keras
    import numpy as np

    import keras_dde
    from keras_dde import recipes

    model, reference, accuracy = scorer(quick)
    x, _ = keras_dde.datasets.load_fashion_mnist("train")
    x = x[: 2048 if quick else 60000]
    if seed:
        # The models' initial weights; seed 0 keeps the stream of the earlier runs.
        keras.utils.set_random_seed(seed)
    batch, n_samples = 64, (1000 if quick else 10000)
    results = {"classifier_test_accuracy": accuracy, "budget_s": budget_s}

    latents = np.random.default_rng(1).standard_normal((n_samples, latent_dim))

    def draw(name, trained):
        if name == "energy_gan":
            return trained.generate(n_samples, seed=1)
        return trained.generator.predict(latents.astype("float32"), verbose=0)

    samples = {}
    for name in models:
        phases = None
        model_budget = budget_s
        if name == "energy_gan" and objective == "distillation":
            trained, phases = distilled_gan(
                x, budget_s, batch, sigma, sigma_max, time_weight, target_fraction,
                generator_lr, dde_steps, distillation, seed,
            )
            model_budget = phases["gan_budget_s"]
            # The teacher's ODE samples, scored as the generator's (not timed).
            samples["energy_gan_teacher_ode"] = keras.ops.convert_to_numpy(
                trained.pair_samples)
            results["teacher_ode"] = sample_metrics(
                model, samples["energy_gan_teacher_ode"], reference)
            print("teacher_ode", json.dumps(results["teacher_ode"]), flush=True)
        elif name == "energy_gan":
            def dde(dde_seed):
                if sigma_max is None:
                    return keras_dde.DDEModel(keras_dde.models.energy_convnet(), sigma=sigma)
                # The GAN recipe's MultiScaleDDE: no Gaussian base (issue 13).
                return keras_dde.MultiScaleDDE(
                    keras_dde.models.conditional_energy_convnet(), sigma, sigma_max,
                    seed=dde_seed, time_weight=time_weight, gaussian_base=False,
                )

            trained = keras_dde.EnergyGAN(
                keras_dde.models.generator_convnet(latent_dim),
                dde(1 + 3 * seed), dde(2 + 3 * seed),
                dde_steps=dde_steps,
                seed=seed,
                target_fraction=target_fraction,
            )
            learning_rate = generator_lr
            if generator_decay_steps:
                # The toy GAN recipe's cosine (recipes.build_energy_gan), over
                # the generator steps the budget is expected to allow.
                learning_rate = keras.optimizers.schedules.CosineDecay(
                    generator_lr, generator_decay_steps,
                    alpha=recipes.GENERATOR_DECAY_ALPHA,
                )
            # steps_per_execution=1: on JAX the lax.scan fusion of several steps
            # makes XLA's CPU convolutions ~15x slower (images_throughput.md).
            trained.compile(
                generator_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
                dde_optimizer=keras.optimizers.Adam(1e-3),
                steps_per_execution=1,
            )
        else:
            critic = keras_dde.models.energy_convnet(name="critic")  # the DDEs' net
            trained = wgan_gp(keras_dde.models.generator_convnet(latent_dim), critic)
            trained.compile(steps_per_execution=1)
        trajectory = []

        def check(seconds, name=name, trained=trained, trajectory=trajectory,
                  offset=budget_s - model_budget):
            # `offset`: the teacher's, bank's and warm-up's seconds before
            # the GAN's training (0 for the others).
            metrics = sample_metrics(model, draw(name, trained), reference)
            trajectory.append({"seconds": round(offset + seconds), **metrics})
            print(name, json.dumps(trajectory[-1]), flush=True)

        if phases is not None:
            check(0)  # After the teacher, the bank and the warm-up.
        seconds, epochs = train_for(trained, x, model_budget, batch, every_s=every_s,
                                    on_check=check)
        samples[name] = draw(name, trained)
        results[name] = {"seconds": seconds, "epochs": epochs,
                         **sample_metrics(model, samples[name], reference)}
        if phases is not None:
            results[name].update(phases, total_s=round(seconds + budget_s - model_budget, 1))
            results[name]["generator_steps"] = int(
                keras.ops.convert_to_numpy(trained.generator_optimizer.iterations))
        if trajectory:
            results[name]["trajectory"] = trajectory
    print(json.dumps(results, indent=1))
    if out:
        from keras_dde.plotting import plot_image_grid
        from keras_dde.utils.files import save_figure

        os.makedirs(out, exist_ok=True)
        suffix = "_quick" if quick else ""
        for name, images in samples.items():
            figure = plot_image_grid(images[:64], ncols=8, value_range=(-1, 1),
                                     title=f"{name}, {budget_s:.0f} s")
            save_figure(figure, os.path.join(out, f"images_{name}{tag}{suffix}.png"))
    return results


def score_saved_gan(path, quick, out):
    """Scores the `EnergyGAN` saved at `path` as `run_gan` scores its GANs."""
    import keras

    import keras_dde

    model, reference, _ = scorer(quick)
    gan = keras.models.load_model(path)
    samples = keras.ops.convert_to_numpy(gan.generate(1000 if quick else 10000, seed=1))
    results = {"model": path, **sample_metrics(model, samples, reference)}
    print(json.dumps(results, indent=1))
    if out:
        from keras_dde.plotting import plot_image_grid
        from keras_dde.utils.files import save_figure

        os.makedirs(out, exist_ok=True)
        figure = plot_image_grid(samples[:64], ncols=8, value_range=(-1, 1),
                                 title=os.path.basename(os.path.dirname(path)))
        save_figure(figure, os.path.join(out, "images_scored.png"))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throughput", action="store_true")
    parser.add_argument("--gan", action="store_true",
                        help="EnergyGAN vs WGAN-GP at the same wall-clock budget")
    parser.add_argument("--score", metavar="MODEL.keras", default=None,
                        help="score a saved EnergyGAN's samples")
    parser.add_argument("--quick", action="store_true",
                        help="with --gan: a ~1-2 minute smoke run")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds of training per model (default 900, quick 20)")
    parser.add_argument("--sigma", type=float, default=0.3)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--dde-steps", type=int, default=1,
                        help="EnergyGAN: fake-DDE updates per generator update")
    parser.add_argument("--generator-lr", type=float, default=2e-4,
                        help="EnergyGAN: the generator's Adam learning rate")
    parser.add_argument("--models", default="energy_gan,wgan_gp",
                        help="with --gan: which of energy_gan, wgan_gp to train")
    parser.add_argument("--eval-every", type=float, default=0,
                        help="with --gan: also score the samples every this many "
                        "seconds of training (not counted in the budget)")
    parser.add_argument("--sigma-max", type=float, default=None,
                        help="with --gan: EnergyGAN on two MultiScaleDDEs with noise "
                        "levels in [--sigma, --sigma-max] (default: DDEModels)")
    parser.add_argument("--time-weight", type=float, default=1.0,
                        help="with --sigma-max: the DDEs' heat-equation weight")
    parser.add_argument("--target-fraction", type=float, default=0.5,
                        help="with --sigma-max: the generator loss's share of samples "
                        "at --sigma (EnergyGAN's target_fraction)")
    parser.add_argument("--generator-decay-steps", type=int, default=None,
                        help="EnergyGAN: cosine-decay the generator's learning rate to "
                        "recipes.GENERATOR_DECAY_ALPHA of it over this many steps "
                        "(default constant)")
    parser.add_argument("--objective", default="kl", choices=("kl", "distillation"),
                        help="with --sigma-max: the EnergyGAN's generator objective; "
                        "'distillation' fits its teacher inside the budget")
    parser.add_argument("--teacher-fraction", type=float, default=0.15,
                        help="distillation: the budget's share for fitting the teacher")
    parser.add_argument("--teacher-lr", type=float, default=1e-3)
    parser.add_argument("--n-pairs", type=int, default=2048,
                        help="distillation: the bank of ODE pairs (in the budget)")
    parser.add_argument("--ode-steps", type=int, default=20)
    parser.add_argument("--warmup-steps", type=int, default=500)
    parser.add_argument("--regression-weight", type=float, default=0.1)
    parser.add_argument("--ode-to-zero", default="tweedie", choices=("euler", "tweedie"),
                        help="distillation: the bank's last step from sigma to 0, "
                        "the Euler half step or Tweedie's full step")
    parser.add_argument("--regression-decay-steps", type=int, default=1000,
                        help="distillation: a cosine from --regression-weight to 0 "
                        "over this many generator steps (0: constant)")
    parser.add_argument("--train-real", action=argparse.BooleanOptionalAction,
                        default=True,
                        help="distillation: the teacher goes on fitting the data "
                        "during the GAN (the bank stays as made)")
    parser.add_argument("--generator-activation", default="relu",
                        help="distillation: the generator's hidden activation")
    parser.add_argument("--generator-kernel", type=int, default=4,
                        help="distillation: the generator's kernel size (4: "
                        "divisible by the stride, no checkerboard overlap)")
    parser.add_argument("--seed", type=int, default=0,
                        help="--gan: seeds the models (not the classifier)")
    parser.add_argument("--tag", default="", help="suffix of the grid's file name")
    parser.add_argument("--out", default=None, help="folder for the sample grids")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--output", default=None)
    parser.add_argument("--run-config", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_config:
        print(json.dumps(run_throughput(args.run_config)))
        return
    if args.throughput:
        configs = [c for c in args.configs.split(",") if c]
        unknown = sorted(set(configs) - set(CONFIGS))
        if unknown:
            parser.error(f"unknown --configs {unknown}; choose from {list(CONFIGS)}")
        table = throughput_table(args.rounds, configs)
        header = (
            f"Conv DDE training throughput, batch {BATCH}, 28x28x1, energy_convnet() "
            f"(187,072 parameters), medians of {args.rounds} alternating rounds.\n"
            f"Command: python benchmarks/images.py --throughput --rounds {args.rounds}\n\n"
        )
        print(table)
        if args.output:
            from keras_dde.utils.files import atomic_path

            with atomic_path(args.output) as path, open(path, "w") as file:
                file.write(header + table + "\n")
        return
    if args.score:
        score_saved_gan(args.score, args.quick, args.out)
        return
    if args.gan:
        budget = args.budget or (20.0 if args.quick else 900.0)
        if args.objective == "distillation" and args.sigma_max is None:
            parser.error("--objective distillation needs --sigma-max (MultiScaleDDEs)")
        models = [m for m in args.models.split(",") if m]
        unknown = sorted(set(models) - {"energy_gan", "wgan_gp"})
        if unknown or not models:
            parser.error(f"unknown --models {unknown}; choose from energy_gan, wgan_gp")
        run_gan(budget, args.quick, args.sigma, args.latent_dim, args.out,
                dde_steps=args.dde_steps, generator_lr=args.generator_lr,
                models=models, every_s=args.eval_every, sigma_max=args.sigma_max,
                time_weight=args.time_weight,
                generator_decay_steps=args.generator_decay_steps,
                target_fraction=args.target_fraction, objective=args.objective,
                distillation={
                    "teacher_fraction": args.teacher_fraction,
                    "teacher_lr": args.teacher_lr, "n_pairs": args.n_pairs,
                    "ode_steps": args.ode_steps, "warmup_steps": args.warmup_steps,
                    "regression_weight": args.regression_weight,
                    "generator_activation": args.generator_activation,
                    "generator_kernel": args.generator_kernel,
                    "latent_dim": args.latent_dim, "ode_to_zero": args.ode_to_zero,
                    "regression_decay_steps": args.regression_decay_steps,
                    "train_real": args.train_real,
                }, tag=args.tag, seed=args.seed)
        return
    parser.error("pass --throughput, --gan or --score")


if __name__ == "__main__":
    main()
