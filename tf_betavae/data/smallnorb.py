"""smallNORB (LeCun et al. 2004) through tensorflow-datasets.

Photographs of 50 toys (5 categories x 10 instances) under varied
elevation, azimuth and lighting; tfds ``smallnorb`` stores 24,300 stereo
pairs per split (train, test) as 96 x 96 grey PNGs.  As disentanglement_lib
uses it:

* the first camera's image (tfds feature ``image``) of both splits
  (48,600 images, split ``train+test``), resized to 64 x 64 with a
  Lanczos filter (disentanglement_lib's PIL ``ANTIALIAS``), grey floats in
  [0, 1];
* four factors; the object instance is *not* one:

  ===========  ======
  factor       values
  ===========  ======
  category     5
  elevation    9
  azimuth      18
  lighting     6
  ===========  ======

Every factor combination therefore has several images (one per instance,
10 in ``train+test``): the observation of a factor vector is one of them,
drawn with the caller's random state (tf_betavae.data.indexed.
MultiRowGroundTruth; not a ``FiniteGroundTruth``).  ``ground_truth`` holds
the resized uint8 images in memory (48,600 x 4,096 bytes); training keeps
them in memory too unless they exceed the cache limit.
"""

from absl import logging
import numpy as np
import tensorflow as tf

from tf_betavae.data import indexed
from tf_betavae.data import pipeline
from tf_betavae.data import tfds_source

NAME = "smallnorb"
FACTOR_NAMES = ("category", "elevation", "azimuth", "lighting")
FACTORS_NUM_VALUES = (5, 9, 18, 6)
# tfds feature of each factor, in FACTOR_NAMES order.
_LABELS = ("label_category", "label_elevation", "label_azimuth",
           "label_lighting")
IMAGE_SIZE = 64
OBSERVATION_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
SPLIT = "train+test"

HOW_TO_PREPARE = (
    "tf_betavae downloads nothing: build it with `tfds build smallnorb "
    "--data_dir={root}` on a machine that reaches "
    "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/, or copy the "
    "smallnorb folder such a build writes into {root}")


def preprocess(contents, image_size=IMAGE_SIZE):
  """Encoded 96 x 96 grey PNG -> uint8 [image_size, image_size, 1].

  Lanczos (3 lobes) with antialiasing, rounded to uint8, as PIL's
  ``resize(..., ANTIALIAS)`` that disentanglement_lib applies.
  """
  image = tf.io.decode_png(contents, channels=1)
  image = tf.image.resize(tf.cast(image, tf.float32),
                          [image_size, image_size], method="lanczos3",
                          antialias=True)
  image = tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)
  return tf.ensure_shape(image, (image_size, image_size, 1))


def _records(data_dir, split):
  return tfds_source.load_split(NAME, data_dir, split,
                                how_to_prepare=HOW_TO_PREPARE)


def check_available(data_dir=None, split=SPLIT):
  """Raises DatasetUnavailableError unless smallnorb is prepared."""
  _records(data_dir, split)


def training_dataset(batch_size, seed, start_batch=0, worker_index=0,
                     data_dir=None, split=SPLIT, cache_limit_bytes=None,
                     shuffle_buffer=pipeline.DEFAULT_SHUFFLE_BUFFER):
  """Endless seeded stream of smallNORB batches, float32 [B, 64, 64, 1].

  Args: as tf_betavae.data.celeb_a.training_dataset (no crop); split
    defaults to both tfds splits, as disentanglement_lib.

  Raises:
    DatasetUnavailableError: smallnorb is not prepared in data_dir.
  """
  records, num_examples = _records(data_dir, split)
  images = records.map(lambda example: example["image"])
  return pipeline.image_batches(
      images, num_examples, preprocess, OBSERVATION_SHAPE, batch_size, seed,
      start_batch, worker_index, cache_limit_bytes=cache_limit_bytes,
      shuffle_buffer=shuffle_buffer)


def ground_truth(data_dir=None, split=SPLIT):
  """The smallNORB ground-truth interface, images held in memory.

  Returns:
    tf_betavae.data.indexed.MultiRowGroundTruth with factor_names
    FACTOR_NAMES, observations float32 [n, 64, 64, 1] in [0, 1].

  Raises:
    DatasetUnavailableError: smallnorb is not prepared in data_dir.
  """
  records, num_examples = _records(data_dir, split)
  logging.info("loading %d smallNORB images into memory", num_examples)
  images, kept = pipeline.materialize(
      records.map(lambda example: example["image"]), preprocess,
      num_examples, OBSERVATION_SHAPE)
  labels = records.map(lambda ex: tf.stack([ex[k] for k in _LABELS]))
  classes = np.concatenate(list(labels.batch(65536).as_numpy_iterator()))
  return indexed.MultiRowGroundTruth(NAME, images, classes[kept],
                                     FACTOR_NAMES, FACTORS_NUM_VALUES,
                                     OBSERVATION_SHAPE)
