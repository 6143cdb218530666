"""Annealed Langevin dynamics over decreasing noise levels (NCSN).

For levels `sigma_1 > ... > sigma_L` and a score `grad log p_sigma`, each level
runs `T` unadjusted Langevin steps with step `alpha_i = c * sigma_i^2`,

    x <- x + alpha_i / 2 * grad log p_{sigma_i}(x) + sqrt(alpha_i) * z,

so that the step is a fixed fraction of each level's length scale. Started
from the broad large-sigma density, the chains find every mode in proportion
to its mass before the small levels sharpen them.
"""

import keras
from keras import ops

from keras_dde.backend.compile import compile_function
from keras_dde.utils.validation import check_positive_int


def annealed_langevin(score_fn, x, levels, steps_per_level=50, step_scale=0.1, seed=None):
    """Runs annealed Langevin dynamics.

    Args:
        score_fn: maps `(x, sigma)`, a tensor `(n, d)` and a scalar tensor,
            to `grad_x log p_sigma(x)`; pure, so that a step can be compiled.
        x: the initial states, a tensor `(n, d)`.
        levels: decreasing noise levels, a sequence of floats.
        steps_per_level: int, Langevin steps per level.
        step_scale: float `c`, the step is `c * sigma_i^2`.
        seed: int, `keras.random.SeedGenerator` or None.

    Returns:
        The final states, a tensor like `x`.

    References:
        - [Song & Ermon, 2019](https://arxiv.org/abs/1907.05600)
    """
    steps_per_level = check_positive_int(steps_per_level, "steps_per_level")
    if not step_scale > 0:
        raise ValueError(f"`step_scale` must be positive; received {step_scale}.")
    levels = [float(level) for level in levels]
    if not levels or any(b > a for a, b in zip(levels, levels[1:])):
        raise ValueError(f"`levels` must be non-empty and decreasing; received {levels}.")
    if not isinstance(seed, keras.random.SeedGenerator):
        seed = keras.random.SeedGenerator(seed)
    x = ops.convert_to_tensor(x, "float32")

    def step(x, sigma, alpha, noise):
        return x + 0.5 * alpha * score_fn(x, sigma) + ops.sqrt(alpha) * noise

    step = compile_function(step)
    for level in levels:
        sigma = ops.convert_to_tensor(level, "float32")
        alpha = ops.convert_to_tensor(step_scale * level**2, "float32")
        for _ in range(steps_per_level):
            noise = keras.random.normal(ops.shape(x), seed=seed)
            x = step(x, sigma, alpha, noise)
    return x
