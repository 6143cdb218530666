"""The probability-flow ODE of a variance-exploding family, and its likelihood.

For the Gaussian-smoothed densities `p_sigma = p * N(0, sigma^2 I)` (the
variance-exploding family of a `MultiScaleDDE`), the deterministic ODE

    dx/dsigma = -sigma * grad_x log p_sigma(x)

moves a sample of `p_sigma_max` to a sample of `p_sigma` (Song et al.,
2021): the marginals of the ODE are those of the noising process. Written in
`u = log sigma`, `dx/du = -sigma^2 * score(x, sigma)`, which is integrated
here with Heun's method on `n_steps` steps uniform in `u` (so that each step
is a fixed fraction of its level's length scale).

The same flow gives exact log-likelihoods through the instantaneous change
of variables, `d log p_u(x(u)) / du = -div_x (dx/du) = sigma^2 Laplacian_x
s(x, sigma)` along a trajectory. Integrated from the data point at `sigma`
up to `sigma_max`,

    log p_sigma(x) = log p_sigma_max(x(sigma_max))
                     - integral sigma^2 Laplacian s(x(u), sigma) du,

where `log p_sigma_max` is that of the starting distribution (for a
`MultiScaleDDE`, `N(m, C + sigma_max^2 I)`). The Laplacian is the exact trace
of the Hessian (one second derivative per feature) up to `EXACT_DIVERGENCE_MAX_DIM`
features, and Hutchinson's estimate `E[v^T H v]` with Rademacher probes `v`
(fixed along each trajectory, as in FFJORD) above.
"""

import math

import keras
from keras import ops

from keras_dde import backend
from keras_dde.backend.compile import compile_function
from keras_dde.utils.validation import check_positive_int

# Up to this many features the divergence is the exact Hessian trace.
EXACT_DIVERGENCE_MAX_DIM = 16


def _check_levels(sigma_start, sigma_end, n_steps):
    n_steps = check_positive_int(n_steps, "n_steps")
    for name, value in (("sigma_start", sigma_start), ("sigma_end", sigma_end)):
        if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
            raise ValueError(f"`{name}` must be a positive number; received {value!r}.")
    return float(sigma_start), float(sigma_end), n_steps


def _velocity(energy_fn, x, log_sigma):
    """`dx/du = -sigma^2 grad_x s(x, sigma)` at `u = log sigma` (a scalar tensor)."""
    sigma = ops.exp(log_sigma)
    gradient = backend.input_gradient(lambda y: energy_fn(y, sigma), x)[1]
    return -ops.square(sigma) * gradient


def probability_flow(energy_fn, x, sigma_start, sigma_end, n_steps=40):
    """Integrates the probability-flow ODE from `sigma_start` to `sigma_end`.

    Args:
        energy_fn: maps `(x, sigma)`, a tensor `(n, d)` and a scalar tensor,
            to the per-sample log-density `s(x, sigma)` `(n,)` (up to a
            constant); pure, so that a step can be compiled.
        x: the initial states at `sigma_start`, a tensor `(n, d)`.
        sigma_start: float, the level of `x` (e.g. `sigma_max`).
        sigma_end: float, the level to integrate to (either direction).
        n_steps: int, Heun steps (two score evaluations each).

    Returns:
        The states at `sigma_end`, a float32 tensor `(n, d)`.

    Example:
    ```python
    from keras import ops
    from keras_dde.sampling.probability_flow import probability_flow

    def energy_fn(x, sigma):  # unit Gaussian data smoothed: N(0, (1 + sigma^2) I)
        return -ops.sum(x**2, axis=-1) / (2 * (1 + sigma**2))

    start = np.sqrt(5.0) * np.random.default_rng(0).normal(size=(1000, 2))
    x = probability_flow(energy_fn, start.astype("float32"), 2.0, 0.05)
    # x ~ N(0, (1 + 0.05^2) I); a MultiScaleDDE's energy and its levels
    # work alike: `MultiScaleDDE.flow` and `sample(method="ode")` do this.
    ```

    References:
        - [Song et al., 2021](https://arxiv.org/abs/2011.13456)
    """
    sigma_start, sigma_end, n_steps = _check_levels(sigma_start, sigma_end, n_steps)
    h = (math.log(sigma_end) - math.log(sigma_start)) / n_steps
    h_tensor = ops.convert_to_tensor(h, "float32")

    def step(x, u):
        k1 = _velocity(energy_fn, x, u)
        k2 = _velocity(energy_fn, x + h_tensor * k1, u + h_tensor)
        return x + 0.5 * h_tensor * (k1 + k2)

    step = compile_function(step)
    x = ops.convert_to_tensor(x, "float32")
    for i in range(n_steps):
        u = ops.convert_to_tensor(math.log(sigma_start) + i * h, "float32")
        x = step(x, u)
    return x


def _laplacian(energy_fn, x, sigma, probes):
    """`(grad s, Laplacian s)` at `x`: exact, or Hutchinson's with `probes`."""

    def gradient_fn(y):
        return backend.input_gradient(lambda z: energy_fn(z, sigma), y)[1]

    gradient = gradient_fn(x)
    dim = ops.shape(x)[1]
    if probes is None:
        trace = 0.0
        for i in range(dim):
            second = backend.input_gradient(lambda y: gradient_fn(y)[:, i], x)[1]
            trace = trace + second[:, i]
        return gradient, trace
    trace = 0.0
    for probe in probes:
        hvp = backend.input_gradient(
            lambda y: ops.sum(gradient_fn(y) * probe, axis=-1), x
        )[1]
        trace = trace + ops.sum(hvp * probe, axis=-1)
    return gradient, trace / len(probes)


def probability_flow_log_prob(
    energy_fn,
    x,
    sigma,
    sigma_max,
    log_prob_end,
    n_steps=40,
    divergence="auto",
    n_probes=1,
    seed=None,
):
    """`log p_sigma(x)` of the probability-flow ODE's model, per sample.

    Integrates the ODE and `d log p / du = sigma^2 Laplacian s` from `x` at
    `sigma` up to `sigma_max` (Heun), and adds `log_prob_end` of the end
    points (see the module docstring).

    Args:
        energy_fn: as for `probability_flow`; twice differentiable.
        x: points, a tensor `(n, d)`.
        sigma: float, the level of `x`.
        sigma_max: float > sigma, where the flow's start density is known.
        log_prob_end: maps end points `(n, d)` to their log-density `(n,)`
            under the start distribution at `sigma_max`.
        n_steps: int, Heun steps.
        divergence: "auto" (exact up to `EXACT_DIVERGENCE_MAX_DIM` features,
            Hutchinson above), "exact" or "hutchinson".
        n_probes: int, Rademacher probes of Hutchinson's estimator.
        seed: int or None, seeds the probes.

    Returns:
        float32 tensor `(n,)`.

    Example:
    ```python
    from keras import ops
    from keras_dde.sampling.probability_flow import probability_flow_log_prob

    def energy_fn(x, sigma):  # unit Gaussian data smoothed: N(0, (1 + sigma^2) I)
        return -ops.sum(x**2, axis=-1) / (2 * (1 + sigma**2))

    def log_prob_end(y):  # N(0, 5 I) in 2-D, the density at sigma_max = 2
        return -ops.sum(y**2, axis=-1) / 10.0 - np.log(2 * np.pi * 5.0)

    x = np.random.default_rng(0).normal(size=(100, 2)).astype("float32")
    log_p = probability_flow_log_prob(energy_fn, x, 0.1, 2.0, log_prob_end)
    # = log N(x; 0, 1.01 I) within the ODE's discretisation error
    ```

    References:
        - [Song et al., 2021](https://arxiv.org/abs/2011.13456)
        - [Grathwohl et al., 2019](https://arxiv.org/abs/1810.01367)
    """
    sigma, sigma_max, n_steps = _check_levels(sigma, sigma_max, n_steps)
    if not sigma_max > sigma:
        raise ValueError(
            f"`sigma_max` ({sigma_max}) must be larger than `sigma` ({sigma})."
        )
    if divergence not in ("auto", "exact", "hutchinson"):
        raise ValueError(
            "`divergence` must be 'auto', 'exact' or 'hutchinson'; received "
            f"{divergence!r}."
        )
    n_probes = check_positive_int(n_probes, "n_probes")
    x = ops.convert_to_tensor(x, "float32")
    dim = int(x.shape[1])
    exact = divergence == "exact" or (
        divergence == "auto" and dim <= EXACT_DIVERGENCE_MAX_DIM
    )
    probes = None
    if not exact:
        seed_generator = keras.random.SeedGenerator(seed)
        probes = [
            ops.sign(keras.random.uniform(ops.shape(x), -1.0, 1.0, seed=seed_generator))
            for _ in range(n_probes)
        ]
    h = (math.log(sigma_max) - math.log(sigma)) / n_steps
    h_tensor = ops.convert_to_tensor(h, "float32")

    def field(x, u, probes):
        level = ops.exp(u)
        gradient, laplacian = _laplacian(energy_fn, x, level, probes)
        scale = ops.square(level)
        return -scale * gradient, scale * laplacian

    def step(x, u, probes):
        k1, d1 = field(x, u, probes)
        k2, d2 = field(x + h_tensor * k1, u + h_tensor, probes)
        return x + 0.5 * h_tensor * (k1 + k2), 0.5 * h_tensor * (d1 + d2)

    step = compile_function(step)
    integral = ops.zeros((ops.shape(x)[0],), "float32")
    for i in range(n_steps):
        u = ops.convert_to_tensor(math.log(sigma) + i * h, "float32")
        x, change = step(x, u, probes)
        integral = integral + change
    return ops.convert_to_tensor(log_prob_end(x), "float32") - integral
