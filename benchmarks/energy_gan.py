"""EnergyGAN on 2-D toys: mode coverage and sample quality per CPU time.

    KERAS_BACKEND=jax python benchmarks/energy_gan.py --dataset 8gaussians
    KERAS_BACKEND=jax python benchmarks/energy_gan.py --dataset 2spirals
    KERAS_BACKEND=jax python benchmarks/energy_gan.py --dataset 25gaussians \
        --sigma 0.1 --initial-sigma 2.0 --halving-steps 800 --epochs 400
    KERAS_BACKEND=jax python benchmarks/energy_gan.py --dataset 8gaussians \
        --sigma 0.1 --multiscale

For the mixtures (8gaussians, 25gaussians) it reports the modes covered (a
mode counts when it holds at least 2% of the samples) and the fraction of
samples within 3 standard deviations of their nearest mode, and the smallest
and largest mode's share of those samples (fair: 1 / modes). For every data
set it reports the average log-likelihood of 5,000 generated samples under the
exact KDE of the training data (bandwidth `--kde-bandwidth`) next to that of
5,000 real held-out points: a generator matching the data closes the gap.

`--multiscale` trains against two `MultiScaleDDE`s (the generator loss is
averaged over noise levels: `--target-fraction` of them at `sigma`, the rest
log-uniform in `[sigma, sigma_max]`), built here
with the recipe's networks and optimizers until `keras_dde.recipes` has them.
"""

import argparse
import time

import keras
import numpy as np

import keras_dde
from keras_dde import recipes
from keras_dde.testing.reference import exact_kde_log_density

MIXTURES = {
    # name: (centers, per-axis standard deviation), as in keras_dde.datasets.toy2d
    "8gaussians": (
        4.0 / 1.414 * np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], 1),
        0.5 / 1.414,
    ),
    "25gaussians": (
        np.stack(np.meshgrid(np.arange(-2, 3) * 1.5, np.arange(-2, 3) * 1.5), -1).reshape(-1, 2),
        0.1,
    ),
}


class WGANGP(keras_dde.backend.StatefulTrainer, keras.Model):
    """The keras-io WGAN-GP recipe (critic steps, gradient penalty) as a baseline.

    Built on keras_dde's backend seam so that it runs on every backend.
    """

    def __init__(self, generator, critic, critic_steps=5, penalty=10.0, seed=0):
        super().__init__()
        self.generator, self.critic = generator, critic
        self.critic_steps, self.penalty = critic_steps, penalty
        self.latent_dim = generator.inputs[0].shape[-1]
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.generator_tracker = keras.metrics.Mean(name="generator_loss")
        self.critic_tracker = keras.metrics.Mean(name="critic_loss")
        # Built now: `fit` would otherwise call the model on a data batch.
        self.build((None, self.latent_dim))

    def build(self, input_shape):
        pass

    def call(self, z):
        return self.generator(z)

    @property
    def metrics(self):
        return [self.generator_tracker, self.critic_tracker]

    def compile(self, generator_optimizer, critic_optimizer):
        router = keras_dde.optimizers.RoutedOptimizer(
            {"generator": generator_optimizer, "critic": critic_optimizer}
        )
        router.route("generator", self.generator.trainable_variables)
        router.route("critic", self.critic.trainable_variables)
        super().compile(optimizer=router, steps_per_execution=8)
        self.optimizer.build(self.trainable_variables)

    def _fake(self, n):
        z = keras.random.normal((n, self.latent_dim), seed=self.seed_generator)
        return self.generator(z, training=True)

    def critic_loss(self, real):
        n = keras.ops.shape(real)[0]
        fake = keras.ops.stop_gradient(self._fake(n))
        mix = keras.random.uniform((n, 1), seed=self.seed_generator)
        between = mix * real + (1 - mix) * fake
        _, gradient = keras_dde.backend.input_gradient(self.critic, between)
        norm = keras.ops.sqrt(keras.ops.sum(gradient**2, axis=-1) + 1e-12)
        wasserstein = keras.ops.mean(self.critic(fake)) - keras.ops.mean(self.critic(real))
        return wasserstein + self.penalty * keras.ops.mean((norm - 1.0) ** 2)

    def stateful_train_step(self, data):
        real = data
        for _ in range(self.critic_steps):
            loss, grads = keras_dde.backend.value_and_grad(
                lambda: self.critic_loss(real), self.critic.trainable_variables
            )
            self.optimizer.apply(grads, self.critic.trainable_variables)
        self.critic_tracker.update_state(loss)
        n = keras.ops.shape(real)[0]
        loss, grads = keras_dde.backend.value_and_grad(
            lambda: -keras.ops.mean(self.critic(self._fake(n))),
            self.generator.trainable_variables,
        )
        self.optimizer.apply(grads, self.generator.trainable_variables)
        self.generator_tracker.update_state(loss)
        return {m.name: m.result() for m in self.metrics}

    def generate(self, n, seed=None):
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        return self.generator.predict(z.astype("float32"), verbose=0, batch_size=4096)


def mode_statistics(samples, centers, std):
    distances = np.linalg.norm(samples[:, None, :] - centers[None], axis=-1)
    nearest = distances.argmin(axis=1)
    close = distances.min(axis=1) <= 3 * std
    counts = np.bincount(nearest[close], minlength=len(centers))
    covered = int((counts >= 0.02 * len(samples)).sum())
    shares = counts / max(counts.sum(), 1)
    return covered, float(close.mean()), shares


def multiscale_energy_gan(args, x):
    """`recipes.build_energy_gan`'s settings, with two `MultiScaleDDE`s."""
    recipe = recipes.recipe_defaults("gan")
    sigma_max = args.sigma_max or float(np.sqrt(np.linalg.eigvalsh(np.cov(x.T)).max()))
    keras.utils.set_random_seed(args.seed)

    def dde(seed):
        energy = keras_dde.models.conditional_energy_mlp(
            2, width=args.dde_width or recipe["width"], depth=recipe["depth"],
            fourier_features=args.fourier_features,
        )
        return keras_dde.MultiScaleDDE(
            energy, args.sigma, sigma_max, seed=seed,
            gaussian_base=args.gaussian_base,
        )

    generator = keras_dde.models.generator_mlp(
        args.latent_dim, 2, width=recipe["generator_width"],
        depth=recipe["generator_depth"],
    )
    gan = keras_dde.EnergyGAN(
        generator, dde(args.seed), dde(args.seed + 1), dde_steps=args.dde_steps,
        seed=args.seed + 2,
        **({} if args.target_fraction is None else {"target_fraction": args.target_fraction}),
    )
    generator_lr = args.generator_lr
    if args.generator_lr_decay:
        # One cosine over the whole run: the generator slows down as the DDEs
        # settle, which damps the GAN's oscillation of the mode shares.
        generator_steps = args.epochs * -(-len(x) // args.batch_size)
        generator_lr = keras.optimizers.schedules.CosineDecay(
            args.generator_lr, generator_steps, alpha=args.generator_lr_decay
        )
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(generator_lr, beta_1=0.5),
        dde_optimizer=keras.optimizers.Adam(args.dde_lr),
    )
    return gan


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    recipe = recipes.recipe_defaults("gan")
    parser.add_argument("--dataset", default="8gaussians", choices=keras_dde.datasets.toy2d_names())
    parser.add_argument("--kde-bandwidth", type=float, default=0.1)
    parser.add_argument("--sigma", type=float, default=recipe["sigma"])
    parser.add_argument(
        "--initial-sigma", type=float, default=None,
        help="anneal sigma geometrically from this value down to --sigma",
    )
    parser.add_argument(
        "--halving-steps", type=int, default=1000,
        help="generator steps per halving of sigma when annealing",
    )
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--dde-steps", type=int, default=recipe["dde_steps"])
    parser.add_argument("--generator-lr", type=float,
                        default=recipe["generator_learning_rate"])
    parser.add_argument("--dde-lr", type=float, default=recipe["dde_learning_rate"])
    parser.add_argument("--latent-dim", type=int, default=recipe["latent_dim"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--model", default="energy-gan", choices=["energy-gan", "wgan-gp"],
        help="wgan-gp: the plain-GAN baseline with the same generator and budget",
    )
    parser.add_argument(
        "--multiscale", action="store_true",
        help="energy-gan with two MultiScaleDDEs (noise levels up to --sigma-max)",
    )
    parser.add_argument(
        "--sigma-max", type=float, default=None,
        help="with --multiscale; default the data's largest principal std",
    )
    parser.add_argument(
        "--target-fraction", type=float, default=None,
        help="with --multiscale: share of the generator loss at --sigma "
        "(default EnergyGAN's)",
    )
    # The GAN recipe turns off two MultiScaleDDE defaults that are made for
    # density estimation: on 25gaussians (600 epochs, seed 0) the plain
    # conditional MLP covered 16/25 modes, with damped Fourier features 2/25,
    # with the Gaussian base 4/25, with both 2/25.
    parser.add_argument(
        "--fourier-features", type=int, default=0,
        help="with --multiscale: damped Fourier features of each DDE's network "
        "(default 0: none; conditional_energy_mlp's own default is width // 2)",
    )
    parser.add_argument(
        "--gaussian-base", action="store_true",
        help="with --multiscale: MultiScaleDDEs with the data's Gaussian base "
        "(MultiScaleDDE's default; off in this recipe)",
    )
    parser.add_argument(
        "--generator-lr-decay", type=float, default=0.0,
        help="with --multiscale: if > 0, the generator's learning rate follows "
        "a cosine over all --epochs down to this fraction of --generator-lr",
    )
    parser.add_argument(
        "--dde-width", type=int, default=None,
        help="with --multiscale: the DDE networks' width (default the recipe's)",
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    x = keras_dde.datasets.toy2d(args.dataset, 8192, seed=args.seed)
    if args.model == "energy-gan" and args.multiscale:
        gan = multiscale_energy_gan(args, x)
    elif args.model == "energy-gan":
        schedule = None
        if args.initial_sigma is not None:
            schedule = keras_dde.schedules.GeometricSigmaDecay(
                args.initial_sigma, args.sigma, 0.5, args.halving_steps
            )
        # The recipe of `keras-dde gan` (keras_dde.recipes), with these settings.
        gan = recipes.build_energy_gan(
            2, sigma=args.sigma, latent_dim=args.latent_dim,
            dde_steps=args.dde_steps, generator_learning_rate=args.generator_lr,
            dde_learning_rate=args.dde_lr, seed=args.seed, sigma_schedule=schedule,
        )
    else:
        generator = keras_dde.models.generator_mlp(args.latent_dim, 2, width=128)
        critic = keras.Sequential(
            [keras.Input((2,))]
            + [keras.layers.Dense(64, activation="swish") for _ in range(3)]
            + [keras.layers.Dense(1)]
        )
        gan = WGANGP(generator, critic, seed=args.seed)
        # The keras-io recipe's optimizers.
        gan.compile(
            generator_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9),
            critic_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9),
        )
    held_out = keras_dde.datasets.toy2d(args.dataset, 5000, seed=args.seed + 1000)
    real_ll = exact_kde_log_density(x, held_out, args.kde_bandwidth).mean()
    train_seconds = 0.0
    for stage in range(4):
        fit_start = time.perf_counter()
        gan.fit(x, batch_size=args.batch_size, epochs=args.epochs // 4, verbose=0)
        train_seconds += time.perf_counter() - fit_start
        samples = gan.generate(10000, seed=1)
        name = args.model + (" (multiscale)" if args.multiscale else "")
        report = (
            f"{name} {keras.backend.backend()} {args.dataset} after "
            f"{(stage + 1) * args.epochs // 4} epochs, {train_seconds:.0f} s training"
            f" (sigma {getattr(gan, 'sigma', float('nan')):.3g}):"
        )
        if args.dataset in MIXTURES:
            centers, std = MIXTURES[args.dataset]
            covered, close, shares = mode_statistics(samples, centers, std)
            report += (
                f" modes covered {covered}/{len(centers)}, within 3 std of a mode "
                f"{close:.1%}, mode shares {shares.min():.1%}-{shares.max():.1%};"
            )
            if len(centers) <= 8:
                report += " shares " + " ".join(f"{v:.1%}" for v in shares) + ";"
        fake_ll = exact_kde_log_density(x, samples[:5000], args.kde_bandwidth).mean()
        report += (
            f" KDE log-likelihood generated {fake_ll:.3f} vs real held-out "
            f"{real_ll:.3f} (gap {real_ll - fake_ll:.3f} nats)"
        )
        print(report, flush=True)


if __name__ == "__main__":
    main()
