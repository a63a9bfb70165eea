"""dSprites with a random nuisance: the shared part of three datasets.

color_dsprites, noisy_dsprites and scream_dsprites (Locatello et al. 2019,
as in disentanglement_lib) draw the simulator's binary sprite and then
change its colours at random: a random sprite colour, background noise, or
a patch of a picture.  The nuisance is drawn afresh for every image, so

* the ground truth keeps dSprites's five factors (shape, scale,
  orientation, pos_x, pos_y); the nuisance is not a factor;
* the observation of a factor vector is random: these ground truths are
  *not* ``FiniteGroundTruth`` (a code table cannot stand for them), and
  ``sample_observations_from_factors`` requires a random state.

A variant is one TF function, ``nuisance(sprites, seed) -> images``
(sprites float32 [B, 64, 64, 1] in {0, 1}, seed an int tensor [2] for
stateless random ops, images float32 [B, 64, 64, 3] in [0, 1]).  The
training stream applies it to the simulator's batches with a seed derived
from the batch's seed (a pure function of seed, worker and batch index);
the ground truth applies it with seeds drawn from the caller's random state.
"""

import numpy as np
import tensorflow as tf

from tf_betavae.data import dsprites_simulator
from tf_betavae.data import ground_truth_data

OBSERVATION_SHAPE = (dsprites_simulator.IMAGE_SIZE,
                     dsprites_simulator.IMAGE_SIZE, 3)
# Seeds drawn from a random state lie in [0, _SEED_BOUND).
_SEED_BOUND = 2**31 - 1


def sprite_mask(sprites):
  """Where the sprite is: bool tensor of the shape of ``sprites``.

  Args:
    sprites: float32 tensor [..., 1] in {0, 1} (the simulator's images).
  """
  return sprites > 0.5


class DSpritesVariant(ground_truth_data.GroundTruthData):
  """dSprites factors, observations with a random nuisance.

  Attributes:
    name: str, the dataset name.
    factor_names: dSprites's five factor names.
    factors_num_values: [3, 6, 40, 32, 32].
    num_factors: 5.
    observation_shape: (64, 64, 3).
  """

  factor_names = dsprites_simulator.FACTOR_NAMES
  factors_num_values = list(dsprites_simulator.FACTORS_NUM_VALUES)
  num_factors = len(dsprites_simulator.FACTOR_NAMES)
  observation_shape = OBSERVATION_SHAPE

  def __init__(self, name, nuisance, render_batch_size=1024):
    """Args:

      name: str.
      nuisance: callable (sprites float32 [B, 64, 64, 1] in {0, 1}, seed
        int tensor [2]) -> float32 [B, 64, 64, 3] in [0, 1], built from
        TF ops (it is traced once).
      render_batch_size: images rendered per call.
    """
    self.name = name
    self._render_batch_size = render_batch_size
    render = dsprites_simulator.renderer().render

    def render_with_nuisance(factors, seed):
      return nuisance(render(factors), seed)

    self._render = tf.function(
        render_with_nuisance,
        input_signature=[tf.TensorSpec([None, 5], tf.int32),
                         tf.TensorSpec([2], tf.int64)])

  def sample_factors(self, num, random_state):
    """Each factor uniformly and independently (as the simulator).

    Args:
      num: int.
      random_state: np.random.RandomState.

    Returns:
      int64 np.ndarray [num, 5].
    """
    return ground_truth_data.sample_uniform_factors(
        self.factors_num_values, num, random_state)

  def sample_observations_from_factors(self, factors, random_state=None):
    """Images of given factor indices, each with a fresh random nuisance.

    Args:
      factors: int np.ndarray [num, 5].
      random_state: np.random.RandomState, required: one stateless seed is
        drawn from it (``randint``, two values) per rendered batch of
        ``render_batch_size`` images, so the images are a function of the
        factors and the random state.

    Returns:
      float32 np.ndarray [num, 64, 64, 3] in [0, 1].

    Raises:
      ValueError: random_state is None, or factors has the wrong shape or
        an index out of range.
    """
    if random_state is None:
      raise ValueError(
          f"{self.name}: the observation of a factor vector is random (its "
          f"nuisance is drawn per image); pass a np.random.RandomState")
    factors = dsprites_simulator.check_factors(factors).astype(np.int32)
    images = np.empty((len(factors),) + self.observation_shape, np.float32)
    for start in range(0, len(factors), self._render_batch_size):
      stop = start + self._render_batch_size
      seed = random_state.randint(_SEED_BOUND, size=2).astype(np.int64)
      images[start:stop] = self._render(tf.constant(factors[start:stop]),
                                        tf.constant(seed))
    return images


def training_dataset(nuisance, batch_size, seed, start_batch=0,
                     worker_index=0):
  """Endless seeded stream of a variant's images for training.

  The simulator's stream (tf_betavae.data.dsprites_simulator) with the
  nuisance applied to every batch: batch ``i`` is a pure function of
  ``(seed, worker_index, i)``, so a resumed run sees the same batches.

  Args:
    nuisance: see ``DSpritesVariant``.
    batch_size, seed, start_batch, worker_index: see
      dsprites_simulator.training_dataset.

  Returns:
    tf.data.Dataset of float32 [batch_size, 64, 64, 3] in [0, 1].
  """
  return dsprites_simulator.training_dataset(
      batch_size, seed, start_batch=start_batch, worker_index=worker_index,
      nuisance=nuisance)
