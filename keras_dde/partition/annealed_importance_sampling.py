"""Annealed importance sampling (AIS) estimate of a normalising constant.

Along the geometric path `q^(1 - beta) exp(s)^beta`, `0 = beta_0 < ... <
beta_K = 1`, chains start at the proposal `q`; each temperature adds
`(beta_k - beta_{k-1}) (s - log q)` to their log-weights and moves them by
one MALA step that leaves the tempered density invariant. Then
`log Z ~ log mean exp(log_w)`, as for importance sampling.
"""

import numpy as np
from keras import ops

from keras_dde.backend.compile import compile_function
from keras_dde.partition.importance_sampling import log_mean_exp
from keras_dde.sampling.mala import adapt_step_size
from keras_dde.sampling.mala import draw_step_noise
from keras_dde.sampling.mala import mala_step
from keras_dde.utils.progress import progress_bar
from keras_dde.utils.validation import check_seed


def annealing_schedule(n_steps, sharpness=4.0):
    """Sigmoidal inverse temperatures `0 = beta_0 < ... < beta_K = 1`.

    References:
        - [Grosse et al., 2015](https://arxiv.org/abs/1511.02543)
    """
    t = np.linspace(-sharpness, sharpness, n_steps + 1)
    beta = 1.0 / (1.0 + np.exp(-t))
    return (beta - beta[0]) / (beta[-1] - beta[0])


def annealed_importance_sampling(
    energy_grad_fn, proposal, n_chains, n_steps, seed, verbose, step_size=None
):
    """Annealed importance sampling estimate of `log Z`.

    The MALA step size adapts toward 57.4% mean acceptance (one step size for
    all chains: a per-chain step would depend on the chain's state and break
    the invariance that makes the weights unbiased).

    Args:
        energy_grad_fn: maps whitened `u` `(n, d)` to `(s, grad_u s)`.
        proposal: a `GaussianProposal`, or a `GaussianMixtureProposal`
            (any proposal with `grad_log_prob_whitened`), whose density is
            then the base of the bridge.
        n_chains: int, the number of chains (weights).
        n_steps: int, the number of temperatures.
        seed: None, an int or a `keras.random.SeedGenerator`.
        verbose: 0, 1 or "auto".
        step_size: optional initial step in whitened units.

    Returns:
        `(log_z, stderr, ess, mean_acceptance)`.

    References:
        - [Neal, 2001](https://arxiv.org/abs/physics/9803008)
    """
    generator = check_seed(seed)
    betas = annealing_schedule(n_steps)
    dim = proposal.dim
    base_fn = None  # The Gaussian's -|u|^2/2, up to a constant.
    if hasattr(proposal, "grad_log_prob_whitened"):

        def base_fn(u):
            return (
                proposal.log_prob_whitened(u),
                proposal.grad_log_prob_whitened(u),
            )

    def step(u, s, grad_s, h, log_w, beta_prev, beta, noise, log_uniform):
        log_ratio = s - proposal.log_prob_whitened(u)
        log_w = log_w + (beta - beta_prev) * log_ratio
        u, s, grad_s, accept = mala_step(
            u, s, grad_s, beta, h, energy_grad_fn, noise, log_uniform, base_fn
        )
        mean_accept = ops.mean(accept)
        return u, s, grad_s, adapt_step_size(h, mean_accept[None]), log_w, mean_accept

    step = compile_function(step)
    u = proposal.sample_whitened(n_chains, generator)
    s, grad_s = compile_function(energy_grad_fn)(u)
    if step_size is None:
        step_size = 1.0 / dim ** (1.0 / 6.0)
    h = ops.full((1, 1), step_size, dtype="float32")
    log_w = ops.zeros((n_chains,), dtype="float32")
    betas_t = ops.convert_to_tensor(betas, dtype="float32")
    bar = progress_bar(n_steps, verbose, n_chains * n_steps * dim)
    acceptance = []
    for k in range(1, n_steps + 1):
        noise, log_uniform = draw_step_noise((n_chains, dim), generator)
        u, s, grad_s, h, log_w, accept = step(
            u, s, grad_s, h, log_w, betas_t[k - 1], betas_t[k], noise, log_uniform
        )
        acceptance.append(accept)
        if bar is not None and (k % 10 == 0 or k == n_steps):
            bar.update(k, [("acceptance", float(ops.convert_to_numpy(accept)))])
    acceptance = float(np.mean([ops.convert_to_numpy(a) for a in acceptance]))
    log_z, stderr, ess = log_mean_exp(ops.convert_to_numpy(log_w))
    return log_z, stderr, ess, acceptance
