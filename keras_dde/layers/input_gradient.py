import copy

import keras

from keras_dde import backend


@keras.saving.register_keras_serializable(package="keras_dde")
class InputGradient(keras.layers.Layer):
    """The gradient of a scalar-valued layer with respect to its input.

    Wrapped around an energy network `s`, this is the score field
    `grad_x s(x)`, computed by the backend's autodiff so that it can be
    differentiated again (training a DDE needs second derivatives).

    Args:
        layer: a Keras layer or model with one scalar output per sample.
        return_values: bool. If True, return `(s(x), grad_x s(x))`.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
    ```python
    energy = keras_dde.models.energy_mlp(2)
    score = keras_dde.layers.InputGradient(energy)
    field = score(np.zeros((5, 2), "float32"))  # shape (5, 2)
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """

    def __init__(self, layer, return_values=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(
                "`layer` must be a Keras layer or model; "
                f"received {type(layer).__name__}."
            )
        self.layer = layer
        self.return_values = return_values

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)

    def call(self, inputs, training=None):
        values, gradient = backend.input_gradient(
            lambda x: self.layer(x, training=training), inputs
        )
        if self.return_values:
            return values, gradient
        return gradient

    def compute_output_shape(self, input_shape):
        if self.return_values:
            return (input_shape[0],), input_shape
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "layer": keras.saving.serialize_keras_object(self.layer),
                "return_values": self.return_values,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Deserialization consumes nested dicts; keep the caller's config intact.
        config = copy.deepcopy(config)
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
        return cls(**config)
