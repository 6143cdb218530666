"""Metropolis-adjusted Langevin steps in whitened coordinates.

The chains run on `u = L^-1 (x - m)` for a Gaussian proposal `N(m, L L^T)`,
which preconditions Langevin dynamics by the data's covariance. The target is
the geometric bridge used by annealed importance sampling,

    f_beta(u) = beta * s(x(u)) + (1 - beta) * log q(u),

with `log q(u) = -|u|^2 / 2` for the Gaussian proposal (its normaliser and
Jacobian are constants and drop out of Metropolis ratios) or any other base
density passed as `base_fn` (e.g. a Gaussian mixture's). It is the energy
itself at `beta = 1`.
"""

import keras
from keras import ops

TARGET_ACCEPTANCE = 0.574  # Optimal for MALA (Roberts & Rosenthal, 1998).


def bridge(beta, s, grad_s, u, base=None):
    """`f_beta(u)` and its gradient from the energy and its u-gradient.

    `base` is `(log_q, grad_log_q)` at `u`; None is the standard normal.
    """
    if base is None:
        base = (-0.5 * ops.sum(ops.square(u), axis=-1), -u)
    log_q, grad_log_q = base
    value = beta * s + (1.0 - beta) * log_q
    return value, beta * grad_s + (1.0 - beta) * grad_log_q


def mala_step(
    u, s, grad_s, beta, step_size, energy_fn, noise, log_uniform, base_fn=None
):
    """One Metropolis-adjusted Langevin step on `f_beta`, for every chain.

    Pure: the randomness comes in as `noise` and `log_uniform`, so that the
    step can be compiled.

    Args:
        u: tensor `(n, d)`, the chains' whitened states.
        s, grad_s: the energy `(n,)` and its u-gradient `(n, d)` at `u`.
        beta: scalar in [0, 1].
        step_size: tensor `(n, 1)`, each chain's step `h`; the proposal is
            `u + h^2/2 grad f + h xi`.
        energy_fn: maps `u` to `(s, grad_s)`.
        noise: standard normal `(n, d)`, the `xi`.
        log_uniform: `(n,)`, logs of uniform draws for the Metropolis test.
        base_fn: optional map `u -> (log_q, grad_u log_q)` of the base
            density of the bridge; None is the standard normal.

    Returns:
        `(u, s, grad_s, accept_prob)` after the step; `accept_prob` has shape
        `(n,)`. Proposals with a non-finite energy are rejected.

    References:
        - [Roberts & Tweedie, 1996](https://doi.org/10.2307/3318418)
    """
    def base(v):
        return None if base_fn is None else base_fn(v)

    f, g = bridge(beta, s, grad_s, u, base(u))
    h2 = ops.square(step_size)
    proposal = u + 0.5 * h2 * g + step_size * noise
    s_new, grad_new = energy_fn(proposal)
    f_new, g_new = bridge(beta, s_new, grad_new, proposal, base(proposal))
    backward = u - proposal - 0.5 * h2 * g_new
    log_backward = -ops.sum(ops.square(backward), axis=-1) / (2.0 * h2[..., 0])
    log_forward = -0.5 * ops.sum(ops.square(noise), axis=-1)
    log_ratio = f_new - f + log_backward - log_forward
    finite = ops.isfinite(log_ratio)
    log_ratio = ops.where(finite, log_ratio, -1e30)
    accept = ops.logical_and(finite, log_uniform < log_ratio)
    accept_prob = ops.where(finite, ops.exp(ops.minimum(log_ratio, 0.0)), 0.0)
    u = ops.where(accept[:, None], proposal, u)
    s = ops.where(accept, s_new, s)
    grad_s = ops.where(accept[:, None], grad_new, grad_s)
    return u, s, grad_s, accept_prob


def draw_step_noise(shape, seed, dtype="float32"):
    """The `(noise, log_uniform)` one `mala_step` over `shape = (n, d)` needs."""
    noise = keras.random.normal(shape, dtype=dtype, seed=seed)
    uniform = keras.random.uniform((shape[0],), dtype=dtype, seed=seed)
    return noise, ops.log(uniform)


def adapt_step_size(step_size, accept_prob, rate=0.5):
    """Robbins-Monro update of each chain's log step toward 57.4% acceptance."""
    return step_size * ops.exp(rate * (accept_prob[:, None] - TARGET_ACCEPTANCE))
