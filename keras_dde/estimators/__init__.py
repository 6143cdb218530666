"""scikit-learn style estimators."""

from keras_dde.estimators.dde_density import DDEDensity

__all__ = ["DDEDensity"]
