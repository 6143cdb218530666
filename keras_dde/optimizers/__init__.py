"""Optimizer utilities."""

from keras_dde.optimizers.routed_optimizer import RoutedOptimizer

__all__ = ["RoutedOptimizer"]
