"""The last `log Z` estimate of a model, with a hash of the weights it is for."""

import hashlib
import math
import warnings

import keras
import numpy as np
from keras import ops

# `log_z_stderr` until a first estimate is stored.
NO_ESTIMATE = -1.0


def weights_fingerprint(weights):
    """A 128-bit hash of the values of `weights`, as 4 int32."""
    digest = hashlib.blake2b(digest_size=16)
    for variable in weights:
        digest.update(np.ascontiguousarray(ops.convert_to_numpy(variable)).tobytes())
    return np.frombuffer(digest.digest(), dtype="<i4").astype("int32")


@keras.saving.register_keras_serializable(package="keras_dde")
class LogPartitionCache(keras.layers.Layer):
    """`log_z`, `log_z_stderr` and `log_z_fingerprint`, as non-trainable weights.

    Until `store` is called there is no estimate: `log_z` holds 0 and
    `log_z_stderr` the sentinel -1 (a standard error is never negative), and
    `load` returns None. No variable starts as NaN: JAX refuses to replicate
    one over several processes, NaN never being equal to itself (files saved
    when they did start as NaN load as "no estimate" too). `load` warns when
    the weights it was computed for have changed since. Saved with the model.
    """

    def build(self, input_shape=None):
        self.log_z = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="log_z"
        )
        self.stderr = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(NO_ESTIMATE),
            trainable=False,
            name="log_z_stderr",
        )
        self.fingerprint = self.add_weight(
            shape=(4,),
            initializer="zeros",
            dtype="int32",
            trainable=False,
            name="log_z_fingerprint",
        )

    def store(self, log_z, stderr, weights):
        """Keeps `(log_z, stderr)`, estimated for the current `weights`."""
        self.log_z.assign(log_z)
        self.stderr.assign(stderr)
        self.fingerprint.assign(weights_fingerprint(weights))

    def load(self, weights, warn=True):
        """The cached `(log_z, stderr)`, or None; warns if `weights` changed."""
        log_z = float(ops.convert_to_numpy(self.log_z))
        stderr = float(ops.convert_to_numpy(self.stderr))
        if math.isnan(log_z) or stderr == NO_ESTIMATE:
            return None
        stored = ops.convert_to_numpy(self.fingerprint)
        if warn and not np.array_equal(stored, weights_fingerprint(weights)):
            warnings.warn(
                "The cached log Z is stale: it was estimated by `log_partition()` "
                "for different weights, and the model has been trained or its "
                "weights changed since. `log_prob` uses the stale value; call "
                "`log_partition()` again to refresh it.",
                UserWarning,
                stacklevel=3,
            )
        return log_z, stderr
