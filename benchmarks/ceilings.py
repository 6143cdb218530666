"""Every backend against its own ceiling: the package's `fit` beside a hand loop.

For each backend and each training step, `fit` (the package's defaults) runs
beside hand-written loops on the same backend: the same Keras network (its
layers called directly, no `keras.Model.fit`), batch, loss and Adam, with the
noise drawn natively. The rounds alternate (fit, loop, ..., fit, loop, ...) so
a shared machine's load hits every configuration alike; medians are reported.

Steps (sizes small enough for a 2-core CPU):
  dde         `DDEModel(energy_mlp(2, 128, 3, tanh))`, sigma 0.15, batch 256.
  multiscale  `MultiScaleDDE(conditional_energy_mlp(2))` as `recipes.
              build_multiscale_dde` builds it: the x- and u-terms, the
              Gaussian base and the weight averaging; batch 256.
  gan         one `EnergyGAN` step (objective "kl", the real DDE trained
              too): real-DDE, generator and fake-DDE updates; 2-D,
              `generator_mlp(8, 2)` and two `energy_mlp(2)` DDEs, batch 256.
  conv        `DDEModel(energy_convnet())` on 28x28x1 images, batch 32.

Hand loops:
  jax-jit            one `jax.jit` step per batch (`stateless_call`, hand Adam).
  jax-scan           the same step, 32 batches per `jit` call in a `lax.scan`
                     (MLP steps only).
  tf-graph           `tf.function` of 32 steps (a `tf.range` loop), nested
                     `GradientTape`s, `keras.optimizers.Adam`.
  tf-xla             the same with `jit_compile=True`.
  torch-eager        eager step: `autograd.grad(create_graph=True)`,
                     `backward`, `torch.optim.Adam` on the Keras variables.
  torch-nn           (dde only) the same loop on an equivalent `nn.Sequential`:
                     the cost of eager Keras layer calls shows as its gap.
  torch-compile      (dde only) `torch.compile` of the `nn.Sequential` step;
                     records the error where it cannot do double backward.

Also timed: `fit` in other configurations (JAX `steps_per_execution=1`;
TensorFlow with `jit_compile` True and False) and, for `multiscale`, a
`DDEModel` on the same conditional network (`fit-single-sigma`).
PyTorch runs with `OMP_NUM_THREADS=1` (`--torch-threads`), as the test suite.

    python benchmarks/ceilings.py --output /tmp/ceilings.md   # + .json
    python benchmarks/ceilings.py --backend jax --steps dde conv
    python benchmarks/ceilings.py --quick     # smoke run, about a minute per backend
    python benchmarks/ceilings.py --backend tensorflow --steps conv --timed-steps conv=256

`benchmarks/results/ceilings.md` records the runs, with their load.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

BACKENDS = ("jax", "tensorflow", "torch")
STEPS = ("dde", "multiscale", "gan", "conv")
SIGMA = 0.15
LEARNING_RATE = 1e-3
# Steps per timed run (a multiple of every default steps_per_execution).
TIMED_STEPS = {"dde": 512, "multiscale": 256, "gan": 128, "conv": 32}
QUICK_STEPS = {"dde": 64, "multiscale": 64, "gan": 32, "conv": 32}
BATCH = {"dde": 256, "multiscale": 256, "gan": 256, "conv": 32}
BLOCK = 32  # batches per compiled call in the jax-scan and tf loops


# --- The workloads -----------------------------------------------------------


def data_for(step, steps):
    import numpy as np

    import keras_dde

    n = BATCH[step] * steps
    if step == "conv":
        rng = np.random.default_rng(0)
        return np.tanh(rng.normal(size=(n, 28, 28, 1))).astype("float32")
    return keras_dde.datasets.toy2d("8gaussians", n, seed=0).astype("float32")


def build_fit_model(step, x, **compile_kwargs):
    """The package's model for `step`, compiled with its defaults, except
    for `compile_kwargs` (the other `fit` configurations)."""
    import keras

    import keras_dde
    from keras_dde import recipes

    keras.utils.set_random_seed(0)
    if step == "dde":
        energy = keras_dde.models.energy_mlp(2, width=128, depth=3, activation="tanh")
        model = keras_dde.DDEModel(energy, sigma=SIGMA, seed=0)
        model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), **compile_kwargs)
    elif step == "multiscale" and compile_kwargs.pop("single_sigma", False):
        # A `DDEModel` on the same conditional network at u = log sigma: the
        # cost of the multi-scale loss (its u-term, levels, base, averaging).
        conditional = recipes.build_multiscale_dde(2, sigma=SIGMA, sigma_max=2.0).network
        inputs = keras.Input((2,))
        log_sigma = keras.layers.Lambda(
            lambda x: keras.ops.full((keras.ops.shape(x)[0], 1), math.log(SIGMA))
        )(inputs)
        energy = keras.Model(inputs, conditional([inputs, log_sigma]))
        model = keras_dde.DDEModel(energy, sigma=SIGMA, seed=0)
        model.compile(optimizer=keras.optimizers.Adam(4e-3), **compile_kwargs)
    elif step == "multiscale":
        model = recipes.build_multiscale_dde(2, sigma=SIGMA, sigma_max=2.0)
        if compile_kwargs:
            model.compile(optimizer=keras.optimizers.Adam(4e-3), **compile_kwargs)
        model.set_data_statistics(x)
    elif step == "gan":
        model = keras_dde.EnergyGAN(
            keras_dde.models.generator_mlp(latent_dim=8, output_dim=2),
            keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=SIGMA, seed=0),
            keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=SIGMA, seed=1),
            objective="kl",
            seed=2,
        )
        model.compile(
            generator_optimizer=keras.optimizers.Adam(LEARNING_RATE),
            dde_optimizer=keras.optimizers.Adam(LEARNING_RATE),
            **compile_kwargs,
        )
    elif step == "conv":
        model = keras_dde.DDEModel(keras_dde.models.energy_convnet(), sigma=0.3, seed=0)
        model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), **compile_kwargs)
    else:
        raise ValueError(f"unknown step {step!r}")
    return model


def fit_variants(backend, step):
    """Other `fit` configurations to time beside the defaults (`fit`)."""
    variants = {}
    if step == "multiscale":
        variants["fit-single-sigma"] = {"single_sigma": True}
    return {**variants, **_backend_variants(backend)}


def _backend_variants(backend):
    if backend == "tensorflow":
        return {"fit-xla": {"jit_compile": True}, "fit-no-xla": {"jit_compile": False}}
    if backend == "jax":
        return {"fit-spe1": {"steps_per_execution": 1}}
    return {}


# --- The hand-written losses, in keras.ops on a `call(layer, inputs)` --------
# `draw(shape)` is the backend's native standard normal; `input_gradient(f, z)`
# its native d sum(f(z)) / dz, differentiable again.


def dde_loss(call, net, x, eps, sigma, input_gradient):
    from keras import ops

    noisy = x + sigma * eps
    score = input_gradient(lambda z: call(net, z), noisy)
    axes = tuple(range(1, len(x.shape)))
    return ops.mean(ops.sum(ops.square(sigma * score + eps), axis=axes))


def multiscale_loss(call, model, levels, x, eps, uniform, input_gradient):
    """`MultiScaleDDE.compute_dde_loss`, written out; `levels`: log sigma range."""
    from keras import ops

    low, high = levels
    log_sigma = ops.where(
        uniform[:, 1] < model.target_fraction, low, low + uniform[:, 0] * (high - low)
    )
    sigma = ops.exp(log_sigma)
    noisy = x + sigma[:, None] * eps
    joint = ops.concatenate([noisy, log_sigma[:, None]], axis=-1)

    def energy(z):
        values = ops.reshape(call(model.network, [z[:, :2], z[:, 2:]]), (-1,))
        return values + call(model.base_density, [z[:, :2], z[:, 2]])

    gradient = input_gradient(energy, joint)
    x_term = ops.sum(ops.square(sigma[:, None] * gradient[:, :2] + eps), axis=-1)
    target = ops.sum(ops.square(eps), axis=-1) - 2.0
    u_term = ops.square(gradient[:, 2] - target) / 4.0
    return ops.mean(x_term + model.time_weight * u_term)


def generator_loss(call, gan, latents, eps):
    from keras import ops

    noisy = call(gan.generator, latents) + SIGMA * eps
    return ops.mean(
        ops.reshape(call(gan.fake_dde.network, noisy), (-1,))
        - ops.reshape(call(gan.real_dde.network, noisy), (-1,))
    )


# --- JAX ---------------------------------------------------------------------


def jax_loop(step, model, scan):
    sigma, levels = _sigma(model) if step != "gan" else SIGMA, _levels(model)
    import jax
    import jax.numpy as jnp

    layers = _trained_layers(step, model)
    fixed = [model.base_density] if step == "multiscale" else []
    def values(layer, kind):
        return [v.value for v in getattr(layer, kind)]

    params = {id(l): values(l, "trainable_variables") for l in layers}
    frozen = {id(l): values(l, "non_trainable_variables") for l in layers + fixed}
    for layer in fixed:
        params[id(layer)] = []

    def make_call(params):
        def call(layer, inputs):
            kwargs = {} if layer in fixed else {"training": True}
            out, _ = layer.stateless_call(
                params[id(layer)], frozen[id(layer)], inputs, **kwargs
            )
            return out

        return call

    def input_gradient(f, z):
        return jax.grad(lambda z: jnp.sum(f(z)))(z)

    def adam(p, m, v, t, g, lr=LEARNING_RATE, b1=0.9, b2=0.999):
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        p = jax.tree.map(
            lambda p, m, v: p - lr * (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + 1e-7),
            p, m, v,
        )
        return p, m, v

    def one_step(state, batch, key):
        p, m, v, t, avg = state
        t = t + 1
        k1, k2, k3, k4 = jax.random.split(key, 4)
        if step in ("dde", "conv"):
            net = model.network
            loss_fn = lambda p: dde_loss(
                make_call(p), net, batch, jax.random.normal(k1, batch.shape),
                sigma, input_gradient,
            )
            g = jax.grad(loss_fn)(p)
            p, m, v = adam(p, m, v, t, g)
        elif step == "multiscale":
            loss_fn = lambda p: multiscale_loss(
                make_call(p), model, levels, batch, jax.random.normal(k1, batch.shape),
                jax.random.uniform(k2, (batch.shape[0], 2)), input_gradient,
            )
            g = jax.grad(loss_fn)(p)
            p, m, v = adam(p, m, v, t, g)
            decay = jnp.minimum(0.999, (t - 1.0) / (t + 3.0))
            avg = jax.tree.map(lambda a, w: decay * a + (1 - decay) * w, avg, p)
        else:  # gan: real DDE, generator, fake DDE
            gan, n = model, batch.shape[0]
            real, fake, gen = gan.real_dde.network, gan.fake_dde.network, gan.generator

            def part(p, names):
                return {k: p[k] for k in names}

            def merged(p, sub):
                return {**p, **sub}

            g = jax.grad(lambda q: dde_loss(
                make_call(merged(p, q)), real, batch,
                jax.random.normal(k1, batch.shape), SIGMA, input_gradient,
            ))(part(p, [id(real)]))
            g_gen = jax.grad(lambda q: generator_loss(
                make_call(merged(p, q)), gan, jax.random.normal(k2, (n, 8)),
                jax.random.normal(k3, (n, 2)),
            ))(part(p, [id(gen)]))
            samples = jax.lax.stop_gradient(
                make_call(p)(gen, jax.random.normal(k4, (n, 8)))
            )
            g_fake = jax.grad(lambda q: dde_loss(
                make_call(merged(p, q)), fake, samples,
                jax.random.normal(k1, samples.shape), SIGMA, input_gradient,
            ))(part(p, [id(fake)]))
            g = {**g, **g_gen, **g_fake}
            p, m, v = adam(p, m, v, t, g)
        return (p, m, v, t, avg)

    fresh = lambda fn: jax.tree.map(fn, params)
    state = (params, fresh(jnp.zeros_like), fresh(jnp.zeros_like), jnp.zeros(()),
             fresh(jnp.copy))
    if scan:
        def block(state, batches, key):
            keys = jax.random.split(key, batches.shape[0])
            state, _ = jax.lax.scan(
                lambda s, inp: (one_step(s, *inp), None), state, (batches, keys)
            )
            return state

        fn = jax.jit(block, donate_argnums=0)
    else:
        fn = jax.jit(one_step, donate_argnums=0)
    holder = {"state": state, "key": jax.random.PRNGKey(0)}

    def run(x_shuffled, batch):
        s, key = holder["state"], holder["key"]
        if scan:
            blocks = x_shuffled.reshape(-1, BLOCK, batch, *x_shuffled.shape[1:])
            for b in blocks:
                key, sub = jax.random.split(key)
                s = fn(s, b, sub)
        else:
            for i in range(len(x_shuffled) // batch):
                key, sub = jax.random.split(key)
                s = fn(s, x_shuffled[i * batch : (i + 1) * batch], sub)
        jax.block_until_ready(s)
        holder["state"], holder["key"] = s, key

    return run


# --- TensorFlow ---------------------------------------------------------------


def tf_loop(step, model, jit_compile):
    import keras
    import tensorflow as tf

    sigma, levels = _sigma(model) if step != "gan" else SIGMA, _levels(model)
    layers = _trained_layers(step, model)

    def call(layer, inputs):
        if step == "multiscale" and layer is model.base_density:
            return layer(inputs)
        return layer(inputs, training=True)

    def input_gradient(f, z):
        with tf.GradientTape() as tape:
            tape.watch(z)
            values = f(z)
        return tape.gradient(values, z)

    optimizer = keras.optimizers.Adam(LEARNING_RATE)
    variables = [v for layer in layers for v in layer.trainable_variables]
    optimizer.build(variables)
    averages = [tf.Variable(v.value) for v in variables] if step == "multiscale" else []
    t = tf.Variable(0.0)

    def update(loss_fn, layer_list):
        vs = [v for layer in layer_list for v in layer.trainable_variables]
        with tf.GradientTape() as tape:
            loss = loss_fn()
        optimizer.apply_gradients(zip(tape.gradient(loss, vs), vs))

    def one_step(batch):
        if step in ("dde", "conv"):
            eps = tf.random.normal(tf.shape(batch))
            update(lambda: dde_loss(call, model.network, batch, eps, sigma,
                                    input_gradient), layers)
        elif step == "multiscale":
            eps = tf.random.normal(tf.shape(batch))
            uniform = tf.random.uniform((tf.shape(batch)[0], 2))
            update(lambda: multiscale_loss(call, model, levels, batch, eps, uniform,
                                           input_gradient), layers)
            t.assign_add(1.0)
            decay = tf.minimum(0.999, (t - 1.0) / (t + 3.0))
            for a, v in zip(averages, variables):
                a.assign(decay * a + (1 - decay) * v.value)
        else:
            gan, n = model, tf.shape(batch)[0]
            eps = tf.random.normal(tf.shape(batch))
            update(lambda: dde_loss(call, gan.real_dde.network, batch, eps, SIGMA,
                                    input_gradient), [gan.real_dde.network])
            latents, eps2 = tf.random.normal((n, 8)), tf.random.normal((n, 2))
            update(lambda: generator_loss(call, gan, latents, eps2), [gan.generator])
            samples = tf.stop_gradient(gan.generator(tf.random.normal((n, 8)),
                                                     training=True))
            eps3 = tf.random.normal(tf.shape(samples))
            update(lambda: dde_loss(call, gan.fake_dde.network, samples, eps3, SIGMA,
                                    input_gradient), [gan.fake_dde.network])

    # As Keras's TF trainer: XLA compiles one step; the loop stays a TF loop
    # (XLA's CPU convolutions run ~7x slower inside an XLA while loop).
    step_fn = tf.function(one_step, jit_compile=True) if jit_compile else one_step

    @tf.function
    def block(batches):
        for i in tf.range(tf.shape(batches)[0]):
            step_fn(batches[i])

    def run(x_shuffled, batch):
        for b in x_shuffled.reshape(-1, BLOCK, batch, *x_shuffled.shape[1:]):
            block(b)

    return run


# --- PyTorch ------------------------------------------------------------------


def torch_loop(step, model, native=False, compiled=False):
    sigma, levels = _sigma(model) if step != "gan" else SIGMA, _levels(model)
    import torch

    def input_gradient(f, z):
        with torch.enable_grad():
            if not z.requires_grad:
                z = z.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(f(z).sum(), z, create_graph=True)
        return g

    if native:
        net = _torch_native_mlp(model.network)
        if compiled:
            net = torch.compile(net)
        params = list(net.parameters())
        call = lambda layer, inputs: net(inputs)
    else:
        layers = _trained_layers(step, model)
        params = [v.value for layer in layers for v in layer.trainable_variables]
        def call(layer, inputs):
            if step == "multiscale" and layer is model.base_density:
                return layer(inputs)
            return layer(inputs, training=True)
    optimizer = torch.optim.Adam(params, lr=LEARNING_RATE, eps=1e-7)
    averages = [p.detach().clone() for p in params] if step == "multiscale" else []
    counter = [0]

    def update(loss_fn):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        return loss

    def one_step(batch):
        if step in ("dde", "conv"):
            eps = torch.randn_like(batch)
            update(lambda: dde_loss(call, model.network, batch, eps, sigma,
                                    input_gradient))
        elif step == "multiscale":
            eps = torch.randn_like(batch)
            uniform = torch.rand(batch.shape[0], 2)
            update(lambda: multiscale_loss(call, model, levels, batch, eps, uniform,
                                           input_gradient))
            counter[0] += 1
            t = counter[0]
            decay = min(0.999, (t - 1.0) / (t + 3.0))
            with torch.no_grad():
                torch._foreach_lerp_(averages, params, 1.0 - decay)
        else:
            gan, n = model, batch.shape[0]
            # One Adam over all three networks, as the package routes its
            # two optimizers; grads of the others are None in each update.
            update(lambda: dde_loss(call, gan.real_dde.network, batch,
                                    torch.randn_like(batch), SIGMA, input_gradient))
            update(lambda: generator_loss(call, gan, torch.randn(n, 8),
                                          torch.randn(n, 2)))
            with torch.no_grad():
                samples = gan.generator(torch.randn(n, 8), training=True)
            update(lambda: dde_loss(call, gan.fake_dde.network, samples,
                                    torch.randn_like(samples), SIGMA, input_gradient))

    def run(x_shuffled, batch):
        x_t = torch.from_numpy(x_shuffled)
        for i in range(len(x_shuffled) // batch):
            one_step(x_t[i * batch : (i + 1) * batch])

    return run


def _torch_native_mlp(network):
    """An `nn.Sequential` with the shapes and activation of an `energy_mlp`."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    dense = [layer for layer in network.layers if hasattr(layer, "kernel")]
    modules = []
    for layer in dense[:-1]:
        fan_in, fan_out = layer.kernel.shape
        modules += [nn.Linear(fan_in, fan_out), nn.Tanh()]
    modules.append(nn.Linear(dense[-1].kernel.shape[0], 1, bias=False))
    return nn.Sequential(*modules)


# --- Driver -----------------------------------------------------------------


def _sigma(model):
    return float(model.sigma)


def _levels(model):
    """`(log sigma, log sigma_max)` of a `MultiScaleDDE`, python floats."""
    if not hasattr(model, "sigma_max"):
        return None
    return math.log(model.sigma), math.log(model.sigma_max)


def _trained_layers(step, model):
    if step == "gan":
        return [model.real_dde.network, model.generator, model.fake_dde.network]
    return [model.network]


def hand_loops(backend, step):
    """The names of the hand loops for `step` on `backend`."""
    if backend == "jax":
        return ["jax-jit"] + (["jax-scan"] if step != "conv" else [])
    if backend == "tensorflow":
        return ["tf-graph", "tf-xla"]
    return ["torch-eager"] + (["torch-nn", "torch-compile"] if step == "dde" else [])


def make_loop(name, step, model):
    if name == "jax-jit":
        return jax_loop(step, model, scan=False)
    if name == "jax-scan":
        return jax_loop(step, model, scan=True)
    if name == "tf-graph":
        return tf_loop(step, model, jit_compile=False)
    if name == "tf-xla":
        return tf_loop(step, model, jit_compile=True)
    if name == "torch-eager":
        return torch_loop(step, model)
    if name == "torch-nn":
        return torch_loop(step, model, native=True)
    if name == "torch-compile":
        return torch_loop(step, model, native=True, compiled=True)
    raise ValueError(name)


def run_backend(backend, steps, rounds, quick, timed_steps=None):
    """Runs in a process whose KERAS_BACKEND is `backend`; returns the figures.

    `timed_steps`: {step: steps per timed run}, overriding `TIMED_STEPS`.
    """
    import numpy as np

    results = {}
    for step in steps:
        n_steps = (QUICK_STEPS if quick else {**TIMED_STEPS, **(timed_steps or {})})[step]
        batch = BATCH[step]
        x = data_for(step, n_steps)
        variants = {"fit": {}, **fit_variants(backend, step)}
        fit_models = {
            name: build_fit_model(step, x, **dict(kwargs))
            for name, kwargs in variants.items()
        }
        loops, errors = {}, {}
        for name in hand_loops(backend, step):
            try:
                loop_model = build_fit_model(step, x)
                run = make_loop(name, step, loop_model)
                run(x[: batch * min(n_steps, BLOCK)], batch)  # compile, warm up
                loops[name] = run
            except Exception as error:  # recorded, e.g. torch.compile
                errors[name] = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
        figures = {name: [] for name in fit_models}
        figures.update({name: [] for name in loops})
        rng = np.random.default_rng(0)
        for name, model in fit_models.items():
            epochs = 1  # compile, warm up
            model.fit(x, batch_size=batch, epochs=epochs, verbose=0)
        for _ in range(rounds):
            for name, model in fit_models.items():
                start = time.perf_counter()
                model.fit(x, batch_size=batch, epochs=1, verbose=0)
                figures[name].append(n_steps / (time.perf_counter() - start))
            for name, run in loops.items():
                start = time.perf_counter()  # shuffling included, as in fit
                run(x[rng.permutation(len(x))], batch)
                figures[name].append(n_steps / (time.perf_counter() - start))
        results[step] = {"steps": n_steps, "batch": batch, "figures": figures,
                         "errors": errors,
                         "load": os.getloadavg()[0]}
        print(json.dumps({step: results[step]}), file=sys.stderr, flush=True)
    return results


def table(backend, results):
    lines = [
        f"### {backend}",
        "",
        "| step | configuration | steps/s (median) | runs | fit / this (medians) "
        "| fit / this (median of rounds) |",
        "| --- | --- | ---: | --- | ---: | ---: |",
    ]
    for step, entry in results.items():
        figures = entry["figures"]
        fit = statistics.median(figures["fit"])
        for name, values in figures.items():
            median = statistics.median(values)
            runs = ", ".join(f"{v:.3g}" for v in values)
            ratio = paired = ""
            if name != "fit":
                ratio = f"{fit / median:.2f}x"
                # Each round's fit and loop ran back to back: the ratio within
                # a round is less exposed to the load moving between rounds.
                paired = statistics.median(
                    f / v for f, v in zip(figures["fit"], values)
                )
                paired = f"{paired:.2f}x"
            lines.append(
                f"| {step} | {name} | {median:.3g} | {runs} | {ratio} | {paired} |"
            )
        for name, error in entry["errors"].items():
            lines.append(f"| {step} | {name} | failed | `{error}` | | |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--steps", nargs="+", default=list(STEPS), choices=STEPS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round, few steps")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="OMP_NUM_THREADS of the PyTorch run (default 1)")
    parser.add_argument("--timed-steps", nargs="+", default=[], metavar="STEP=N",
                        help="steps per timed run (one fit call), e.g. conv=256 "
                        "(default: " + ", ".join(f"{k}={v}" for k, v in TIMED_STEPS.items())
                        + "); a fit call's fixed cost weighs less in a longer run")
    parser.add_argument("--output", help="also write the tables (markdown) here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    timed_steps = {}
    for item in args.timed_steps:
        name, _, count = item.partition("=")
        if name not in STEPS or not count.isdigit() or int(count) % 32:
            parser.error(f"--timed-steps {item!r}: give STEP=N with STEP one of "
                         f"{', '.join(STEPS)} and N a multiple of 32")
        timed_steps[name] = int(count)
    if args.child:
        (backend,) = args.backend
        print(json.dumps(run_backend(backend, args.steps, rounds, args.quick, timed_steps)))
        return
    tables, raw = [], {}
    for backend in args.backend:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        if backend == "torch":
            # As the test suite does: PyTorch's OpenMP threads spin on every
            # op, and two of them on a shared 2-core machine made small steps
            # 3-7x slower than one. Both fit and the loops run with it.
            env.setdefault("OMP_NUM_THREADS", str(args.torch_threads))
        command = [sys.executable, os.path.abspath(__file__), "--child",
                   "--backend", backend, "--steps", *args.steps, "--rounds", str(rounds)]
        if args.quick:
            command.append("--quick")
        if args.timed_steps:
            command += ["--timed-steps", *args.timed_steps]
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{backend} failed:\n{result.stderr[-4000:]}")
        results = json.loads(result.stdout.strip().splitlines()[-1])
        raw[backend] = results
        tables.append(table(backend, results))
        print(tables[-1] + "\n", flush=True)
    if args.output:
        from keras_dde.utils.files import atomic_path

        text = (f"Load average at the end: {os.getloadavg()}\n\n"
                + "\n\n".join(tables) + "\n")
        with atomic_path(args.output) as temporary, open(temporary, "w") as file:
            file.write(text)
        with atomic_path(args.output + ".json") as temporary, open(temporary, "w") as file:
            json.dump(raw, file)


if __name__ == "__main__":
    main()
