"""Training batches of observation pairs from a ground truth (weak supervision).

The weakly-supervised methods (Locatello et al. 2020; tf_betavae.models.
weak_vae) train on pairs of observations that share all factors but a few.
Every ground-truth dataset makes them through one method of its contract,
``GroundTruthData.sample_pairs`` (disentanglement_lib's ``simple_dynamics``
semantics: the second vector redraws 1 or k factors), so the stream below
serves the simulator, its variants and the stored datasets alike.

Batch ``i`` is drawn from a ``np.random.RandomState`` seeded by
``(seed, worker_index, i)`` alone, so the stream is a pure function of the
run's seed and a run resumed at step ``s`` (``start_batch=s``) sees exactly
the batches it would have seen, as the single-image streams do.
disentanglement_lib instead draws every pair from one generator in sequence
(and the new factor values from numpy's global one), which cannot resume.
"""

import numpy as np
import tensorflow as tf

from tf_betavae.data import ground_truth_data

# The label of a pair whose changed factor is not known (frames: pairs).
UNKNOWN_LABEL = -1


def batch_random_state(seed, worker_index, index):
  """The np.random.RandomState of one batch of one input pipeline.

  Args:
    seed: int, the run's seed (any sign).
    worker_index: int >= 0.
    index: int >= 0, the batch's position in the stream.

  Returns:
    np.random.RandomState, distinct for each (seed, worker_index, index).
  """
  # SeedSequence takes non-negative entropy words of any size; the sign
  # of the seed gets a word of its own so that -1 and 1 differ.
  words = [abs(int(seed)), int(seed < 0), int(worker_index), int(index)]
  return np.random.RandomState(
      np.random.MT19937(np.random.SeedSequence(words)))


def pair_arrays(ground_truth, batch_size, k, random_state):
  """One batch of pairs as the training step consumes it.

  Args:
    ground_truth: a GroundTruthData.
    batch_size: int, pairs.
    k: int in [1, num_factors] or ground_truth_data.K_RANDOM.
    random_state: np.random.RandomState.

  Returns:
    (float32 [batch_size, 2, H, W, C] in [0, 1]: the first and the second
    observation of each pair; int32 [batch_size]: the pair's label, the last
    factor the second observation redrew).
  """
  pairs, first, second = ground_truth.sample_pairs(batch_size, k,
                                                   random_state)
  images = np.stack([first, second], axis=1).astype(np.float32)
  return images, pairs.label.astype(np.int32)


def pair_batches(ground_truth, batch_size, seed, k, start_batch=0,
                 worker_index=0):
  """Endless seeded stream of pair batches from a ground truth.

  Args:
    ground_truth: a GroundTruthData (its sampling must be safe to call from
      tf.data's threads: every registered one is).
    batch_size: int, pairs per batch (2 * batch_size images).
    seed: int, the run's seed.
    k: int, see ``pair_arrays``; checked here.
    start_batch: int, index of the first batch (the resumed step count).
    worker_index: int, distinct per data-parallel input pipeline.

  Returns:
    tf.data.Dataset of (float32 [batch_size, 2, H, W, C] in [0, 1], int32
    [batch_size]).

  Raises:
    ValueError: k out of range for the ground truth.
  """
  ground_truth_data.check_k(k, ground_truth.num_factors)
  shape = (batch_size, 2) + tuple(ground_truth.observation_shape)

  def make(index):
    random_state = batch_random_state(seed, worker_index, int(index))
    return pair_arrays(ground_truth, batch_size, k, random_state)

  def make_batch(index):
    # py_function, not numpy_function: the simulator renders with
    # TensorFlow ops, which need the eager context py_function gives.
    images, labels = tf.py_function(
        lambda i: make(i.numpy()), [index], [tf.float32, tf.int32])
    images.set_shape(shape)
    labels.set_shape([batch_size])
    return images, labels

  dataset = tf.data.Dataset.range(start_batch, np.iinfo(np.int64).max)
  dataset = dataset.map(make_batch, num_parallel_calls=tf.data.AUTOTUNE,
                        deterministic=True)
  return dataset.prefetch(tf.data.AUTOTUNE)


def with_unknown_labels(dataset):
  """(pairs, UNKNOWN_LABEL per pair) of a dataset of pair batches
  float32 [B, 2, H, W, C], so every pair stream has one element type."""
  def label(images):
    return images, tf.fill(tf.shape(images)[:1], tf.constant(UNKNOWN_LABEL,
                                                              tf.int32))
  return dataset.map(label, num_parallel_calls=tf.data.AUTOTUNE,
                     deterministic=True)
