"""Training throughput: `DDEModel.fit` against the seed tutorial's recipe.

Workload (the project's reference configuration): 2-D two spirals, a 2-32-32-32-1 tanh
MLP, batch 512, sigma 0.1, Adam. Each configuration runs in a fresh
subprocess (a Keras backend is fixed per process); the configurations
alternate over several rounds and the medians are reported, so a noisy,
shared machine affects them all alike.

    python benchmarks/train_throughput.py            # 3 rounds
    python benchmarks/train_throughput.py --rounds 5 --output benchmarks/results/train_throughput.md

Configurations:
  seed-recipe       the seed tutorial's DDE as a Keras 3 model on TensorFlow:
                    nested GradientTapes in `train_step`, Keras's defaults
                    (steps_per_execution=1). The baseline.
  seed-recipe-spe32 the same with steps_per_execution=32, our default.
  dde-tensorflow    keras_dde.DDEModel.fit with its defaults.
  dde-jax           keras_dde.DDEModel.fit with its defaults (steps fused by lax.scan).
  dde-jax-unfused   keras_dde.DDEModel.fit, steps_per_execution=1.
  jax-hand-fused    the same step written by hand in JAX: jit + lax.scan over
                    an epoch, data shuffled on the host. The practical ceiling.
  dde-torch         keras_dde.DDEModel.fit with its defaults on PyTorch (eager:
                    torch.compile cannot do the double backward pass).
  torch-eager-loop  the same step as an eager PyTorch loop in the reference
                    implementation's style (logchan/dde): a shuffling
                    DataLoader, nn.Sequential, autograd.grad(create_graph=True),
                    backward, Adam, the loss read back every step. The torch
                    baseline.

Images (issue 15; 28x28 Fashion-MNIST in [-1, 1], batch 64, 32 timed steps
after a warm-up epoch; not comparable with the 2-D rows):
  conv-dde-<backend>   DDEModel(energy_convnet()) with its defaults, the
                       workload of `benchmarks/images.py --throughput`.
  image-gan-<backend>  recipes.build_energy_gan((28, 28, 1), objective="kl",
                       dde_steps=2): the seed's GAN, energy_convnet DDEs,
                       generator_convnet, one EnergyGAN step (two fake-DDE,
                       one real-DDE and one generator update) per batch.

    python benchmarks/train_throughput.py --rounds 1 --configs conv-dde-jax image-gan-jax
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

STEPS_PER_EPOCH = 100
BATCH_SIZE = 512
SIGMA = 0.1
TIMED_EPOCHS = 10

CONFIGS = {
    "seed-recipe": "tensorflow",
    "seed-recipe-spe32": "tensorflow",
    "dde-tensorflow": "tensorflow",
    "dde-jax": "jax",
    "dde-jax-unfused": "jax",
    "jax-hand-fused": "jax",
    "dde-torch": "torch",
    "torch-eager-loop": "torch",
    **{f"{kind}-{backend}": backend for kind in ("conv-dde", "image-gan")
       for backend in ("tensorflow", "jax", "torch")},
}
IMAGE_BATCH = 64
IMAGE_STEPS = 32


def _data():
    import keras_dde

    return keras_dde.datasets.toy2d("2spirals", BATCH_SIZE * STEPS_PER_EPOCH, seed=0)


def _time_fit(model, x):
    model.fit(x, batch_size=BATCH_SIZE, epochs=1, verbose=0)  # compile, warm up
    start = time.perf_counter()
    model.fit(x, batch_size=BATCH_SIZE, epochs=TIMED_EPOCHS, verbose=0)
    return TIMED_EPOCHS * STEPS_PER_EPOCH / (time.perf_counter() - start)


def seed_recipe_model(steps_per_execution):
    """A plain re-implementation of the seed tutorial's DDE under Keras 3."""
    import warnings

    import keras
    import tensorflow as tf

    warnings.filterwarnings("ignore", message="Gradients do not exist")

    class SeedDDE(keras.Model):
        def __init__(self, sigma):
            super().__init__()
            self.net = keras.Sequential(
                [keras.layers.Dense(32, activation="tanh") for _ in range(3)]
                + [keras.layers.Dense(1)]
            )
            self.sigma = sigma

        def call(self, x):
            return self.net(x)

        def train_step(self, data):
            noise = tf.random.normal(tf.shape(data)) * self.sigma
            noisy = data + noise
            with tf.GradientTape() as tape:
                with tf.GradientTape() as inner:
                    inner.watch(noisy)
                    energy = self(noisy)
                score = inner.gradient(energy, noisy)
                loss = tf.reduce_mean(
                    tf.reduce_sum((self.sigma**2 * score + noise) ** 2, axis=1)
                )
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return {"loss": loss}

    model = SeedDDE(SIGMA)
    model.compile(optimizer="adam", steps_per_execution=steps_per_execution)
    return model


def dde_model(**compile_kwargs):
    import keras_dde

    energy = keras_dde.models.energy_mlp(2, width=32, depth=3, activation="tanh")
    model = keras_dde.DDEModel(energy, sigma=SIGMA, seed=0)
    model.compile(**compile_kwargs)
    return model


def jax_hand_fused(x):
    """Steps/s of a hand-written jit + lax.scan epoch (no Keras)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    sizes = [2, 32, 32, 32, 1]
    keys = jax.random.split(jax.random.PRNGKey(0), len(sizes))
    params = [
        (jax.random.normal(k, (a, b)) / np.sqrt(a), jnp.zeros(b))
        for k, a, b in zip(keys, sizes[:-1], sizes[1:])
    ]

    def energy(params, x):
        for w, b in params[:-1]:
            x = jnp.tanh(x @ w + b)
        return (x @ params[-1][0])[:, 0]

    def loss(params, x, key):
        eps = jax.random.normal(key, x.shape)
        score = jax.grad(lambda z: energy(params, z).sum())(x + SIGMA * eps)
        return jnp.mean(jnp.sum((SIGMA * score + eps) ** 2, axis=1))

    def adam(state, grads, lr=1e-3, b1=0.9, b2=0.999):
        params, m, v, t = state
        t = t + 1
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        params = jax.tree.map(
            lambda p, m, v: p
            - lr * (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + 1e-7),
            params, m, v,
        )
        return params, m, v, t

    @jax.jit
    def epoch(state, batches, key):
        def step(state, inputs):
            batch, key = inputs
            value, grads = jax.value_and_grad(loss)(state[0], batch, key)
            return adam(state, grads), value

        keys = jax.random.split(key, batches.shape[0])
        return jax.lax.scan(step, state, (batches, keys))

    zeros = jax.tree.map(jnp.zeros_like, params)
    state = (params, zeros, zeros, 0.0)
    rng = np.random.default_rng(0)

    def shuffled():
        return x[rng.permutation(len(x))].reshape(STEPS_PER_EPOCH, BATCH_SIZE, 2)

    state, losses = epoch(state, shuffled(), jax.random.PRNGKey(0))
    losses.block_until_ready()
    start = time.perf_counter()
    for index in range(TIMED_EPOCHS):
        state, losses = epoch(state, shuffled(), jax.random.PRNGKey(index + 1))
    losses.block_until_ready()
    return TIMED_EPOCHS * STEPS_PER_EPOCH / (time.perf_counter() - start)


def torch_eager_loop(x):
    """Steps/s of an eager PyTorch training loop written without Keras."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers = []
    for width_in in (2, 32, 32):
        layers += [nn.Linear(width_in, 32), nn.Tanh()]
    net = nn.Sequential(*layers, nn.Linear(32, 1, bias=False))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x)),
        batch_size=BATCH_SIZE,
        shuffle=True,
    )

    def epoch():
        losses = []
        for (batch,) in loader:
            optimizer.zero_grad()
            eps = torch.randn_like(batch)
            noisy = (batch + SIGMA * eps).requires_grad_(True)
            energy = net(noisy)
            (score,) = torch.autograd.grad(energy.sum(), noisy, create_graph=True)
            loss = ((SIGMA * score + eps) ** 2).sum(dim=1).mean()
            loss.backward()
            optimizer.step()
            losses.append(float(loss))
        return losses

    epoch()  # warm up
    start = time.perf_counter()
    for _ in range(TIMED_EPOCHS):
        epoch()
    return TIMED_EPOCHS * STEPS_PER_EPOCH / (time.perf_counter() - start)


def image_step(name):
    """Steps/s of a conv DDE or an image EnergyGAN, after a warm-up epoch."""
    if name.startswith("conv-dde"):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from images import run_throughput

        return run_throughput(CONFIGS[name])["steps_per_s"]
    from keras_dde import recipes
    from keras_dde.datasets import load_fashion_mnist

    images, _ = load_fashion_mnist("train")
    x = images[: IMAGE_BATCH * IMAGE_STEPS]
    gan = recipes.build_energy_gan(x.shape[1:], sigma=0.3, latent_dim=32,
                                   objective="kl", dde_steps=2)
    gan.fit(x, batch_size=IMAGE_BATCH, epochs=1, verbose=0)  # compile, warm up
    start = time.perf_counter()
    gan.fit(x, batch_size=IMAGE_BATCH, epochs=1, verbose=0)
    return IMAGE_STEPS / (time.perf_counter() - start)


def run_one(name):
    if name.startswith(("conv-dde", "image-gan")):
        return image_step(name)
    x = _data()
    if name == "seed-recipe":
        return _time_fit(seed_recipe_model(1), x)
    if name == "seed-recipe-spe32":
        return _time_fit(seed_recipe_model(32), x)
    if name in ("dde-tensorflow", "dde-jax", "dde-torch"):
        return _time_fit(dde_model(), x)
    if name == "dde-jax-unfused":
        return _time_fit(dde_model(steps_per_execution=1), x)
    if name == "jax-hand-fused":
        return jax_hand_fused(x)
    if name == "torch-eager-loop":
        return torch_eager_loop(x)
    raise ValueError(f"unknown configuration {name!r}")


def measure(name):
    env = dict(os.environ, KERAS_BACKEND=CONFIGS[name], TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, __file__, "--child", name],
        env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["steps_per_second"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--output", help="also write the markdown table here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({"steps_per_second": run_one(args.child)}))
        return

    runs = {name: [] for name in args.configs}
    for round_index in range(args.rounds):
        for name in args.configs:
            runs[name].append(measure(name))
            print(f"round {round_index + 1}: {name:18s} {runs[name][-1]:8.3g} steps/s",
                  flush=True)
    medians = {name: statistics.median(values) for name, values in runs.items()}
    baseline = medians.get("seed-recipe")
    lines = [
        "| configuration | backend | steps/s (median) | runs | vs seed recipe |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for name, median in medians.items():
        ratio = f"{median / baseline:.2f}x" if baseline else "n/a"
        values = ", ".join(f"{v:.3g}" for v in runs[name])
        lines.append(f"| {name} | {CONFIGS[name]} | {median:.3g} | {values} | {ratio} |")
    table = "\n".join(lines)
    print()
    print(table)
    if args.output:
        from keras_dde.utils.files import atomic_path

        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with atomic_path(args.output) as temporary, open(temporary, "w") as file:
            file.write(table + "\n")


if __name__ == "__main__":
    main()
