"""CelebA (aligned faces) through tensorflow-datasets.

Reads the prepared tfds ``celeb_a`` (aligned and cropped faces, 218 x 178
x 3 JPEGs; train split 162,770 images) and preprocesses as the β-VAE /
CelebA literature does: a centre crop of 148 x 148 pixels, resized to
64 x 64 (bilinear, antialiased), RGB floats in [0, 1].  The JPEG is decoded
only inside the crop window (``decode_and_crop_jpeg``), in parallel.

The paper's CelebA model (β = 250, 32 latents, Gaussian likelihood) is
``--preset=celeb_a``; ``--dataset=celeb_a`` alone also defaults to the
Gaussian likelihood and 32 latents (tf_betavae.training.presets.DATASET_DEFAULTS).
"""

import functools

from tf_betavae.data import pipeline
from tf_betavae.data import tfds_source

NAME = "celeb_a"
IMAGE_SIZE = 64
CROP = 148  # centre crop of the aligned 178 x 218 face, pixels
OBSERVATION_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 3)

HOW_TO_PREPARE = (
    "tf_betavae downloads nothing: to prepare it, place the files tfds asks "
    "for (img_align_celeba.zip, list_eval_partition.txt, "
    "list_attr_celeba.txt, list_landmarks_align_celeba.txt, "
    "identity_CelebA.txt) in {root}/downloads/manual and run `tfds build "
    "celeb_a --data_dir={root}`, or train on the extracted images with "
    "--dataset=folder:PATH/img_align_celeba")


def preprocess(contents, crop=CROP, image_size=IMAGE_SIZE):
  """Encoded aligned-CelebA JPEG -> uint8 [image_size, image_size, 3].

  Args:
    contents: scalar string tensor, the JPEG bytes (218 x 178 x 3).
    crop: centre crop side in pixels (148), or None for the central square.
    image_size: output side in pixels.
  """
  return pipeline.decode_crop_resize(contents, crop=crop,
                                     image_size=image_size, channels=3)


def training_dataset(batch_size, seed, start_batch=0, worker_index=0,
                     data_dir=None, split="train", crop=CROP,
                     image_size=IMAGE_SIZE, cache_limit_bytes=None,
                     shuffle_buffer=pipeline.DEFAULT_SHUFFLE_BUFFER):
  """Endless seeded stream of preprocessed CelebA batches.

  Streamed from the tfds records (seeded shuffle buffer of encoded JPEGs per
  epoch, parallel crop-decode), or, when the preprocessed uint8 images fit
  in ``cache_limit_bytes`` (pipeline.DEFAULT_CACHE_LIMIT_BYTES when None;
  the full train split, 2.0 GB, does not), decoded once into memory and
  gathered with a permutation per epoch.  Resuming is exact either way
  (see tf_betavae.data.pipeline).

  Args:
    batch_size: int, images per batch.
    seed: int.
    start_batch: int, index of the first batch (a resumed run's step).
    worker_index: int, distinct per input pipeline.
    data_dir: tfds data_dir, None for tfds' default.
    split: tfds split.
    crop: centre crop side in pixels.
    image_size: output side in pixels.
    cache_limit_bytes: int or None.
    shuffle_buffer: encoded records in the shuffle buffer when streaming.

  Returns:
    tf.data.Dataset of float32 [batch_size, image_size, image_size, 3] in
    [0, 1].

  Raises:
    DatasetUnavailableError: celeb_a is not prepared in data_dir.
  """
  records, num_examples = tfds_source.load_split(
      NAME, data_dir, split, how_to_prepare=HOW_TO_PREPARE)
  images = records.map(lambda example: example["image"])
  prep = functools.partial(preprocess, crop=crop, image_size=image_size)
  shape = (image_size, image_size, 3)
  return pipeline.image_batches(
      images, num_examples, prep, shape, batch_size, seed, start_batch,
      worker_index, cache_limit_bytes=cache_limit_bytes,
      shuffle_buffer=shuffle_buffer)
