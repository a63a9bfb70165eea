"""Procedural dSprites ("2D shapes") simulator, rendered with TensorFlow ops.

The factor grid is the official dSprites grid (Matthey et al. 2017), 737,280
combinations:

  ===========  ======  ==========================================
  factor       values  meaning
  ===========  ======  ==========================================
  shape        3       0 square, 1 ellipse, 2 heart
  scale        6       linspace(0.5, 1.0, 6)
  orientation  40      2*pi*k/40, k = 0..39 (radians, in [0, 2*pi))
  pos_x        32      linspace(0, 1, 32), left to right
  pos_y        32      linspace(0, 1, 32), top to bottom
  ===========  ======  ==========================================

Images are 64x64x1, binary (0.0 background, 1.0 sprite), like the official
data.  Geometry, in pixels of the 64x64 image:

* A position step is exactly one pixel: the sprite centre lies at
  ``16 + 31 * pos`` pixels from the top-left corner, so centres span
  16..47 (the official data keeps a similar margin so that no sprite leaves
  the frame).
* At scale 1 the square is 20 px wide, the ellipse 26 x 13 px and the heart
  about 21 px wide; every sprite at every orientation fits in a 32x32 box.

Because positions are whole-pixel translations, rendering is split in two:
the 720 (shape, scale, orientation) sprites are drawn once, analytically and
with 4x4 supersampling, into 32x32 templates; an image is then one gather
that places its template at its position.  Both steps are plain TF ops, so
the renderer runs inside ``tf.data`` and on a GPU, and is deterministic for
given factor indices.
"""

import math

import numpy as np
import tensorflow as tf

from tf_betavae.data import ground_truth_data

FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTORS_NUM_VALUES = (3, 6, 40, 32, 32)
SHAPE_NAMES = ("square", "ellipse", "heart")
IMAGE_SIZE = 64
TEMPLATE_SIZE = 32
_SUPERSAMPLE = 4

# Half-extents at scale 1, in pixels.
_SQUARE_HALF_SIDE = 10.0
_ELLIPSE_SEMI_AXES = (13.0, 6.5)
_HEART_UNIT = 9.0  # pixels per unit of the implicit heart curve


def factor_values():
  """Physical value of every factor index.

  Returns:
    dict name -> float64 np.ndarray [num_values]; shape holds 0, 1, 2.
  """
  return {
      "shape": np.arange(3, dtype=np.float64),
      "scale": np.linspace(0.5, 1.0, 6),
      "orientation": 2.0 * math.pi * np.arange(40) / 40.0,
      "pos_x": np.linspace(0.0, 1.0, 32),
      "pos_y": np.linspace(0.0, 1.0, 32),
  }


def _inside_shape(shape_index, u, v):
  """Whether points (u, v) in the sprite's own frame (pixels) are inside it.

  Args:
    shape_index: int32 tensor broadcastable against u.
    u, v: float32 tensors, coordinates relative to the sprite centre after
      undoing rotation and scale (pixels at scale 1); v points down.

  Returns:
    bool tensor, the shape of u.
  """
  square = tf.maximum(tf.abs(u), tf.abs(v)) <= _SQUARE_HALF_SIDE
  a, b = _ELLIPSE_SEMI_AXES
  ellipse = (u / a) ** 2 + (v / b) ** 2 <= 1.0
  # Implicit heart (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0 with y pointing up; the
  # curve spans y in [-1, 1.25], so shift it to centre the bounding box.
  x = u / _HEART_UNIT
  y = -v / _HEART_UNIT + 0.125
  heart = (x * x + y * y - 1.0) ** 3 - x * x * y ** 3 <= 0.0
  return tf.where(
      tf.equal(shape_index, 0), square,
      tf.where(tf.equal(shape_index, 1), ellipse, heart))


def render_templates():
  """Draws the 720 (shape, scale, orientation) sprites, centred.

  Returns:
    float32 tensor [3 * 6 * 40, 32, 32] in {0, 1}; index
    ``(shape * 6 + scale) * 40 + orientation``.  The sprite centre is the
    corner shared by pixels (15, 15) and (16, 16).
  """
  values = factor_values()
  shape_idx, scale_idx, orient_idx = np.meshgrid(
      np.arange(3), np.arange(6), np.arange(40), indexing="ij")
  shape = tf.constant(shape_idx.reshape(-1, 1, 1), tf.int32)
  scale = tf.constant(values["scale"][scale_idx].reshape(-1, 1, 1), tf.float32)
  angle = tf.constant(values["orientation"][orient_idx].reshape(-1, 1, 1),
                      tf.float32)
  # Sub-pixel sample positions relative to the template centre.
  n = TEMPLATE_SIZE * _SUPERSAMPLE
  coords = (np.arange(n) + 0.5) / _SUPERSAMPLE - TEMPLATE_SIZE / 2
  xs = tf.constant(coords.reshape(1, 1, n), tf.float32)
  ys = tf.constant(coords.reshape(1, n, 1), tf.float32)
  cos, sin = tf.cos(angle), tf.sin(angle)
  # Rotate the sample grid by -angle (the sprite by +angle, counterclockwise
  # on screen), then undo the scale.
  u = (cos * xs - sin * ys) / scale
  v = (sin * xs + cos * ys) / scale
  inside = tf.cast(_inside_shape(shape, u, v), tf.float32)
  coverage = tf.reshape(
      inside, [-1, TEMPLATE_SIZE, _SUPERSAMPLE, TEMPLATE_SIZE, _SUPERSAMPLE])
  coverage = tf.reduce_mean(coverage, axis=[2, 4])
  return tf.cast(coverage >= 0.5, tf.float32)


def _placement_table():
  """Source index into a flat template for every (offset, pixel).

  Returns:
    int32 np.ndarray [32 * 32, 64 * 64]: for offset ``pos_y * 32 + pos_x``
    and image pixel ``row * 64 + col``, the flat template index
    ``(row - pos_y) * 32 + (col - pos_x)``, or 32 * 32 (a zero pad entry)
    where the pixel lies outside the template.
  """
  size, tsize = IMAGE_SIZE, TEMPLATE_SIZE
  off_y, off_x = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
  rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
  t_row = rows[None] - off_y.reshape(-1, 1, 1)
  t_col = cols[None] - off_x.reshape(-1, 1, 1)
  valid = (t_row >= 0) & (t_row < tsize) & (t_col >= 0) & (t_col < tsize)
  index = np.where(valid, t_row * tsize + t_col, tsize * tsize)
  return index.reshape(32 * 32, size * size).astype(np.int32)


class DSpritesRenderer(tf.Module):
  """Renders dSprites images from factor indices, vectorised.

  Building one draws the 720 templates once; rendering is then a gather.
  """

  def __init__(self, name=None):
    super().__init__(name=name)
    templates = tf.reshape(render_templates(), [-1, TEMPLATE_SIZE ** 2])
    pad = tf.zeros([templates.shape[0], 1], tf.float32)
    # [720, 1025]: flat templates with a trailing zero for "outside".
    self._templates = tf.concat([templates, pad], axis=1)
    self._placement = tf.constant(_placement_table())

  def render(self, factors):
    """Renders images.

    Args:
      factors: int tensor [batch, 5] of factor indices in the order of
        FACTOR_NAMES, each within FACTORS_NUM_VALUES (not checked here; see
        ``DSpritesSimulator.sample_observations_from_factors``).

    Returns:
      float32 tensor [batch, 64, 64, 1] in {0, 1}.
    """
    factors = tf.cast(factors, tf.int32)
    sprite = (factors[:, 0] * 6 + factors[:, 1]) * 40 + factors[:, 2]
    offset = factors[:, 4] * 32 + factors[:, 3]
    # Gather the source pixel of every image pixel: [batch, 4096].
    flat_index = tf.gather(self._placement, offset)
    flat_index += tf.expand_dims(sprite, 1) * (TEMPLATE_SIZE ** 2 + 1)
    pixels = tf.gather(tf.reshape(self._templates, [-1]), flat_index)
    return tf.reshape(pixels, [-1, IMAGE_SIZE, IMAGE_SIZE, 1])


_RENDERER = None


def renderer():
  """The process-wide renderer (built on first use; it holds only constants)."""
  global _RENDERER
  if _RENDERER is None:
    _RENDERER = DSpritesRenderer()
  return _RENDERER


def sample_factor_indices(batch_size, seed):
  """Uniform factor indices from a stateless seed, in graph.

  Args:
    batch_size: int, number of factor vectors.
    seed: int tensor [2], a stateless random seed.

  Returns:
    int32 tensor [batch_size, 5].
  """
  maxval = tf.constant(FACTORS_NUM_VALUES, tf.int32)
  uniform = tf.random.stateless_uniform([batch_size, 5], seed=seed)
  return tf.minimum(tf.cast(uniform * tf.cast(maxval, tf.float32), tf.int32),
                    maxval - 1)


def check_factors(factors):
  """Checks an array of dSprites factor indices.

  Args:
    factors: int array-like [num, 5] in the order of FACTOR_NAMES.

  Returns:
    np.ndarray [num, 5], the factors as given.

  Raises:
    ValueError: if factors has the wrong shape or an index is out of range.
  """
  factors = np.asarray(factors)
  if factors.ndim != 2 or factors.shape[1] != len(FACTOR_NAMES):
    raise ValueError(
        f"factors must have shape [num, {len(FACTOR_NAMES)}] "
        f"({', '.join(FACTOR_NAMES)}), got {factors.shape}")
  if factors.size and (np.any(factors < 0) or np.any(
      factors >= np.asarray(FACTORS_NUM_VALUES))):
    raise ValueError(
        "factor index out of range: each column must lie in "
        f"[0, {list(FACTORS_NUM_VALUES)}) per factor {FACTOR_NAMES}")
  return factors


class DSpritesSimulator(ground_truth_data.GroundTruthData):
  """The simulator as a ground truth; also a ``FiniteGroundTruth``.

  Attributes:
    factor_names: tuple of str, the factor order of every factor array.
    factors_num_values: list of int, values per factor.
    num_factors: 5.
    observation_shape: (64, 64, 1).
  """

  name = "dsprites"
  factor_names = FACTOR_NAMES
  factors_num_values = list(FACTORS_NUM_VALUES)
  num_factors = len(FACTOR_NAMES)
  observation_shape = (IMAGE_SIZE, IMAGE_SIZE, 1)

  def __init__(self, render_batch_size=1024):
    self._render_batch_size = render_batch_size
    self._render = tf.function(
        renderer().render,
        input_signature=[tf.TensorSpec([None, 5], tf.int32)])

  def sample_factors(self, num, random_state):
    """Uniformly samples factor indices.

    Args:
      num: int, number of factor vectors.
      random_state: np.random.RandomState.

    Returns:
      int64 np.ndarray [num, 5].
    """
    return ground_truth_data.sample_uniform_factors(
        self.factors_num_values, num, random_state)

  num_observations = int(np.prod(FACTORS_NUM_VALUES))

  def observation_index(self, factors):
    """Row-major index of each factor vector in the factor grid.

    Args:
      factors: int np.ndarray [num, 5].

    Returns:
      int64 np.ndarray [num] in [0, 737280) (the official file's row order).
    """
    factors = check_factors(factors)
    return np.ravel_multi_index(tuple(factors.T.astype(np.int64)),
                                tuple(self.factors_num_values)).astype(
                                    np.int64)

  def observations_at(self, index):
    """Images of grid indices (see ``observation_index``).

    Args:
      index: int np.ndarray [num] in [0, 737280).

    Returns:
      float32 np.ndarray [num, 64, 64, 1].
    """
    index = np.asarray(index, np.int64)
    if index.size and (index.min() < 0 or
                       index.max() >= self.num_observations):
      raise ValueError(f"observation index out of range [0, "
                       f"{self.num_observations})")
    factors = np.stack(np.unravel_index(index, self.factors_num_values),
                       axis=1) if index.size else np.zeros((0, 5), np.int64)
    return self.sample_observations_from_factors(factors)

  def sample_observations_from_factors(self, factors, random_state=None):
    """Renders the images of given factor indices (deterministic).

    Args:
      factors: int np.ndarray [num, 5].
      random_state: unused (rendering is deterministic); kept for the
        interface.

    Returns:
      float32 np.ndarray [num, 64, 64, 1] in {0, 1}.

    Raises:
      ValueError: if factors has the wrong shape or an index is out of range.
    """
    del random_state
    factors = check_factors(factors).astype(np.int32)
    images = np.empty((len(factors),) + self.observation_shape, np.float32)
    for start in range(0, len(factors), self._render_batch_size):
      stop = start + self._render_batch_size
      images[start:stop] = self._render(tf.constant(factors[start:stop]))
    return images


def training_dataset(batch_size, seed, start_batch=0, worker_index=0,
                     nuisance=None):
  """Endless seeded stream of simulator images for training.

  Batch ``i`` is a pure function of ``(seed, worker_index, i)``, so a run that
  resumes at step ``s`` passes ``start_batch=s`` and sees exactly the batches
  it would have seen without the interruption, and workers see different
  batches.

  Args:
    batch_size: int, images per batch.
    seed: int, the run's seed.
    start_batch: int, index of the first batch (the resumed step count).
    worker_index: int, distinct per input pipeline (data-parallel worker).
    nuisance: None, or a callable ``(sprites, nuisance_seed) -> images``
      applied to every rendered batch (the dSprites variants of
      tf_betavae.data.dsprites_variants): sprites float32
      [batch_size, 64, 64, 1] in {0, 1}, nuisance_seed an int tensor [2]
      for stateless random ops, derived from the batch's own seed, so the
      batch stays a pure function of ``(seed, worker_index, i)``.

  Returns:
    tf.data.Dataset of float32 [batch_size, 64, 64, 1] in {0, 1}, or of
    what ``nuisance`` returns.
  """
  render = renderer().render

  def make_batch(index):
    batch_seed = tf.stack([
        tf.cast(seed, tf.int64) * 1000003 + worker_index,
        tf.cast(index, tf.int64)
    ])
    sprites = render(sample_factor_indices(batch_size, batch_seed))
    if nuisance is None:
      return sprites
    # The factors use batch_seed itself; the nuisance gets a seed of its
    # own so that the two draws are independent.
    return nuisance(sprites,
                    tf.random.experimental.stateless_fold_in(batch_seed, 1))

  dataset = tf.data.Dataset.range(start_batch, np.iinfo(np.int64).max)
  dataset = dataset.map(make_batch, num_parallel_calls=tf.data.AUTOTUNE,
                        deterministic=True)
  return dataset.prefetch(tf.data.AUTOTUNE)
