"""Several training processes: which engines support them, and exact gathers.

On JAX, `jax.distributed.initialize` joins several processes, and
`keras.distribution.DataParallel` over `jax.devices()` (every process's
devices) trains one model across them, each process feeding its own part of
every global batch. The models of this package then need two things from
here: `process_count`, and `allgather_exact`, which gives every process every
process's array, bit for bit (float64 travels as pairs of uint32: JAX's
collectives would otherwise round it to float32 without `jax_enable_x64`).

TensorFlow's `MultiWorkerMirroredStrategy` with several workers and
`torch.distributed` with a world size above 1 are refused before training by
`check_multiprocess_support` (see `docs/scaling.md`).

`initialize` joins the processes (`jax.distributed.initialize`), with CPU
collectives, and raises a clear `TimeoutError` when the coordinator cannot
be reached, where JAX itself would abort the process.
"""

import json
import os
import socket
import time

import keras
import numpy as np

__all__ = [
    "allgather_exact",
    "check_multiprocess_support",
    "initialize",
    "process_count",
    "process_index",
]

KERAS_ISSUE = "https://github.com/keras-team/keras/issues/20585"


def process_count():
    """The number of JAX processes training together (1 on other engines)."""
    if keras.backend.backend() != "jax":
        return 1
    import jax

    return jax.process_count()


def process_index():
    """This process's index among `process_count()` (0 on other engines)."""
    if keras.backend.backend() != "jax":
        return 0
    import jax

    return jax.process_index()


def allgather_exact(array):
    """Every process's `array` (same shape and dtype on each), stacked on a
    new first axis in process order, bit for bit. One process: `array[None]`.
    """
    array = np.ascontiguousarray(array)
    if process_count() == 1:
        return array[None]
    from jax.experimental import multihost_utils

    dtype, shape = array.dtype, array.shape
    if array.dtype.itemsize % 4:
        raise TypeError(f"allgather_exact needs 4- or 8-byte items; got {dtype}.")
    words = array.reshape(-1).view("uint32")
    gathered = np.asarray(multihost_utils.process_allgather(words))
    return np.ascontiguousarray(gathered).view(dtype).reshape((-1, *shape))


def _wait_for_coordinator(address, timeout):
    """Raises `TimeoutError` unless a TCP connection to `address` (host:port)
    opens within `timeout` seconds."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(
            f"`coordinator_address` must be 'host:port'; received {address!r}."
        )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=1):
                return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"The JAX coordinator at {address} could not be reached "
                    f"within {timeout:g} s ({error}). Start process 0 (which "
                    "runs the coordinator) with the same address, check the "
                    "host name, the port and the firewall, or raise `timeout`."
                ) from None
            time.sleep(0.2)


def initialize(coordinator_address, num_processes, process_id, timeout=300,
               cpu_collectives="gloo"):
    """Joins `num_processes` JAX processes: `jax.distributed.initialize`.

    Call it first in every process, before any JAX computation, then set
    `keras.distribution.DataParallel(devices=jax.devices())`. The models
    must start from the same weights: as `keras.distribution.initialize`
    does, this sets one Keras default seed for all processes when none is
    set (the sum of each process's random seed); `keras.utils.set_random_seed`
    with the same value on every process makes runs repeatable.

    Args:
        coordinator_address: "host:port" of process 0, which runs the
            coordinator (on Slurm, the first node of the job).
        num_processes: int, the number of processes.
        process_id: int in `[0, num_processes)`.
        timeout: seconds to wait for the coordinator (processes > 0) and for
            every process to register. A coordinator that cannot be reached
            raises `TimeoutError` here; JAX alone aborts the process.
        cpu_collectives: JAX's CPU collectives ("gloo"), needed when the
            devices are CPUs; None leaves JAX's setting.
    """
    if keras.backend.backend() != "jax":
        raise RuntimeError(
            "Several keras-dde processes train on the JAX backend only "
            f"(KERAS_BACKEND=jax); this is {keras.backend.backend()}."
        )
    if not 0 <= process_id < num_processes:
        raise ValueError(
            f"`process_id` must be in [0, {num_processes}); received {process_id}."
        )
    if process_id > 0:
        _wait_for_coordinator(coordinator_address, timeout)
    import jax

    if cpu_collectives is not None:
        jax.config.update("jax_cpu_collectives_implementation", cpu_collectives)
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        initialization_timeout=int(max(timeout, 1)),
    )
    try:  # As `keras.distribution.initialize` does: one default seed for all.
        from keras.src.backend.jax.distribution_lib import initialize_rng
    except ImportError:  # a Keras without it: seed with set_random_seed
        return
    initialize_rng()


def _tensorflow_workers(model):
    """The number of workers of `model`'s (or the active) `tf.distribute`
    strategy or of `TF_CONFIG`'s cluster (1 when none names several)."""
    workers = 1
    config = os.environ.get("TF_CONFIG")
    if config:
        try:
            cluster = json.loads(config).get("cluster", {})
        except (ValueError, AttributeError):
            cluster = {}
        workers = sum(
            len(cluster.get(kind, ())) for kind in ("chief", "worker")
        ) or 1
    import tensorflow as tf

    for strategy in (
        getattr(model, "_distribute_strategy", None),
        tf.distribute.get_strategy(),
    ):
        resolver = getattr(strategy, "cluster_resolver", None)
        multi_worker = any(
            "MultiWorker" in kind.__name__ or "CollectiveAllReduce" in kind.__name__
            for kind in type(strategy).__mro__
        )
        if resolver is not None and multi_worker:
            spec = resolver.cluster_spec().as_dict()
            workers = max(
                workers,
                sum(len(spec.get(kind, ())) for kind in ("chief", "worker")),
            )
    return workers


def check_multiprocess_support(model):
    """Raises before training where several processes are not supported.

    - TensorFlow with several workers (`MultiWorkerMirroredStrategy`, or
      `TF_CONFIG` naming several): Keras 3.15's own `fit` fails there
      (keras-team/keras#20585); train several processes on JAX.
    - PyTorch with `torch.distributed` initialised with a world size above 1.
    """
    backend = keras.backend.backend()
    name = type(model).__name__
    if backend == "tensorflow":
        workers = _tensorflow_workers(model)
        if workers > 1:
            raise RuntimeError(
                f"{name}.fit cannot train on several TensorFlow workers "
                f"({workers} in the cluster): Keras 3's `fit` under "
                "tf.distribute.MultiWorkerMirroredStrategy fails on multiple "
                f"workers (keras-team/keras#20585, {KERAS_ISSUE}). Train "
                "several processes on JAX instead: jax.distributed.initialize "
                "and keras.distribution.DataParallel (docs/scaling.md). One "
                "worker with several local devices works with "
                "tf.distribute.MirroredStrategy."
            )
    elif backend == "torch":
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            world = dist.get_world_size()
            if world > 1:
                raise RuntimeError(
                    f"{name}.fit does not support several PyTorch processes "
                    f"(torch.distributed has a world size of {world}): Keras 3 "
                    "on PyTorch has no multi-process data parallelism, and "
                    "keras-dde does not wrap the model in "
                    "DistributedDataParallel. Train several processes on JAX "
                    "(jax.distributed.initialize and "
                    "keras.distribution.DataParallel, docs/scaling.md), or one "
                    "PyTorch process."
                )
