"""The loss that trains a noise-conditional DDE across noise levels.

For data `x`, standard normal `eps`, a noise level `sigma` and
`x~ = x + sigma * eps`, the smoothed density `p_sigma = p * N(0, sigma^2 I)`
has the scores (Tweedie; Vincent, 2011; Choi et al., 2022)

    grad_x log p_sigma(x~) = E[ -eps / sigma | x~ ]
    d/du   log p_sigma(x~) = E[ |eps|^2 - d | x~ ],     u = log sigma,

the second because `d/dsigma log N(x~ - x; 0, sigma^2 I) = |x~ - x|^2 /
sigma^3 - d / sigma`. A network `s(x, u)` is trained by regression on both:

    L(s) = E || sigma grad_x s(x~, u) + eps ||^2
           + lambda * (d/du s(x~, u) - (|eps|^2 - d))^2 / (2 d).

Its minimiser has the gradient of `log p_sigma` in the joint `(x, u)` space,
so `s = log p_sigma + C` with ONE constant `C` on the connected set of
`(x, sigma)`: at large sigma the smoothed modes overlap and fix their relative
mass, which the `u`-term carries down to small sigma, where denoising score
matching alone cannot see it (Wenliang & Kanagawa, 2020). `|eps|^2 - d` has
variance `2 d`, hence the scaling: both terms are about `d` and 1 at the
optimum. Both derivatives come from one input gradient of `s` with respect to
the concatenated `(x, u)`, so a step costs about as much as plain denoising
score matching (the heat-equation residual needs third derivatives instead).
"""

from keras import ops


def multi_scale_score_matching(grad_x, grad_u, noise, sigma, time_weight=1.0):
    """Per-sample denoising score matching in `x` and in `u = log sigma`.

    Args:
        grad_x: `grad_x s(x~, u)`, shape `(batch, d)` (flattened features).
        grad_u: `d/du s(x~, u)`, shape `(batch,)`.
        noise: the standard normal `eps` with `x~ = x + sigma * eps`,
            shape `(batch, d)`.
        sigma: the per-sample noise levels, shape `(batch,)`.
        time_weight: float >= 0, the weight `lambda` of the `u`-term.

    Returns:
        A tensor `(batch,)`.

    References:
        - [Vincent, 2011](https://doi.org/10.1162/NECO_a_00142)
        - [Choi et al., 2022](https://arxiv.org/abs/2111.11010)
    """
    dim = noise.shape[-1]
    x_term = ops.sum(ops.square(sigma[:, None] * grad_x + noise), axis=-1)
    target = ops.sum(ops.square(noise), axis=-1) - dim
    u_term = ops.square(grad_u - target) / (2.0 * dim)
    return x_term + time_weight * u_term
