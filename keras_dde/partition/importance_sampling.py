"""Importance sampling estimate of a normalising constant.

For an unnormalised log-density `s` and a proposal `q`,

    log Z ~ logsumexp_i (s(x_i) - log q(x_i)) - log N,   x_i ~ q,

with the delta-method standard error `std(w) / (sqrt(N) mean(w))` of the
importance weights `w = exp(s - log q)` and the effective sample size
`(sum w)^2 / sum w^2`.
"""

import math

import numpy as np
from keras import ops

from keras_dde.backend.compile import compile_function
from keras_dde.utils.progress import progress_bar
from keras_dde.utils.validation import check_seed


def log_mean_exp(log_w):
    """`log mean exp(log_w)`, its delta-method standard error and the ESS."""
    log_w = np.asarray(log_w, dtype="float64")
    finite = np.isfinite(log_w)
    if not finite.any():
        return -math.inf, math.inf, 0.0
    log_w = np.where(finite, log_w, -np.inf)
    top = log_w.max()
    w = np.exp(log_w - top)
    mean = w.mean()
    log_z = top + math.log(mean)
    stderr = math.inf
    if len(w) > 1:
        stderr = float(w.std(ddof=1) / (math.sqrt(len(w)) * mean))
    ess = float(w.sum() ** 2 / np.sum(w**2))
    return float(log_z), stderr, ess


def importance_sampling(energy_fn, proposal, n_samples, batch_size, seed, verbose):
    """Plain importance sampling estimate of `log Z` from `proposal`.

    Args:
        energy_fn: maps whitened draws `u` `(n, d)` to energies `s(x(u))`.
        proposal: a `GaussianProposal`.
        n_samples: int, the number of draws.
        batch_size: int, draws per `energy_fn` call.
        seed: None, an int or a `keras.random.SeedGenerator`.
        verbose: 0, 1 or "auto".

    Returns:
        `(log_z, stderr, ess)`.
    """
    generator = check_seed(seed)
    n_batches = -(-n_samples // batch_size)
    bar = progress_bar(n_batches, verbose, n_batches * 500_000)
    log_weight = compile_function(
        lambda u: energy_fn(u) - proposal.log_prob_whitened(u)
    )
    log_w = []
    for index in range(n_batches):
        size = min(batch_size, n_samples - index * batch_size)
        u = proposal.sample_whitened(size, generator)
        log_w.append(ops.convert_to_numpy(log_weight(u)))
        if bar is not None:
            bar.update(index + 1)
    return log_mean_exp(np.concatenate(log_w))
