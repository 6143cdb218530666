"""Writes the tutorial notebooks of this folder, without outputs.

The notebooks are plain `.ipynb` files; this script is their source, so that
reviews see Python and Markdown instead of JSON. After editing it, run

    python tutorials/make_notebooks.py

and commit the notebooks it writes. Each notebook has a cell tagged
`parameters` (the papermill convention: papermill injects overrides after
it) and honours `KERAS_DDE_TUTORIAL_QUICK=1`, which shrinks the runs for CI.
The Keras backend comes from the environment (`KERAS_BACKEND`), as always.
"""

import os
import sys

import nbformat
from nbformat.v4 import new_code_cell
from nbformat.v4 import new_markdown_cell
from nbformat.v4 import new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))

QUICK_NOTE = (
    "The next cell holds the parameters (tagged `parameters`, so papermill can "
    "override them). With the environment variable `KERAS_DDE_TUTORIAL_QUICK=1` "
    "the runs shrink to a few seconds: that is how CI executes this notebook. "
    "The Keras backend comes from `KERAS_BACKEND` (TensorFlow if unset; JAX is "
    "the fastest here), which must be set before Keras is imported."
)

# The imports cell every notebook starts with (after its parameters).
SETUP = '''
import keras
import numpy as np

import keras_dde

print("Keras", keras.__version__, "on", keras.backend.backend())
keras.utils.set_random_seed(seed)  # Reproducible weights and data.
os.makedirs(output_dir, exist_ok=True)
'''

SHOW_HELPER = '''\
import os

from IPython.display import Image, display

from keras_dde.utils.files import save_figure


def show(figure, name):
    """Saves a matplotlib figure as a PNG in `output_dir` and displays it."""
    path = save_figure(figure, os.path.join(output_dir, name))
    display(Image(filename=path))
    return path'''


def md(text):
    return new_markdown_cell(text.strip("\n"))


def code(text, tags=()):
    cell = new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def parameters(text):
    return [md(QUICK_NOTE), code(text, tags=("parameters",))]


def dde_basics():
    return [
        md('''
# 1. Denoising density estimators: the basics

A **denoising density estimator (DDE)** is a network `s(x)` with one scalar output,
trained so that its input gradient *denoises* Gaussian-corrupted data
([Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)):

$$x \\sim \\text{data},\\quad \\epsilon \\sim N(0, I),\\quad \\tilde x = x + \\sigma\\epsilon,
\\qquad L(s) = E\\,\\lVert \\sigma\\,\\nabla_x s(\\tilde x) + \\epsilon \\rVert^2 .$$

The minimiser is $s(x) = \\log \\tilde p(x) + C$, where $\\tilde p$ is the data density
smoothed by $N(0, \\sigma^2 I)$: for a finite data set exactly the Gaussian **kernel
density estimate (KDE) with bandwidth σ**. So a trained DDE is an unnormalised KDE that
costs one network pass per query (a KDE sums over the whole data set), and its gradient
field is conservative by construction.

One noise level has a blind spot. Score matching sees only the *local* shape of
$\\tilde p$: where the smoothed data falls apart into separate pieces, the loss cannot
tell how much mass each piece carries, and the network learns each one up to its own
constant ([Wenliang & Kanagawa, 2020](https://arxiv.org/abs/2008.11751)). On the two
spirals below, a single-σ `DDEModel` draws a bright patch on one arm and leaves the
other dim, though both hold half of the data.
`keras_dde.MultiScaleDDE` fixes this: it trains one noise-conditional energy
$s(x, \\sigma)$ at every noise level from σ up to the data's own scale, where the pieces
overlap and their masses are visible, and ties all levels to one constant. It is the
model to start from.

This notebook trains a `MultiScaleDDE` on the two-spirals toy data, draws its density
and its gradient (score) field, writes a GIF of the density forming during training,
and then trains the single-σ `DDEModel` of the original tutorial beside it, to show
the difference in a picture and in a number.
'''),
        *parameters('''
import os

quick = os.environ.get("KERAS_DDE_TUTORIAL_QUICK", "0") == "1"
dataset = "2spirals"
n_samples = 8000  # fewer points give the exact KDE itself unequal arms
sigma = 0.1
epochs = 50 if quick else 300
n_frames = 10 if quick else 60  # frames of each training GIF, about
batch_size = 512
learning_rate = 4e-3  # the multi-scale recipe's: cosine-decayed to 0 over the run
single_sigma_learning_rate = 1e-3  # the original tutorial's, for its DDEModel
seed = 0
output_dir = "outputs"
'''),
        code(SETUP),
        code(SHOW_HELPER),
        md('''
## The data

`keras_dde.datasets.toy2d` draws the classic 2-D toys (`toy2d_names()` lists them) as a
float32 array of shape `(n, 2)`.
'''),
        code('''
x = keras_dde.datasets.toy2d(dataset, n_samples, seed=seed)
print(x.shape, x.dtype)
show(keras_dde.plotting.plot_samples(x, title=f"{dataset}: {len(x)} points"),
     f"samples_{dataset}.png");
'''),
        md('''
## The model

`conditional_energy_mlp` is a multilayer perceptron on the pair $(x, \\log\\sigma)$ with
**smooth** activations (tanh): the loss differentiates the input gradient once more,
so ReLU (zero second derivative) trains badly. Its output is one number per sample
(the seed notebook's network ended in a 10-unit "scalar"; the models check this),
without a bias, which would get no gradient.

`MultiScaleDDE` wraps it. Its `train_step` draws a noise level for each sample between
σ and `sigma_max` (set at the first `fit` from the data's spread), half of them at σ
itself, and regresses the energy's gradient in $x$ on the noise (denoising score
matching) and its derivative in $\\log\\sigma$ on the noise's size, which links the
levels. `fit`, `evaluate` and `predict` work as for any Keras model. The optimizer is
the measured recipe of `keras_dde.recipes.build_multiscale_dde`: Adam from 4e-3,
decayed to 0 by a cosine over the run.
'''),
        code('''
steps = epochs * -(-len(x) // batch_size)  # training steps, for the decay
energy = keras_dde.models.conditional_energy_mlp(2)
dde = keras_dde.MultiScaleDDE(energy, sigma=sigma, seed=seed)
schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
dde.compile(optimizer=keras.optimizers.Adam(schedule))
energy.summary()
'''),
        md('''
## Training, with pictures

The frame callbacks draw the model during `fit`: `DensityFrames` the density
`exp(s(x))` at σ on a grid with a fixed colour scale, `VectorFieldFrames` the score
field `∇s(x)`. At the end of training they write their GIFs (atomically, and also if
training is interrupted).
'''),
        code('''
every = max(1, epochs // n_frames)
density_gif = os.path.join(output_dir, f"training_{dataset}.gif")
field_gif = os.path.join(output_dir, f"vectorfield_{dataset}.gif")
density_frames = keras_dde.callbacks.DensityFrames(
    density_gif, every=every, data=x, initial_frame=True
)
field_frames = keras_dde.callbacks.VectorFieldFrames(
    field_gif, every=every, data=x, initial_frame=True
)
history = dde.fit(
    x, batch_size=batch_size, epochs=epochs,
    callbacks=[density_frames, field_frames], verbose=0,
)
final_loss = history.history["loss"][-1]
print(f"{epochs} epochs, final loss {final_loss:.4f}, "
      f"{len(density_frames.frames)} density frames, sigma_max {dde.sigma_max:.2f}")
'''),
        code('''
from matplotlib.figure import Figure

figure = Figure(figsize=(5, 3), dpi=80)
ax = figure.add_subplot()
ax.plot(np.arange(1, len(history.history["loss"]) + 1), history.history["loss"])
ax.set_xlabel("epoch")
ax.set_ylabel("denoising loss")
show(figure, "loss.png");
'''),
        md('''
The loss does not go to zero: even the exact KDE leaves the part of the noise that
cannot be told apart from the data (a zero energy scores 3: 2 from the two coordinates,
1 from the noise level). What matters is the density it learns.

## The learned density and its gradient field
'''),
        code('''
show(keras_dde.plotting.plot_density(dde, data=x), f"density_{dataset}.png")
show(keras_dde.plotting.plot_vector_field(dde, data=x), f"vectorfield_{dataset}.png");
'''),
        md('''
The arrows point uphill in density, towards the spirals: `score(x)` is the direction
in which a noisy point should move. `denoise(x) = x + σ² ∇s(x)` takes that step
(Tweedie's formula):
'''),
        code('''
rng = np.random.default_rng(seed)
clean = x[:1000]
noisy = clean + sigma * rng.standard_normal(clean.shape).astype("float32")
denoised = keras.ops.convert_to_numpy(dde.denoise(noisy))
error_before = np.mean(np.sum((noisy - clean) ** 2, axis=1))
error_after = np.mean(np.sum((denoised - clean) ** 2, axis=1))
print(f"mean squared distance to the clean points: {error_before:.4f} noisy, "
      f"{error_after:.4f} denoised")
show(keras_dde.plotting.plot_samples(noisy, denoised, labels=("noisy", "denoised")),
     "denoised.png");
'''),
        md('''
## Why multi-scale: the single-σ DDEModel beside it

The original tutorial trains a `DDEModel`: an `energy_mlp` (swish) at the one noise
level σ, with Adam at 1e-3. Same data, same epochs:
'''),
        code('''
single_sigma_dde = keras_dde.DDEModel(
    keras_dde.models.energy_mlp(input_dim=2, width=64, depth=3), sigma=sigma, seed=seed
)
single_sigma_dde.compile(optimizer=keras.optimizers.Adam(single_sigma_learning_rate))
single_sigma_dde.fit(x, batch_size=batch_size, epochs=epochs, verbose=0)

# Each map is exp(s) divided by its peak: an arm drawn darker holds too little mass.
figure = Figure(figsize=(8, 4), dpi=80)
for index, (name, model) in enumerate(
        (("DDEModel (one sigma)", single_sigma_dde), ("MultiScaleDDE", dde))):
    keras_dde.plotting.plot_density(model, data=x, title=name,
                                    ax=figure.add_subplot(1, 2, index + 1))
show(figure, f"single_vs_multiscale_{dataset}.png");
'''),
        md('''
Both arms hold half of the data, so the exact KDE has the same density along each. A
number for what the pictures show: the mean normalised log-density along the centre
line of each arm (points evenly spaced along it, as `toy2d` draws them). In 2-D a grid
gives each model's $\\log Z$ exactly enough; the exact KDE of the training points
(`keras_dde.testing.reference`) is the reference.
'''),
        code('''
from keras_dde.testing.reference import exact_kde_log_density
from keras_dde.testing.reference import grid_log_partition

turns = 3 * np.pi * np.sqrt(np.linspace(0.05, 1, 200))
centre_line = (np.stack([-np.cos(turns) * turns, np.sin(turns) * turns], 1) + 0.25) / 3
arms = (centre_line.astype("float32"), -centre_line.astype("float32"))


def normalised_log_density(model):
    energy = lambda points: keras.ops.convert_to_numpy(model.energy(points))
    log_z = grid_log_partition(energy, (-5, -5), (5, 5), resolution=300)
    return lambda points: energy(points) - log_z


log_densities = {
    "exact KDE": lambda points: exact_kde_log_density(x, points, sigma),
    "DDEModel": normalised_log_density(single_sigma_dde),
    "MultiScaleDDE": normalised_log_density(dde),
}
arm_log_density, arm_gap = {}, {}
print("mean log p along:   arm 1    arm 2      gap")
for name, log_density in log_densities.items():
    arm_log_density[name] = [float(np.mean(log_density(arm))) for arm in arms]
    arm_gap[name] = abs(arm_log_density[name][0] - arm_log_density[name][1])
    print(f"{name:>15} {arm_log_density[name][0]:8.3f} {arm_log_density[name][1]:8.3f} "
          f"{arm_gap[name]:8.3f} nats")
'''),
        md('''
A gap of $g$ nats means that along one arm the density is, on geometric average, $e^g$
times the other's, where both should be equal. Nothing in the `DDEModel`'s loss fixes its gap: it is whatever
training left. The `MultiScaleDDE` keeps both arms within a few hundredths of a nat,
like the KDE. In full mode (8,000 points, 300 epochs, JAX) this printed gaps of 0.23
nats for the `DDEModel`, 0.02 for the `MultiScaleDDE` and 0.003 for the exact KDE.

## Training as a GIF

The GIF written by `DensityFrames` shows the multi-scale DDE's density taking shape.
'''),
        code('''
import imageio.v3 as iio

gif_frames = iio.imread(density_gif, index=None).shape[0]
print(f"{density_gif}: {gif_frames} frames")
display(Image(filename=density_gif))
'''),
        md('''
## Saving and loading

A `MultiScaleDDE` (like a `DDEModel`) saves as one `.keras` file, optimizer state and
noise stream included, so `fit` on the loaded model resumes where this one stopped.
'''),
        code('''
model_path = os.path.join(output_dir, f"dde_{dataset}.keras")
dde.save(model_path)
loaded = keras.models.load_model(model_path)
same = np.allclose(loaded.predict(x[:100], verbose=0), dde.predict(x[:100], verbose=0),
                   atol=1e-5)
print(f"loaded {model_path}: {type(loaded).__name__}, sigma {loaded.sigma}, "
      f"same energies: {same}")
'''),
        md('''
Next: `02_energy_gan.ipynb` trains a generator against two DDEs, and
`03_normalized_density.ipynb` turns the unnormalised `s(x)` into log-likelihoods,
samples and anomaly scores.
'''),
    ]


def energy_gan():
    return [
        md('''
# 2. An energy-based generator trained with two DDEs

A generator $G(z)$ maps latent noise to samples. It is trained to minimise
$KL(\\tilde q \\,\\|\\, \\tilde p)$ between the Gaussian-smoothed density of its samples
($\\tilde q$) and of the data ($\\tilde p$), which two DDEs track: `real_dde` on the data,
`fake_dde` on the generated samples. Since a DDE is $\\log$ of the smoothed density up to
a constant, the generator's loss is

$$L(G) = E_z\\, \\big[ s_{fake}(G(z) + n) - s_{real}(G(z) + n) \\big],$$

differentiated into the generator's weights only. Each step updates `real_dde` on the
data, then $G$, then `fake_dde` `dde_steps` times on fresh samples. The generator and the
DDEs have their own optimizers. (This is the seed "EGM-DDE" tutorial, without its
defects: a true scalar DDE output, gradients applied outside the tape, and losses that
Keras reports instead of `loss: 0.0`.)
'''),
        *parameters('''
import os

quick = os.environ.get("KERAS_DDE_TUTORIAL_QUICK", "0") == "1"
dataset = "8gaussians"
n_samples = 2048 if quick else 8192
sigma = 0.3
epochs = 3 if quick else 200
batch_size = 512
generator_learning_rate = 1e-3
dde_learning_rate = 2e-3
seed = 0
output_dir = "outputs"
'''),
        code(SETUP + '''x = keras_dde.datasets.toy2d(dataset, n_samples, seed=seed)
'''),
        code(SHOW_HELPER),
        md('''
## The three networks
'''),
        code('''
gan = keras_dde.EnergyGAN(
    keras_dde.models.generator_mlp(latent_dim=8, output_dim=2, width=128),
    # Three different seeds: the DDEs' noise and the generator's latents
    # must be independent streams.
    keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=sigma, seed=seed),
    keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=sigma, seed=seed + 1),
    dde_steps=2,
    seed=seed + 2,
)
gan.compile(
    generator_optimizer=keras.optimizers.Adam(generator_learning_rate, beta_1=0.5),
    dde_optimizer=keras.optimizers.Adam(dde_learning_rate),
)
show(keras_dde.plotting.plot_samples(x, gan.generate(2000, seed=seed),
                                     labels=("data", "generated")),
     "samples_before.png");
'''),
        md('''
## Training: the real and fake densities, and the samples

`DensityFrames(dde="real")` draws the data's DDE, `dde="fake"` the generated samples'
DDE, and `SampleFrames` data against generated samples. The fake density should come
to look like the real one.
'''),
        code('''
every = max(1, epochs // 50)
gifs = {
    "den_real": os.path.join(output_dir, "den_real.gif"),
    "den_fake": os.path.join(output_dir, "den_fake.gif"),
    "samples": os.path.join(output_dir, "samples.gif"),
}
callbacks = [
    keras_dde.callbacks.DensityFrames(gifs["den_real"], dde="real", every=every,
                                      data=x, initial_frame=True),
    keras_dde.callbacks.DensityFrames(gifs["den_fake"], dde="fake", every=every,
                                      data=x, initial_frame=True),
    keras_dde.callbacks.SampleFrames(gifs["samples"], data=x, every=every,
                                     labels=("data", "generated"), initial_frame=True),
]
history = gan.fit(x, batch_size=batch_size, epochs=epochs, callbacks=callbacks,
                  verbose=0)
for name, values in history.history.items():
    print(f"{name}: {values[0]:.4f} -> {values[-1]:.4f}")
'''),
        code('''
from matplotlib.figure import Figure

figure = Figure(figsize=(6, 3), dpi=80)
ax = figure.add_subplot()
for name, values in history.history.items():
    ax.plot(np.arange(1, len(values) + 1), values, label=name)
ax.set_xlabel("epoch")
ax.legend()
show(figure, "gan_losses.png");
'''),
        md('''
The generator's loss is an estimate of $KL(\\tilde q\\|\\tilde p)$ up to the two DDEs'
unknown constants, so its level means little; it should settle while the samples
improve.

## The GIFs
'''),
        code('''
import imageio.v3 as iio

gif_frames = {}
for name, path in gifs.items():
    gif_frames[name] = iio.imread(path, index=None).shape[0]
    print(f"{path}: {gif_frames[name]} frames")
    display(Image(filename=path))
'''),
        md('''
## The trained generator

Sampling is one forward pass: `gan.generate(n, seed)`. For the eight Gaussians we can
check mode coverage: the share of samples within three standard deviations of one of
the eight centres, and how many centres receive samples.
'''),
        code('''
samples = gan.generate(4000, seed=seed)
show(keras_dde.plotting.plot_samples(x, samples, labels=("data", "generated")),
     "samples_after.png")

if dataset == "8gaussians":
    angles = np.arange(8) * np.pi / 4
    centres = 4.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1) / 1.414
    std = 0.5 / 1.414
    distances = np.linalg.norm(samples[:, None, :] - centres[None], axis=-1)
    nearest = distances.argmin(axis=1)
    close = distances.min(axis=1) < 3 * std
    modes_covered = len(np.unique(nearest[close]))
    shares = np.bincount(nearest[close], minlength=8) / len(samples)
    print(f"{close.mean():.0%} of the samples lie within 3 std of a mode; "
          f"{modes_covered} of 8 modes have samples")
    print("share of the samples near each mode (ideal 12.5% each):",
          " ".join(f"{share:.1%}" for share in shares))
'''),
    ]


def normalized_density():
    return [
        md('''
# 3. Normalised densities, sampling and anomaly scores

A DDE gives $s(x) = \\log \\tilde p(x) + C$ with an unknown constant. To get
log-likelihoods, estimate $\\log Z = \\log \\int e^{s(x)} dx$; then
$\\log p(x) = s(x) - \\log Z$. `log_partition` uses importance sampling from a
Gaussian mixture fitted to the data (annealed importance sampling beyond 16
dimensions), with a standard error. This notebook trains the multi-scale DDE of
tutorial 1 (`MultiScaleDDE`), whose one constant holds for every mode, and with its
normalised density

* compares held-out log-likelihoods with scikit-learn's `KernelDensity` (the exact KDE
  that the DDE approximates, at the same bandwidth σ),
* draws samples with annealed Langevin dynamics (`dde.sample`),
* flags out-of-distribution points by their low likelihood,
* and shows, on a mixture with known weights, that it gets the masses of separated
  modes right where a single-σ `DDEModel` does not.
'''),
        *parameters('''
import os

quick = os.environ.get("KERAS_DDE_TUTORIAL_QUICK", "0") == "1"
dataset = "8gaussians"
n_samples = 4000 if quick else 8000
n_test = 2000
sigma = 0.15
epochs = 60 if quick else 300
batch_size = 512
learning_rate = 4e-3  # the multi-scale recipe's: cosine-decayed to 0 over the run
n_langevin_samples = 500 if quick else 2000
# The mode-mass section: a mixture of three separated Gaussians.
ms_n_samples = 1024 if quick else 8192
ms_sigma = 0.1
ms_epochs = 300 if quick else 600
ms_batch_size = 256 if quick else 512
seed = 0
output_dir = "outputs"
'''),
        code('''
import time

import keras
import numpy as np

import keras_dde

print("Keras", keras.__version__, "on", keras.backend.backend())
keras.utils.set_random_seed(seed)  # Reproducible weights and data.
os.makedirs(output_dir, exist_ok=True)
x_train = keras_dde.datasets.toy2d(dataset, n_samples, seed=seed)
x_test = keras_dde.datasets.toy2d(dataset, n_test, seed=seed + 1)
'''),
        code(SHOW_HELPER),
        md('''
## Train a multi-scale DDE

`MultiScaleDDE` on a `conditional_energy_mlp`, with the measured recipe of
`keras_dde.recipes.build_multiscale_dde` (Adam from 4e-3, decayed to 0 by a cosine over
the run); tutorial 1 explains both.
'''),
        code('''
steps = epochs * -(-len(x_train) // batch_size)  # training steps, for the decay
dde = keras_dde.MultiScaleDDE(keras_dde.models.conditional_energy_mlp(2), sigma=sigma,
                              seed=seed)
schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
dde.compile(optimizer=keras.optimizers.Adam(schedule))
start = time.perf_counter()
history = dde.fit(x_train, batch_size=batch_size, epochs=epochs, verbose=0)
print(f"{epochs} epochs in {time.perf_counter() - start:.1f} s, "
      f"loss {history.history['loss'][-1]:.4f}")
show(keras_dde.plotting.plot_density(dde, data=x_train), "density.png");
'''),
        md('''
## log Z by importance sampling

`fit` kept a Gaussian mixture fitted to the training data; the proposal is that
mixture with its covariances widened by $\\sigma^2 I$, as the KDE is. In 2-D we can
check the estimate against brute-force quadrature on a grid.
'''),
        code('''
log_z, stderr = dde.log_partition(seed=seed, verbose=0)
from keras_dde.testing.reference import grid_log_partition

energy = lambda points: keras.ops.convert_to_numpy(dde.energy(points))
grid_log_z = grid_log_partition(energy, (-5, -5), (5, 5), resolution=300)
print(f"log Z = {log_z:.3f} ± {stderr:.3f} (importance sampling), "
      f"{grid_log_z:.3f} (grid quadrature)")
'''),
        md('''
## Held-out log-likelihood, against scikit-learn's KernelDensity

The KDE with bandwidth σ is what the DDE converges to. It needs the whole training
set at query time, the DDE only its weights.
'''),
        code('''
from sklearn.neighbors import KernelDensity

dde.log_prob(x_test)  # The first call per input shape compiles; time the next.
start = time.perf_counter()
dde_log_p = dde.log_prob(x_test)
dde_seconds = time.perf_counter() - start

kde = KernelDensity(bandwidth=sigma).fit(x_train)
start = time.perf_counter()
kde_log_p = kde.score_samples(x_test)
kde_seconds = time.perf_counter() - start

dde_log_likelihood = float(np.mean(dde_log_p))
kde_log_likelihood = float(np.mean(kde_log_p))
mean_abs_difference = float(np.mean(np.abs(dde_log_p - kde_log_p)))
print(f"held-out mean log-likelihood: DDE {dde_log_likelihood:.3f}, "
      f"KDE {kde_log_likelihood:.3f}")
print(f"mean |log p_DDE - log p_KDE| = {mean_abs_difference:.3f} nats")
print(f"{n_test} queries: DDE {dde_seconds * 1e3:.0f} ms, KDE {kde_seconds * 1e3:.0f} ms "
      f"({len(x_train)} training points; the KDE's cost grows with them)")
'''),
        md('''
## Langevin samples

`dde.sample(n)` starts chains from the Gaussian of the data's moments widened by
`sigma_max`, anneals them by Langevin dynamics down the noise levels from `sigma_max`
to σ (the coarse levels move them between the modes), then runs Metropolis-adjusted
Langevin (MALA) steps at σ, $x' = x + \\frac{\\epsilon^2}{2} \\nabla s(x) +
\\epsilon\\,\\xi$, accepted or rejected so that the chains sample $e^{s}/Z$ exactly
(up to the DDE's error).
'''),
        code('''
samples, info = dde.sample(n_langevin_samples, seed=seed, verbose=0, return_info=True)
print(f"{len(samples)} samples, MALA acceptance {float(np.mean(info['acceptance'])):.2f}")
show(keras_dde.plotting.plot_samples(x_train, samples, labels=("data", "MALA samples")),
     "langevin_samples.png");
'''),
        md('''
## Out-of-distribution detection

Points the DDE finds unlikely are anomalies. Take the 1% quantile of the training
points' log-likelihood as a threshold, and score held-out points (in distribution) and
points drawn uniformly from the box around the data (mostly out of distribution:
between and beyond the modes).
'''),
        code('''
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

rng = np.random.default_rng(seed)
outliers = rng.uniform(-4, 4, size=(n_test, 2)).astype("float32")
# Keep only points far from every training point: true outliers.
nearest = NearestNeighbors(n_neighbors=1).fit(x_train).kneighbors(outliers)[0][:, 0]
outliers = outliers[nearest > 4 * sigma]

threshold = np.quantile(dde.log_prob(x_train), 0.01)
inlier_scores = dde.log_prob(x_test)
outlier_scores = dde.log_prob(outliers)
false_alarms = float(np.mean(inlier_scores < threshold))
detected = float(np.mean(outlier_scores < threshold))
auroc = roc_auc_score(
    np.r_[np.zeros(len(inlier_scores)), np.ones(len(outlier_scores))],
    -np.r_[inlier_scores, outlier_scores],
)
print(f"threshold log p < {threshold:.2f}: {detected:.1%} of {len(outliers)} outliers "
      f"detected, {false_alarms:.1%} of held-out inliers flagged; AUROC {auroc:.3f}")
'''),
        code('''
from matplotlib.figure import Figure

figure = Figure(figsize=(6, 3), dpi=80)
ax = figure.add_subplot()
bins = np.linspace(min(outlier_scores.min(), inlier_scores.min()),
                   inlier_scores.max(), 60)
ax.hist(inlier_scores, bins=bins, alpha=0.6, label="held-out data")
ax.hist(outlier_scores, bins=bins, alpha=0.6, label="outliers")
ax.axvline(threshold, color="k", linestyle="--", label="threshold")
ax.set_xlabel("log p(x)")
ax.legend()
show(figure, "ood_histogram.png");
'''),
        *multi_scale_section(),
        code('''
summary = {
    "log_z": log_z, "log_z_stderr": stderr, "grid_log_z": grid_log_z,
    "dde_log_likelihood": dde_log_likelihood, "kde_log_likelihood": kde_log_likelihood,
    "auroc": auroc, "kde_masses": kde_masses.tolist(),
    "dde_masses": dde_masses.tolist(), "multiscale_masses": multiscale_masses.tolist(),
}
for name, value in summary.items():
    print(f"{name}: {np.round(value, 4)}")
'''),
    ]


def multi_scale_section():
    """Tutorial 03's part on mode masses: DDEModel against MultiScaleDDE."""
    return [
        md('''
## Why multi-scale: mode masses

The model above is a `MultiScaleDDE` for a reason that a mixture with known weights
makes visible. Denoising score matching only sees the *local* shape of the smoothed
density. Where the smoothed modes of the data do not overlap, the loss cannot tell how much mass each mode
carries ([Wenliang & Kanagawa, 2020](https://arxiv.org/abs/2008.11751)): a `DDEModel`
learns each mode's shape and an arbitrary constant per mode, so its normalised density
gives the modes the wrong masses. `keras_dde.MultiScaleDDE` trains one noise-conditional
energy $s(x, \\sigma)$ at every noise level from σ up to the data's scale, where the
modes overlap and their masses are visible; a second regression term (the derivative in
$\\log\\sigma$) ties all levels to one constant, which carries the masses down to σ.

Here: three Gaussians 4 apart with weights 0.5, 0.3 and 0.2, at σ = 0.1, and the
single-σ `DDEModel` beside the `MultiScaleDDE`. Both come from `keras_dde.recipes`; the
multi-scale one with its measured recipe (Adam 4e-3, cosine decay over the run).
'''),
        code('''
from keras_dde import recipes

centers = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]], "float32")
weights = np.array([0.5, 0.3, 0.2])
rng = np.random.default_rng(seed)
labels = rng.choice(len(weights), size=ms_n_samples, p=weights)
x_mix = (centers[labels] + 0.3 * rng.standard_normal((ms_n_samples, 2))).astype("float32")

steps = ms_epochs * -(-ms_n_samples // ms_batch_size)
single = recipes.build_dde(2, sigma=ms_sigma, width=64, seed=seed)
multi = recipes.build_multiscale_dde(2, sigma=ms_sigma, width=64, decay_steps=steps,
                                     seed=seed)
for name, model in (("DDEModel", single), ("MultiScaleDDE", multi)):
    start = time.perf_counter()
    model.fit(x_mix, batch_size=ms_batch_size, epochs=ms_epochs, verbose=0)
    print(f"{name}: {ms_epochs} epochs in {time.perf_counter() - start:.1f} s")
'''),
        md('''
Each mode's mass is the integral of $e^{s(x)}/Z$ over the points closer to its centre
than to the others. In 2-D a grid does it exactly enough, and the same grid integrates
the exact KDE of the training points (`keras_dde.testing.reference`), the density both
models are meant to equal.
'''),
        code('''
from keras_dde.testing.reference import exact_kde_log_density

axis = np.linspace(-4, 4, 161, dtype="float32")
grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)
region = np.argmin(((grid[:, None] - centers) ** 2).sum(-1), axis=1)


def mode_masses(log_density):
    density = np.exp(log_density - log_density.max())
    return np.array([density[region == k].sum() for k in range(len(centers))]) / density.sum()


kde_masses = mode_masses(exact_kde_log_density(x_mix, grid, ms_sigma))
dde_masses = mode_masses(keras.ops.convert_to_numpy(single.energy(grid)))
multiscale_masses = mode_masses(keras.ops.convert_to_numpy(multi.energy(grid)))
print("mode   weight  exact KDE  DDEModel  MultiScaleDDE")
for k in range(len(centers)):
    print(f"{k:4d} {weights[k]:8.2f} {kde_masses[k]:10.3f} {dde_masses[k]:9.3f} "
          f"{multiscale_masses[k]:14.3f}")
for name, masses in (("DDEModel", dde_masses), ("MultiScaleDDE", multiscale_masses)):
    error = np.abs(np.log(masses / kde_masses)).max()
    print(f"{name}: largest error of a mode's log-mass {error:.2f} nats")
'''),
        code('''
from matplotlib.figure import Figure

# Each map is exp(s) divided by its peak: a mode drawn dark holds too little mass.
figure = Figure(figsize=(8, 4), dpi=80)
for index, (name, model) in enumerate((("DDEModel", single), ("MultiScaleDDE", multi))):
    keras_dde.plotting.plot_density(model, extent=(-4, 4, -4, 4), title=name,
                                    ax=figure.add_subplot(1, 2, index + 1))
show(figure, "mode_masses.png");
'''),
    ]


def interactive_explorer():
    return [
        md('''
# 4. Interactive explorer

`keras_dde.widgets.TrainingPanel` trains a DDE while you watch. Its model is the
multi-scale DDE of tutorial 1 (`MultiScaleDDE`, the first button, selected), which
gives separated modes their right masses; the single-σ `DDEModel` (**DDE**) and the
EnergyGAN of tutorial 2 are one click away. Pick a data set, set sigma (slider, or
type it in the box), the learning rate, batch size and network, press **Train**, and see the density, the score field or the samples
form. **Stop** ends training within a second or two (training runs in a background
thread, so the notebook stays responsive), **Reset** starts over, and **Export GIF**
writes the recorded frames to the named file. Play and the slider scrub through the
frames; the loss curve is on the right.

Needs the `tutorials` extra (`pip install "keras-dde[tutorials]"`). To use it as an app
without code, serve this notebook with Voilà:

    voila tutorials/04_interactive_explorer.ipynb

Things to try: after the multi-scale run on `2spirals`, press **DDE** and Train (a
new model starts): the single-σ model draws one arm brighter than the other, the
multi-scale one both alike; a small sigma (0.02) against
a large one (0.5) on `checkerboard`; a width of 8 against 128; the EnergyGAN on
`8gaussians`. A sigma of 0, or a huge
learning rate, gives a message in the panel instead of an error.
'''),
        *parameters('''
import os

quick = os.environ.get("KERAS_DDE_TUTORIAL_QUICK", "0") == "1"
dataset = "2spirals"
sigma = 0.1
epochs = 3 if quick else 100
n_samples = 2000 if quick else 8000
width = 32 if quick else 64
export_path = os.path.join("outputs", "explorer.gif")
drive_from_code = True  # Also train from code below (a demo of the panel's methods).
'''),
        code('''
from keras_dde.widgets import TrainingPanel

panel = TrainingPanel(dataset=dataset, sigma=sigma, epochs=epochs, n_samples=n_samples,
                      width=width, export_path=export_path)
panel
'''),
        md('''
## Driving the panel from code

Every button is also a method: `train()` starts training in the background and
returns at once; `wait()` blocks until it ends; `stop()`, `reset()` and `export(path)`
do what their buttons do. The panel above updates as this cell runs.
'''),
        code('''
if drive_from_code:
    panel.train()
    panel.wait()
    exported = panel.export()
    print(panel.message)
    print(f"{type(panel.model).__name__}: {len(panel.frames)} frames recorded, "
          f"{panel.epochs_done} epochs trained")
'''),
    ]


def images():
    return [
        md('''
# 5. Images: an energy-based generator that draws clothes

The EnergyGAN of tutorial 2 trains on images unchanged: only the networks differ. This
notebook loads **Fashion-MNIST** offline (28×28 grey garments, 10 classes), builds two
convolutional DDEs (`energy_convnet`) and a convolutional generator
(`generator_convnet`), shows what a DDE does to noisy images (Tweedie's one-step
denoiser), trains the generator, and draws its samples as a grid and a GIF.

`load_fashion_mnist` never downloads: it reads the IDX files from `path=`, else from
Debian's `dataset-fashion-mnist` package (`sudo apt-get install dataset-fashion-mnist`),
else from Keras's cache (filled by `keras.datasets.fashion_mnist.load_data()`). Pixels
are scaled to [-1, 1], the range of the generator's `tanh` output; `sigma` is in those
units.

Conv DDEs train fastest on TensorFlow and on JAX (where `energy_convnet`'s
`EnergyConv2D` layers give XLA a fast form of the double backward pass, and
`steps_per_execution=1` keeps XLA's CPU convolutions out of a slow `lax.scan`); see
`benchmarks/results/images_throughput.md`. A comparison with a WGAN-GP at the same
wall-clock budget is in `benchmarks/results/images_gan.md`.
'''),
        *parameters('''
import os

quick = os.environ.get("KERAS_DDE_TUTORIAL_QUICK", "0") == "1"
n_train = 256 if quick else 12800  # training images used
epochs = 1 if quick else 4
batch_size = 64
sigma = 0.5  # in pixel units of [-1, 1]; 0.3 collapsed in longer runs
latent_dim = 32
dde_steps = 1
generator_learning_rate = 2e-4
dde_learning_rate = 1e-3
frames_every = 2 if quick else 25  # batches between GIF frames
seed = 0
output_dir = "outputs"
'''),
        code(SETUP),
        code(SHOW_HELPER),
        md('''
## The data

`load_fashion_mnist(split)` returns float32 images of shape `(n, 28, 28, 1)` in
[-1, 1] and int labels `(n,)`. Images need the channel axis; the conv networks refuse
`(n, 28, 28)`.
'''),
        code('''
images, labels = keras_dde.datasets.load_fashion_mnist("train")
test_images, test_labels = keras_dde.datasets.load_fashion_mnist("test")
print(images.shape, images.dtype, f"[{images.min():g}, {images.max():g}]", labels[:10])
x = images[:n_train]
names = [keras_dde.datasets.fashion_mnist_classes[k] for k in labels[:16]]
show(keras_dde.plotting.plot_image_grid(images[:16], ncols=8, labels=names,
                                        value_range=(-1, 1), title="Fashion-MNIST"),
     "data_grid.png");
'''),
        md('''
## The three networks

`energy_convnet()`: three stride-2 swish convolutions (32-64-64 channels), a Dense
layer and a bias-free scalar head, 187k parameters. `generator_convnet(latent_dim)`:
Dense → 7×7 map → two stride-2 transposed convolutions → `tanh`. The EnergyGAN checks
that the generator's output shape is the DDEs' input shape.
'''),
        code('''
gan = keras_dde.EnergyGAN(
    keras_dde.models.generator_convnet(latent_dim),
    keras_dde.DDEModel(keras_dde.models.energy_convnet(), sigma=sigma, seed=seed),
    keras_dde.DDEModel(keras_dde.models.energy_convnet(), sigma=sigma, seed=seed + 1),
    dde_steps=dde_steps,
    seed=seed + 2,
)
gan.compile(
    generator_optimizer=keras.optimizers.Adam(generator_learning_rate, beta_1=0.5),
    dde_optimizer=keras.optimizers.Adam(dde_learning_rate),
    steps_per_execution=1,  # one compiled step per call: fastest for convs on CPU
)
print(f"generator: {gan.generator.count_params():,} parameters, "
      f"each DDE: {gan.real_dde.network.count_params():,}")
'''),
        md('''
## Training, with a GIF of the samples

`SampleFrames` recognises image data and draws a grid of the generator's samples (the
same latents in every frame) every `frames_every` batches.
'''),
        code('''
import time

gif_path = os.path.join(output_dir, "samples.gif")
frames = keras_dde.callbacks.SampleFrames(
    gif_path, data=x, every=frames_every, unit="batch", num_samples=64,
    max_images=64, value_range=(-1, 1), initial_frame=True,
)
start = time.perf_counter()
history = gan.fit(x, batch_size=batch_size, epochs=epochs, callbacks=[frames],
                  verbose=0)
train_seconds = time.perf_counter() - start
losses = {name: [float(v) for v in values] for name, values in history.history.items()}
for name, values in losses.items():
    print(f"{name}: {values[0]:.4f} -> {values[-1]:.4f}")
print(f"{epochs} epochs of {len(x)} images in {train_seconds:.0f} s; "
      f"{len(frames.frames)} GIF frames in {gif_path}")
'''),
        md('''
## What the real-data DDE learned: denoising

A DDE's input gradient is the score of the data smoothed at `sigma`, so
`dde.denoise(x~) = x~ + sigma² ∇s(x~)` is the posterior mean of the clean image given the
noisy one (Tweedie's formula). `plot_denoising` draws clean test images, the same with
noise at the DDE's `sigma`, and the real-data DDE's denoising, with each row's mean
squared error to the clean images. A trained DDE brings the error well below the
noise's `sigma²` (0.25 at `sigma=0.5`).
'''),
        code('''
noise = np.random.default_rng(seed).normal(size=test_images[:256].shape)
noisy = test_images[:256] + sigma * noise.astype("float32")
denoised = keras.ops.convert_to_numpy(gan.real_dde.denoise(noisy))
mse_noisy = float(np.mean((noisy - test_images[:256]) ** 2))
mse_denoised = float(np.mean((denoised - test_images[:256]) ** 2))
print(f"MSE on 256 test images: noisy {mse_noisy:.4f}, denoised {mse_denoised:.4f}")
show(keras_dde.plotting.plot_denoising(gan.real_dde, test_images[:8], value_range=(-1, 1)),
     "denoising.png");
'''),
        md('''
## The trained generator

Sampling is one forward pass of the generator: `gan.generate(n, seed)`.
'''),
        code('''
samples = gan.generate(64, seed=seed)
grid_path = show(keras_dde.plotting.plot_image_grid(samples, ncols=8, value_range=(-1, 1),
                                                    title=f"EnergyGAN, {epochs} epochs"),
                 "samples_grid.png")
print(samples.shape, f"[{samples.min():.3f}, {samples.max():.3f}]")
'''),
        code('''
display(Image(filename=gif_path))
'''),
        md('''
In quick mode (CI) the samples are still noise. The full run (800 steps; 10 minutes on
two heavily shared CPU cores, load 8, on JAX) draws blurry white silhouettes, some like
tops, dresses or bags, not yet convincing garments, while the real-data DDE already
denoises well (MSE 0.25 -> 0.04). `benchmarks/results/images_gan.md` trains for 15
minutes and measures the samples with a classifier: there a WGAN-GP with the same
generator still does better than the EnergyGAN. To go further:
more images (`n_train=60000`) and epochs, or `keras-dde gan fashion-mnist --out
runs/fashion` from the command line, which writes the model, a grid PNG and the GIF.
'''),
    ]


NOTEBOOKS = {
    "01_dde_basics.ipynb": dde_basics,
    "02_energy_gan.ipynb": energy_gan,
    "03_normalized_density.ipynb": normalized_density,
    "04_interactive_explorer.ipynb": interactive_explorer,
    "05_images.ipynb": images,
}


def build(name):
    """The notebook `name` as an `nbformat.NotebookNode`, without outputs."""
    notebook = new_notebook(cells=NOTEBOOKS[name]())
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{os.path.splitext(name)[0][:2]}-{index:02d}"
    nbformat.validate(notebook)
    return notebook


def main(folder=HERE):
    for name in NOTEBOOKS:
        path = os.path.join(folder, name)
        nbformat.write(build(name), path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
