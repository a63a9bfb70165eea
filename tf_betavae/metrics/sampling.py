"""Shared, batched sampling of (factors, codes) for the disentanglement metrics.

Every metric consumes a *ground-truth* object and a *representation function*:

* ground truth: the interface of
  ``tf_betavae.data.ground_truth_data.GroundTruthData`` (``factor_names``,
  ``factors_num_values``, ``num_factors``, ``observation_shape``,
  ``sample_factors(num, random_state) -> int64 [num, num_factors]`` and
  ``sample_observations_from_factors(factors, random_state) -> float32
  [num, *observation_shape]``); any object with these members works.
* representation function: ``fn(images float32 [N, H, W, C]) -> float32
  [N, latent_dim]`` (see ``representation.py``).

Images are never produced one at a time: factors are sampled for a whole
chunk, the chunk is rendered in one call and encoded in one call (the
representation function batches internally).  While a chunk is being encoded
the next one is rendered in a background thread (``prefetch``); the random
state is still consumed in exactly the sequential order, so results do not
depend on ``prefetch``.  A representation function with ``codes_of_factors``
(a ``code_table.CodeTable``) skips rendering and encoding: codes are looked up.
"""

import concurrent.futures
import typing

import numpy as np

from tf_betavae import progress

# Metrics fitted on ``num_train`` points and scored on ``num_test`` (DCI,
# SAP): run_metric's ``num_train`` / ``num_eval`` set these two sizes.
TRAIN_TEST_OVERRIDES = {"num_train": ("num_train",), "num_eval": ("num_test",)}


# Metrics of ``num_train`` samples only (MIG, IRS, the unsupervised
# scores): run_metric's ``num_train`` sets it, ``num_eval`` nothing.
TRAIN_ONLY_OVERRIDES = {"num_train": ("num_train",), "num_eval": ()}


def train_images_sampled(sizes):
  """Images a ``num_train``-only metric renders and encodes: num_train."""
  return sizes["num_train"]


def train_test_images_sampled(sizes):
  """Images a train/test metric renders and encodes (without a table).

  Args:
    sizes: dict with ``num_train`` and ``num_test``.

  Returns:
    int.
  """
  return sizes["num_train"] + sizes["num_test"]

# Images rendered and encoded per chunk.  64x64x1 float32 images are 16 KiB,
# so a chunk is 128 MiB; two chunks are alive at once with prefetching.
DEFAULT_CHUNK_IMAGES = 8192
# Least seconds between the progress lines of a long encoding.
PROGRESS_EVERY_SECONDS = 10.0


@typing.runtime_checkable
class CodeLookup(typing.Protocol):
  """A representation that looks codes up by factors (a CodeTable)."""

  def codes_of_factors(self, factors):
    """float32 np.ndarray [n, D], the codes of factor indices int [n, K]."""


def encode(representation_fn, images):
  """Applies a representation function and checks its output.

  Args:
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    images: float32 np.ndarray [N, H, W, C].

  Returns:
    float64 np.ndarray [N, D].

  Raises:
    ValueError: if the output is not [N, D].
  """
  codes = np.asarray(representation_fn(images))
  if codes.ndim != 2 or codes.shape[0] != len(images):
    raise ValueError(
        f"representation function must return [num_images, latent_dim] = "
        f"[{len(images)}, D], got shape {codes.shape}")
  return codes.astype(np.float64)


def map_chunks(ground_truth, representation_fn, factor_chunks, random_state,
               prefetch=True, total_images=None, what="encoding"):
  """Renders and encodes a sequence of factor arrays, one call each.

  At full sizes this takes minutes on a CPU: given ``total_images``, a
  progress line (images encoded, images/s, time left) is logged every
  ``PROGRESS_EVERY_SECONDS``.

  Args:
    ground_truth: ground-truth object (see module docstring).
    representation_fn: callable images -> codes.
    factor_chunks: iterator of int np.ndarray [n_i, num_factors]; it may use
      ``random_state`` itself (it is advanced only in the main thread and never
      while a render that uses the random state is in flight).
    random_state: np.random.RandomState passed to the renderer.
    prefetch: render chunk i+1 in a background thread while chunk i is
      encoded.
    total_images: int, images in all the chunks, or None (no progress
      lines).
    what: the progress lines' subject, e.g. "encoding for the beta_vae
      metric".

  Yields:
    float64 np.ndarray [n_i, D], the codes of each chunk, in order.
  """
  if isinstance(representation_fn, CodeLookup):
    # A CodeTable (code_table.py): every observation is already encoded.
    for factors in factor_chunks:
      yield np.asarray(representation_fn.codes_of_factors(factors),
                       np.float64)
    return
  render = ground_truth.sample_observations_from_factors
  counter = (progress.CountProgress(what, total_images, "images",
                                    PROGRESS_EVERY_SECONDS)
             if total_images else None)
  encoded = 0

  def encode_counted(images):
    nonlocal encoded
    codes = encode(representation_fn, images)
    encoded += len(images)
    if counter is not None:
      counter.update(encoded)
    return codes

  if not prefetch:
    for factors in factor_chunks:
      yield encode_counted(render(factors, random_state))
    return
  with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
    pending = None
    for factors in factor_chunks:
      # Order of random-state use: factors(i), render(i), factors(i+1), ...
      # factors(i+1) was drawn above only after render(i) finished (below).
      future = pool.submit(render, factors, random_state)
      if pending is not None:
        yield encode_counted(pending)
      pending = future.result()
    if pending is not None:
      yield encode_counted(pending)


def sample_codes_and_factors(ground_truth, representation_fn, num_points,
                             random_state,
                             chunk_images=DEFAULT_CHUNK_IMAGES,
                             prefetch=True):
  """Samples i.i.d. factor vectors and the codes of their images.

  Args:
    ground_truth: ground-truth object.
    representation_fn: callable images -> codes.
    num_points: int, number of samples.
    random_state: np.random.RandomState.
    chunk_images: int, images rendered per call.
    prefetch: see ``map_chunks``.

  Returns:
    codes: float64 np.ndarray [num_points, D].
    factors: int64 np.ndarray [num_points, num_factors] (factor indices).
  """
  factors = np.asarray(ground_truth.sample_factors(num_points, random_state),
                       dtype=np.int64)
  chunks = (factors[i:i + chunk_images]
            for i in range(0, num_points, chunk_images))
  codes = list(map_chunks(ground_truth, representation_fn, chunks,
                          random_state, prefetch, total_images=num_points,
                          what="encoding sampled points"))
  return np.concatenate(codes, axis=0), factors



def sample_train_and_test(ground_truth, representation_fn, num_train,
                          num_test, random_state,
                          chunk_images=DEFAULT_CHUNK_IMAGES, prefetch=True):
  """A training sample, then a test sample (``sample_codes_and_factors``
  twice, in disentanglement_lib's order: the training set's draws first).

  Returns:
    (codes_train [num_train, D], factors_train [num_train, K], codes_test
    [num_test, D], factors_test [num_test, K]).
  """
  codes_train, factors_train = sample_codes_and_factors(
      ground_truth, representation_fn, num_train, random_state, chunk_images,
      prefetch)
  codes_test, factors_test = sample_codes_and_factors(
      ground_truth, representation_fn, num_test, random_state, chunk_images,
      prefetch)
  return codes_train, factors_train, codes_test, factors_test


def sample_fixed_factor_groups(ground_truth, num_groups, group_size,
                               random_state):
  """Factor vectors in groups that share one (random) factor.

  Args:
    ground_truth: ground-truth object.
    num_groups: int.
    group_size: int, factor vectors per group.
    random_state: np.random.RandomState.

  Returns:
    fixed: int64 [num_groups], the factor held fixed in each group (uniform).
    factors: int64 [num_groups, group_size, num_factors]; within group g,
      column fixed[g] equals the value of the group's first row, the other
      columns are independent.
  """
  fixed = random_state.randint(ground_truth.num_factors, size=num_groups)
  factors = np.asarray(
      ground_truth.sample_factors(num_groups * group_size, random_state),
      dtype=np.int64).reshape(num_groups, group_size, -1)
  groups = np.arange(num_groups)
  factors[groups, :, fixed] = factors[groups, 0, fixed][:, None]
  return fixed.astype(np.int64), factors
