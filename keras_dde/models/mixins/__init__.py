"""What the model classes inherit beside `keras.Model`.

`NormalizedDensity` gives a `DDEModel` its data statistics and normalised
density (`set_data_statistics`, `log_partition`, `log_prob`, `sample`);
`MultiScaleDensity` gives a `MultiScaleDDE` the same across its noise
levels, with annealed sampling and the probability-flow ODE (`flow`).
"""
