"""Shapes3D (Burgess & Kim 2018) through tensorflow-datasets.

480,000 images of 64 x 64 x 3 (RGB, floats in [0, 1] here), one per
combination of six factors:

  ===========  ======
  factor       values
  ===========  ======
  floor_hue    10
  wall_hue     10
  object_hue   10
  scale        8
  shape        4
  orientation  15
  ===========  ======

``ground_truth`` loads the split into memory (uint8, 480,000 x 12,288
bytes for the full data, decoded once) and indexes it by
factors (tf_betavae.data.indexed); training streams the records instead
unless the decoded images fit the cache limit.
"""

from absl import logging
import numpy as np
import tensorflow as tf

from tf_betavae.data import indexed
from tf_betavae.data import pipeline
from tf_betavae.data import tfds_source

NAME = "shapes3d"
FACTOR_NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape",
                "orientation")
FACTORS_NUM_VALUES = (10, 10, 10, 8, 4, 15)
OBSERVATION_SHAPE = (64, 64, 3)

HOW_TO_PREPARE = (
    "without internet, place 3dshapes.h5 (from "
    "https://storage.googleapis.com/3d-shapes/3dshapes.h5) in "
    "{root}/downloads/manual and run `tfds build shapes3d --data_dir={root}`")


def preprocess(contents):
  """Encoded 64 x 64 x 3 PNG -> uint8 [64, 64, 3]."""
  image = tf.io.decode_png(contents, channels=3)
  return tf.ensure_shape(image, OBSERVATION_SHAPE)


def _records(data_dir, split):
  return tfds_source.load_split(NAME, data_dir, split,
                                how_to_prepare=HOW_TO_PREPARE)


def training_dataset(batch_size, seed, start_batch=0, worker_index=0,
                     data_dir=None, split="train", cache_limit_bytes=None,
                     shuffle_buffer=pipeline.DEFAULT_SHUFFLE_BUFFER):
  """Endless seeded stream of Shapes3D batches, float32 [B, 64, 64, 3].

  Args: as tf_betavae.data.celeb_a.training_dataset (no crop or resize).

  Raises:
    DatasetUnavailableError: shapes3d is not prepared in data_dir.
  """
  records, num_examples = _records(data_dir, split)
  images = records.map(lambda example: example["image"])
  return pipeline.image_batches(
      images, num_examples, preprocess, OBSERVATION_SHAPE, batch_size, seed,
      start_batch, worker_index, cache_limit_bytes=cache_limit_bytes,
      shuffle_buffer=shuffle_buffer)


def ground_truth(data_dir=None, split="train"):
  """The Shapes3D ground-truth interface, images held in memory.

  Returns:
    tf_betavae.data.indexed.IndexedGroundTruth with factor_names
    FACTOR_NAMES, observations float32 [n, 64, 64, 3] in [0, 1].

  Raises:
    DatasetUnavailableError: shapes3d is not prepared in data_dir.
  """
  records, num_examples = _records(data_dir, split)
  labels = [f"label_{n}" for n in FACTOR_NAMES]
  pairs = records.map(
      lambda ex: (tf.stack([ex[k] for k in labels]), ex["image"]))
  logging.info("loading %d Shapes3D images into memory", num_examples)
  images, kept = pipeline.materialize(
      pairs.map(lambda _, image: image), preprocess, num_examples,
      OBSERVATION_SHAPE)
  classes = np.concatenate([
      c for c in pairs.map(lambda c, _: c).batch(65536).as_numpy_iterator()
  ])[kept]
  return indexed.IndexedGroundTruth(NAME, images, classes, FACTOR_NAMES,
                                    FACTORS_NUM_VALUES, OBSERVATION_SHAPE)
