"""The denoising score matching loss that trains a DDE.

For data `x`, standard normal `eps` and `x~ = x + sigma * eps`, a scalar
network `s` is trained so that `x~ + sigma^2 * grad s(x~)` denoises `x~`:

    L(s) = E || sigma * grad_x s(x~) + eps ||^2

This is `E || sigma^2 grad s(x~) + n ||^2` (with `n = sigma * eps`) divided by
`sigma^2`, so the loss has the same scale for every sigma: about the number of
features at initialisation, and a little below it at the optimum. Its minimiser
is `s = log(p * N(0, sigma^2 I)) + C`, the log of the Gaussian KDE of the data
with bandwidth sigma.
"""

from keras import ops


def denoising_score_matching(score, noise, sigma):
    """Per-sample denoising score matching loss.

    Args:
        score: the input gradient `grad_x s(x~)` at the noisy samples,
            shape `(batch, ...)`.
        noise: the standard normal draws `eps` with `x~ = x + sigma * eps`,
            same shape as `score`.
        sigma: the noise standard deviation.

    Returns:
        A tensor of shape `(batch,)`: `|| sigma * score + noise ||^2` summed
        over all non-batch axes.

    References:
        - [Vincent, 2011](https://doi.org/10.1162/NECO_a_00142)
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """
    residual = sigma * score + noise
    axes = tuple(range(1, len(residual.shape)))
    return ops.sum(ops.square(residual), axis=axes)
