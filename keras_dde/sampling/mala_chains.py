"""Runs Metropolis-adjusted Langevin chains on an energy, with step adaptation.

Every chain takes `n_steps` MALA steps on `s` in whitened coordinates. During
the first `burn_in` steps each chain's step size `h` adapts toward 57.4%
acceptance by the Robbins-Monro update `h <- h exp(0.5 (a - 0.574))`; after
burn-in the step is fixed, so the chains then leave `exp(s)` invariant.
"""

import numpy as np
from keras import ops

from keras_dde.backend.compile import compile_function
from keras_dde.sampling.mala import adapt_step_size
from keras_dde.sampling.mala import draw_step_noise
from keras_dde.sampling.mala import mala_step
from keras_dde.utils.progress import progress_bar


def run_mala_chains(
    energy_grad_fn, u, step_size, n_steps, burn_in, adapt, seed_generator, verbose
):
    """Runs MALA chains from `u` and returns their last states.

    Args:
        energy_grad_fn: maps whitened `u` `(n, d)` to `(s, grad_u s)`.
        u: tensor `(n, d)`, the chains' starting states.
        step_size: float, the initial step of every chain (whitened units).
        n_steps: int, steps per chain.
        burn_in: int, the number of adapting steps (when `adapt`).
        adapt: bool, adapt the step sizes during burn-in.
        seed_generator: a `keras.random.SeedGenerator`.
        verbose: 0, 1 or "auto".

    Returns:
        `(u, acceptance)`: the states `(n, d)` and the mean acceptance
        probability after burn-in (NaN when there were no such steps).

    References:
        - [Roberts & Tweedie, 1996](https://doi.org/10.2307/3318418)
    """
    n, dim = int(u.shape[0]), int(u.shape[1])
    s, grad_s = compile_function(energy_grad_fn)(u)
    h = ops.full((n, 1), step_size, dtype="float32")

    def step(u, s, grad_s, h, rate, noise, log_uniform):
        u, s, grad_s, accept = mala_step(
            u, s, grad_s, 1.0, h, energy_grad_fn, noise, log_uniform
        )
        return u, s, grad_s, adapt_step_size(h, accept, rate), ops.mean(accept)

    step = compile_function(step)
    bar = progress_bar(n_steps, verbose, n * n_steps * dim)
    accepted = []
    for k in range(n_steps):
        rate = ops.convert_to_tensor(0.5 if adapt and k < burn_in else 0.0, "float32")
        noise, log_uniform = draw_step_noise((n, dim), seed_generator)
        u, s, grad_s, h, accept = step(u, s, grad_s, h, rate, noise, log_uniform)
        if k >= burn_in:
            accepted.append(accept)
        if bar is not None and (k % 10 == 9 or k == n_steps - 1):
            bar.update(k + 1)
    acceptance = float("nan")
    if accepted:
        acceptance = float(np.mean([ops.convert_to_numpy(a) for a in accepted]))
    return u, acceptance
