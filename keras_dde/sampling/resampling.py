"""Sampling-importance-resampling (SIR) of Gaussian proposal draws.

`m` draws `u_i ~ q` are resampled `n` times with probabilities proportional
to `w_i = exp(s(x(u_i)) - log q(u_i))`: for large `m` the result is
distributed close to `exp(s) / Z`, so MALA chains started there begin in the
modes in about the right proportions.
"""

import keras
import numpy as np
from keras import ops

from keras_dde.backend.compile import compile_function

CHUNK = 8192


def sampling_importance_resampling(
    energy_fn, proposal, n, seed_generator, oversample=10, max_draws=200_000
):
    """Resamples `n` of `min(oversample * n, max(n, max_draws))` proposal draws.

    Args:
        energy_fn: maps whitened `u` `(m, d)` to energies `(m,)`.
        proposal: a `GaussianProposal`.
        n: int, the number of states returned.
        seed_generator: a `keras.random.SeedGenerator`.
        oversample: draws per returned state.
        max_draws: at most this many draws (unless `n` is larger).

    Returns:
        A tensor `(n, d)` of whitened states.
    """
    m = min(oversample * n, max(n, max_draws))
    log_weight = compile_function(
        lambda u: energy_fn(u) - proposal.log_prob_whitened(u)
    )
    draws, log_w = [], []
    for start in range(0, m, CHUNK):
        u = proposal.sample_whitened(min(CHUNK, m - start), seed_generator)
        draws.append(u)
        log_w.append(ops.convert_to_numpy(log_weight(u)))
    u = ops.concatenate(draws, axis=0)
    log_w = np.concatenate(log_w).astype("float64")
    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    w = np.exp(log_w - log_w.max())
    seed = keras.random.randint((), 0, 2**31 - 1, seed=seed_generator)
    seed = int(ops.convert_to_numpy(seed))
    index = np.random.default_rng(seed).choice(m, size=n, p=w / w.sum())
    return ops.take(u, ops.convert_to_tensor(index), axis=0)
