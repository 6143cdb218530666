import keras

from keras_dde.utils.validation import check_positive_int


def generator_mlp(
    latent_dim,
    output_dim,
    width=128,
    depth=3,
    activation="swish",
    output_activation=None,
    name="generator_mlp",
):
    """A multilayer perceptron mapping latent noise to samples.

    Args:
        latent_dim: int, size of the latent vector `z`.
        output_dim: int, number of features of a generated sample.
        width: int, units per hidden layer.
        depth: int, number of hidden layers.
        activation: hidden activation.
        output_activation: activation of the output layer, e.g. "sigmoid"
            for data in [0, 1]; None for unbounded data.
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping `(batch, latent_dim)` to
        `(batch, output_dim)`.

    Example:
    ```python
    generator = keras_dde.models.generator_mlp(latent_dim=8, output_dim=2)
    samples = generator(np.random.normal(size=(16, 8)))
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    output_dim = check_positive_int(output_dim, "output_dim")
    width = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    inputs = keras.Input((latent_dim,), name="z")
    hidden = inputs
    for index in range(depth):
        hidden = keras.layers.Dense(
            width, activation=activation, name=f"hidden_{index}"
        )(hidden)
    outputs = keras.layers.Dense(
        output_dim, activation=output_activation, name="sample"
    )(hidden)
    return keras.Model(inputs, outputs, name=name)
