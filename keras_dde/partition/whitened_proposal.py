"""The shared half of the importance-sampling proposals.

A proposal `q` works in whitened coordinates `u`, where samplers are
preconditioned: subclasses define `dim`, `sample_whitened(n, seed)`,
`from_whitened(u)`, `to_whitened(x)` and `log_prob_whitened(u)`, the
log-density of `x(u)` in `x` (not in `u`). This base turns them into draws and
log-densities of points `x`.
"""

from keras import ops


class WhitenedProposal:
    """Base of `GaussianProposal` and `GaussianMixtureProposal`."""

    def sample(self, n, seed=None):
        """`n` draws `x ~ q`, a float32 tensor `(n, d)`."""
        return self.from_whitened(self.sample_whitened(n, seed))

    def log_prob(self, x):
        """`log q(x)` for rows `x` of shape `(n, d)`, shape `(n,)`."""
        x = ops.convert_to_tensor(x, dtype="float32")
        if x.shape[-1] != self.dim:
            raise ValueError(
                f"The proposal has dimension {self.dim}; received points of "
                f"dimension {x.shape[-1]}."
            )
        return self.log_prob_whitened(self.to_whitened(x))
