import numbers

import keras
from keras import ops

from keras_dde.layers.damped_fourier_features import DampedFourierFeatures
from keras_dde.layers.energy_head import EnergyHead
from keras_dde.utils.validation import check_positive_int


def conditional_energy_mlp(
    input_dim,
    width=128,
    depth=3,
    activation="tanh",
    sigma_scaling="none",
    kernel_initializer="glorot_uniform",
    name="conditional_energy_mlp",
    fourier_features=None,
    fourier_scale=5.0,
    seed=None,
):
    """A noise-conditional energy `s(x, sigma)` for `keras_dde.MultiScaleDDE`.

    The network takes two inputs, `x` of shape `(batch, input_dim)` and
    `log_sigma` of shape `(batch, 1)`, and runs a multilayer perceptron on
    their concatenation with a bias-free scalar head `f(x, u)`,
    `u = log sigma`. With `fourier_features > 0` (default `width // 2`) the
    first layer also receives `DampedFourierFeatures` of `x` (fixed frequencies of
    standard deviation `fourier_scale`, damped by `exp(-sigma^2 |b|^2 / 2)`)
    through a zero-initialised projection, so training starts from the plain
    MLP. With `sigma_scaling="none"` (default) the energy is `f`;
    `"inverse"` gives `g / sigma` (the parametrisation of Song & Ermon, 2019,
    whose score grows like `1 / sigma`) and `"mixed"` gives `f + g / sigma`.

    The defaults are measured best (`benchmarks/multiscale.py`, sigma 0.08,
    4,800 steps, errors vs the exact KDE). Spread of per-mode offsets: 0.05
    nats for "none", 0.40 for "mixed", 0.57 for "inverse": the modes'
    relative masses are constants that do not depend on sigma, which `f`
    carries directly, while `g / sigma` must represent them as `c * sigma`.
    Within-mode error: 0.113 without Fourier features (a tanh MLP smooths
    the KDE's fine detail; 256x4 does no better, nor does a single-sigma
    `DDEModel`: 0.111), 0.072 with undamped ones of scale 2, while undamped
    scale 5 spoils the masses (spread 0.14); damped, scale 5: 0.036-0.038
    with spreads 0.013-0.026 over three seeds (scale 4: 0.040, scale 7:
    0.033-0.043 but spreads up to 0.034; 32 or 128 features: worse). Scale 5
    also beat 3 at sigma 0.15. It is in inverse units of `x` (the benchmark's
    data spans about 8 units): rescale it with the data.

    Args:
        input_dim: int, number of features.
        width: int, units per hidden layer.
        depth: int, number of hidden layers.
        activation: a smooth activation ("tanh", "swish", "softplus", "sin");
            the loss differentiates the input gradient once more.
        sigma_scaling: "mixed", "inverse" or "none", see above.
        kernel_initializer: initializer of all kernels.
        name: the model's name.
        fourier_features: int >= 0, number of damped Fourier frequencies
            (0: the MLP sees `[x, log_sigma]` only); None: `width // 2`.
            Each costs about 4% of a `DDEModel` step of a 32-wide network
            (the sines, cosines and damping are differentiated twice), so
            the default keeps a narrow network cheap: `width=32` gets 16.
        fourier_scale: float > 0, their standard deviation per component,
            in inverse units of `x`.
        seed: int or None, seeds the Fourier frequencies.

    Returns:
        A functional `keras.Model` mapping `[x, log_sigma]` to `(batch,)`.

    Example:
    ```python
    energy = keras_dde.models.conditional_energy_mlp(2)
    dde = keras_dde.MultiScaleDDE(energy, sigma=0.08)
    ```

    References:
        - [Song & Ermon, 2019](https://arxiv.org/abs/1907.05600)
        - [Tancik et al., 2020](https://arxiv.org/abs/2006.10739)
    """
    if sigma_scaling not in ("mixed", "inverse", "none"):
        raise ValueError(
            "`sigma_scaling` must be 'mixed', 'inverse' or 'none'; received "
            f"{sigma_scaling!r}."
        )
    input_dim = check_positive_int(input_dim, "input_dim")
    width = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    if fourier_features is None:
        fourier_features = width // 2
    if isinstance(fourier_features, bool) or not isinstance(
        fourier_features, numbers.Integral
    ):
        raise TypeError(
            "`fourier_features` must be None or an int >= 0; received "
            f"{fourier_features!r}."
        )
    if fourier_features < 0:
        raise ValueError(
            f"`fourier_features` must be >= 0; received {fourier_features}."
        )
    if isinstance(fourier_scale, bool) or not (
        isinstance(fourier_scale, (int, float)) and fourier_scale > 0
    ):
        raise ValueError(
            f"`fourier_scale` must be a number > 0; received {fourier_scale!r}."
        )
    x = keras.Input((input_dim,), name="x")
    log_sigma = keras.Input((1,), name="log_sigma")
    hidden = keras.layers.Concatenate(name="joint")([x, log_sigma])
    first = 0
    if fourier_features:
        # Zero-initialised: the network starts as the plain MLP of
        # `[x, log sigma]` and takes up the fine detail as it trains.
        fourier = DampedFourierFeatures(
            int(fourier_features), fourier_scale, seed=seed, name="fourier"
        )([x, log_sigma])
        hidden = keras.layers.Add(name="hidden_0_preactivation")([
            keras.layers.Dense(
                width, kernel_initializer=kernel_initializer, name="hidden_0"
            )(hidden),
            # A projection into hidden_0's pre-activation, not a hidden layer
            # of its own (so not a `Dense`: the hidden layers stay `depth`).
            keras.layers.EinsumDense(
                "bf,fw->bw", output_shape=width, kernel_initializer="zeros",
                name="fourier_in",
            )(fourier),
        ])
        hidden = keras.layers.Activation(activation, name="hidden_0_activation")(hidden)
        first = 1
    for index in range(first, depth):
        hidden = keras.layers.Dense(
            width,
            activation=activation,
            kernel_initializer=kernel_initializer,
            name=f"hidden_{index}",
        )(hidden)
    inverse_sigma = ops.exp(-ops.squeeze(log_sigma, axis=-1))
    if sigma_scaling == "none":
        energy = EnergyHead(kernel_initializer=kernel_initializer, name="energy")(hidden)
    else:
        scaled = EnergyHead(kernel_initializer=kernel_initializer, name="energy")(hidden)
        energy = scaled * inverse_sigma
    if sigma_scaling == "mixed":
        energy = energy + EnergyHead(
            kernel_initializer=kernel_initializer, name="energy_unscaled"
        )(hidden)
    return keras.Model([x, log_sigma], energy, name=name)
