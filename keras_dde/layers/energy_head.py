import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_dde")
class EnergyHead(keras.layers.Layer):
    """Projects features to one scalar energy per sample, without a bias.

    An additive constant in the energy has no gradient, so a bias would never
    be trained by denoising score matching; the head leaves it out and returns
    shape `(batch,)`.

    Args:
        kernel_initializer: initializer of the projection, default
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the projection.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
    ```python
    features = keras.Input((2,))
    hidden = keras.layers.Dense(64, activation="softplus")(features)
    energy = keras.Model(features, keras_dde.layers.EnergyHead()(hidden))
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """

    def __init__(
        self, kernel_initializer="glorot_uniform", kernel_regularizer=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], 1),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )

    def call(self, inputs):
        return ops.squeeze(ops.matmul(inputs, self.kernel), axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "kernel_regularizer": keras.regularizers.serialize(
                    self.kernel_regularizer
                ),
            }
        )
        return config
