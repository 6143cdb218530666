"""Layers that hold a model's non-trainable state, saved with it.

`DataStatistics`: the training data's mean, scatter and Gaussian mixture;
`LogPartitionCache`: the last `log Z` estimate and the weights it is for.
"""
