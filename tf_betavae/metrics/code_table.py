"""The codes of every observation of a finite ground truth, encoded once.

The metrics sample factor vectors with replacement from a finite grid, so
at large sample sizes (the β-VAE metric at disentanglement_lib's sizes asks
for more images than dSprites has distinct ones) most of their encoding work
repeats itself.  A ``CodeTable`` encodes each distinct image once, in large
batches, and then answers every metric's requests by lookup.

This changes no result: the random state is consumed in the same order (the
ground truths it accepts render deterministically and never touch the random
state), and the code of an image is the same value the representation
function returns for it in any batch (up to the last bits of float32
arithmetic, which can differ between batch compositions of some kernels).

A ground truth can be tabulated when it is a
``tf_betavae.data.ground_truth_data.FiniteGroundTruth`` (``num_observations``,
``observation_index``, ``observations_at``), as the simulator
(tf_betavae.data.dsprites_simulator) and the file-backed datasets
(tf_betavae.data.indexed: official dSprites, Shapes3D) are.
"""

import concurrent.futures
import math
import time

import numpy as np

from tf_betavae import progress
from tf_betavae.data.ground_truth_data import FiniteGroundTruth
from tf_betavae.metrics import registry
from tf_betavae.metrics import sampling

# Largest table built by default: 2 GiB of float32 codes (enough for a
# 10-latent code of every dSprites image, not for raw-pixel "codes").
DEFAULT_MAX_BYTES = 2 * 2**30
# "auto" builds a table when the metrics will encode at least this fraction
# of the number of distinct observations (the table encodes each once).  A
# table observation costs about what a sampled image costs (both are
# rendered and encoded), so the break-even is near 1 (measured in
# docs/recipe_search.md).
AUTO_MIN_FRACTION = 1.0

CODE_TABLE_MODES = ("auto", "always", "never")


class CodeTableError(ValueError):
  """A table was requested that cannot be built; the message says why."""


def _unsupported_error(ground_truth):
  return CodeTableError(
      f"{type(ground_truth).__name__} cannot be tabulated: it needs "
      "num_observations, observation_index and observations_at (finite, "
      "deterministic observations); use code_table='never'")


def _too_large_error(total, dim, max_bytes):
  return CodeTableError(
      f"a code table of {total} observations x {dim} dimensions needs "
      f"{total * dim * 4 / 2**20:.0f} MiB, more than the "
      f"{max_bytes / 2**20:.0f} MiB allowed; use code_table='never' (sample "
      "and encode instead)")


def supports_code_table(ground_truth):
  """Whether ``ground_truth`` is a FiniteGroundTruth (a CodeTable needs it)."""
  return isinstance(ground_truth, FiniteGroundTruth)


class CodeTable:
  """A representation function backed by the codes of every observation.

  Call it like the representation function it wraps (images -> codes; this
  path encodes as usual).  The metrics' samplers (``sampling.map_chunks``)
  see ``codes_of_factors`` and look codes up instead of rendering and
  encoding.

  Attributes:
    codes: float32 np.ndarray [num_observations, D].
    encoded_images: int, images encoded to build the table.
    build_seconds: float, wall seconds to build it.
  """

  def __init__(self, ground_truth, representation_fn, codes,
               build_seconds=0.0):
    self._ground_truth = ground_truth
    self._representation_fn = representation_fn
    self.codes = codes
    self.encoded_images = len(codes)
    self.build_seconds = build_seconds

  def __call__(self, images):
    return self._representation_fn(images)

  def codes_of_factors(self, factors):
    """Codes of factor vectors by lookup.

    Args:
      factors: int np.ndarray [n, K].

    Returns:
      float32 np.ndarray [n, D].
    """
    return self.codes[self._ground_truth.observation_index(factors)]

  def describe(self):
    """JSON-able summary recorded in the metric results."""
    return {"observations": int(len(self.codes)),
            "latent_dim": int(self.codes.shape[1]),
            "megabytes": round(self.codes.nbytes / 2**20, 1),
            "build_seconds": round(self.build_seconds, 2)}


def build_code_table(ground_truth, representation_fn,
                     chunk_images=sampling.DEFAULT_CHUNK_IMAGES,
                     max_bytes=DEFAULT_MAX_BYTES, prefetch=True, clock=None,
                     progress_every_seconds=sampling.PROGRESS_EVERY_SECONDS):
  """Encodes every observation of ``ground_truth`` once.

  Observations are rendered ``chunk_images`` at a time (the next chunk in a
  background thread while the current one is encoded) and encoded in one
  call per chunk.  A full table takes minutes on a CPU, so a progress line
  (images encoded, images/s, time left) is logged every
  ``progress_every_seconds``.

  Args:
    ground_truth: a ground truth with the CodeTable interface.
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    chunk_images: int, observations rendered and encoded per call.
    max_bytes: int, the largest table (float32 codes) allowed.
    prefetch: render the next chunk while encoding the current one.
    clock: callable returning seconds (default time.perf_counter).
    progress_every_seconds: float, least time between progress lines.

  Returns:
    CodeTable.

  Raises:
    CodeTableError: the ground truth lacks the interface, or the table
      would exceed ``max_bytes`` (the message gives both sizes).
  """
  clock = clock or time.perf_counter
  if not supports_code_table(ground_truth):
    raise _unsupported_error(ground_truth)
  start = clock()
  total = int(ground_truth.num_observations)
  if total < 1:
    raise CodeTableError("the ground truth has no observations")
  bounds = [(s, min(s + chunk_images, total))
            for s in range(0, total, chunk_images)]
  render = lambda b: ground_truth.observations_at(np.arange(b[0], b[1]))
  codes = None
  counter = progress.CountProgress("encoding the code table", total,
                                   "images", progress_every_seconds, clock)

  def store(index, chunk_codes):
    nonlocal codes
    if codes is None:
      dim = chunk_codes.shape[1]
      if total * dim * 4 > max_bytes:
        raise _too_large_error(total, dim, max_bytes)
      codes = np.empty((total, dim), np.float32)
    start_row, stop_row = bounds[index]
    codes[start_row:stop_row] = chunk_codes
    counter.update(stop_row)

  if not prefetch:
    for i, b in enumerate(bounds):
      store(i, sampling.encode(representation_fn, render(b)))
  else:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
      future = pool.submit(render, bounds[0])
      for i in range(len(bounds)):
        images = future.result()
        if i + 1 < len(bounds):
          future = pool.submit(render, bounds[i + 1])
        store(i, sampling.encode(representation_fn, images))
  return CodeTable(ground_truth, representation_fn, codes,
                   build_seconds=clock() - start)


def planned_images(name, params):
  """Images a metric encodes when sampling (no table).

  Args:
    name: "beta_vae", "mig", "factor_vae", "dci" or "sap".
    params: dict of the metric's sizes: num_train, num_eval (β-VAE,
      FactorVAE), num_test (DCI, SAP), num_pairs (β-VAE), batch_size and
      num_variance_estimate (FactorVAE).

  Returns:
    int.
  """
  if name not in registry.REGISTRY:
    raise ValueError(f"unknown metric {name!r}")
  return registry.REGISTRY[name].images_sampled(params)


def should_build(mode, ground_truth, num_images, code_dim=None,
                 max_bytes=DEFAULT_MAX_BYTES):
  """Decides whether to build a table.

  Args:
    mode: "auto", "always" or "never".
    ground_truth: the ground truth.
    num_images: int, images the metrics would encode without a table.
    code_dim: int or None, code dimensions if known (for the size check).
    max_bytes: int.

  Returns:
    (bool, reason str).

  Raises:
    CodeTableError: mode "always" and the table cannot be built.
    ValueError: unknown mode.
  """
  if mode not in CODE_TABLE_MODES:
    raise ValueError(f"code_table must be one of {CODE_TABLE_MODES}, got "
                     f"{mode!r}")
  if mode == "never":
    return False, "disabled"
  supported = supports_code_table(ground_truth)
  total = int(ground_truth.num_observations) if supported else 0
  too_big = (code_dim is not None and supported and
             total * code_dim * 4 > max_bytes)
  if mode == "always":
    if not supported:
      raise _unsupported_error(ground_truth)
    if too_big:
      raise _too_large_error(total, code_dim, max_bytes)
    return True, "requested"
  if not supported:
    return False, "the ground truth cannot be tabulated"
  if too_big:
    return False, (f"a table of {total} x {code_dim} codes would exceed "
                   f"{max_bytes / 2**20:.0f} MiB")
  if num_images < math.ceil(AUTO_MIN_FRACTION * total):
    return False, (f"{num_images} sampled images are fewer than "
                   f"{AUTO_MIN_FRACTION:g} x {total} observations")
  return True, (f"{num_images} sampled images >= {AUTO_MIN_FRACTION:g} x "
                f"{total} observations")
