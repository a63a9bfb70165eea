"""tf.data building blocks shared by the finite (real) datasets.

Every real dataset is an endless stream of batches built from a finite set
of N examples, visited epoch by epoch:

* Epoch ``e`` visits the N examples in an order fixed by
  ``(seed, worker_index, e)`` (a stateless permutation for in-memory arrays,
  a seeded shuffle buffer for record streams), so the stream is a pure
  function of the seed.
* Batch ``i`` holds the examples ``i*B .. (i+1)*B - 1`` of that stream
  (batches run across epoch boundaries).  A run resumed at step ``s``
  passes ``start_batch=s``: whole epochs are skipped arithmetically, and
  only the ``(s*B) mod N`` examples already seen in the current epoch are
  skipped, before any decoding (indices or encoded records, so cheaply).
  The resumed run sees exactly the batches it would have seen.

Decoding and preprocessing run in ``map(..., num_parallel_calls=AUTOTUNE)``
with deterministic order; nothing runs Python per image.  Datasets whose
preprocessed uint8 images fit in ``cache_limit_bytes`` are decoded once
(in parallel) into an in-memory array, and batches are then gathered from
it (see ``materialize`` and ``array_batches``).
"""

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE
# Preprocessed images up to this many bytes (uint8) are kept in memory.
DEFAULT_CACHE_LIMIT_BYTES = 1 << 30
# Encoded records held by the shuffle buffer of a streamed dataset.
DEFAULT_SHUFFLE_BUFFER = 20000
_INT64_MAX = np.iinfo(np.int64).max
_GRAPH_SEED = 20170301


def epoch_seed(seed, worker_index, epoch):
  """Stateless seed [2] (int64 tensor) of one epoch of one input pipeline."""
  return tf.stack([
      tf.cast(seed, tf.int64) * 1000003 + tf.cast(worker_index, tf.int64),
      tf.cast(epoch, tf.int64)
  ])


def _scalar_seed(seed, worker_index, epoch):
  """A scalar int64 seed for Dataset.shuffle, distinct per epoch/worker."""
  s = epoch_seed(seed, worker_index, epoch)
  return (s[0] * 7919 + s[1] * 104729) % (2**62)


def _start(num_examples, batch_size, start_batch):
  """(first epoch, examples to skip in it) of batch ``start_batch``."""
  if num_examples <= 0:
    raise ValueError("the dataset holds no examples")
  return divmod(int(start_batch) * int(batch_size), int(num_examples))


def index_stream(num_examples, batch_size, seed, start_batch=0,
                 worker_index=0):
  """Endless batches of example indices, one permutation per epoch.

  Args:
    num_examples: int N.
    batch_size: int B.
    seed, worker_index: ints; see the module docstring.
    start_batch: int, index of the first batch.

  Returns:
    tf.data.Dataset of int64 [B] indices in [0, N).
  """
  first_epoch, skip = _start(num_examples, batch_size, start_batch)

  def epoch(e):
    order = tf.random.experimental.stateless_shuffle(
        tf.range(num_examples, dtype=tf.int64),
        seed=epoch_seed(seed, worker_index, e))
    return tf.data.Dataset.from_tensor_slices(order)

  dataset = tf.data.Dataset.range(first_epoch, _INT64_MAX).flat_map(epoch)
  return dataset.skip(skip).batch(batch_size, drop_remainder=True)


def array_batches(images, batch_size, seed, start_batch=0, worker_index=0,
                  decode_batch=None):
  """Endless shuffled batches gathered from an in-memory array.

  Args:
    images: np.ndarray or tensor [N, ...] (uint8 images, or a packed form
      that ``decode_batch`` expands).
    batch_size, seed, start_batch, worker_index: see ``index_stream``.
    decode_batch: callable gathered [B, ...] -> float32 [B, H, W, C] in
      [0, 1]; default: uint8 / 255.

  Returns:
    tf.data.Dataset of float32 [B, H, W, C] in [0, 1].
  """
  table = tf.constant(images)
  decode_batch = decode_batch or uint8_to_float
  dataset = index_stream(len(images), batch_size, seed, start_batch,
                         worker_index)
  dataset = dataset.map(lambda idx: decode_batch(tf.gather(table, idx)),
                        num_parallel_calls=AUTOTUNE, deterministic=True)
  return dataset.prefetch(AUTOTUNE)


def image_batches(images, num_examples, preprocess, image_shape, batch_size,
                  seed, start_batch=0, worker_index=0, cache_limit_bytes=None,
                  shuffle_buffer=DEFAULT_SHUFFLE_BUFFER):
  """Endless shuffled batches of a finite image dataset: decoded once into
  memory when it fits (``fits_in_cache``: ``array_batches``), else streamed
  (``record_batches``).

  Args:
    images: tf.data.Dataset of N encoded images, in a fixed order.
    num_examples: int N.
    preprocess: encoded image -> uint8 ``image_shape``.
    image_shape: (H, W, C) after preprocessing.
    batch_size, seed, start_batch, worker_index: see ``index_stream``.
    cache_limit_bytes: see ``fits_in_cache``.
    shuffle_buffer: see ``record_batches`` (streamed data only).

  Returns:
    tf.data.Dataset of float32 [B, H, W, C] in [0, 1].
  """
  if fits_in_cache(num_examples, image_shape, cache_limit_bytes):
    array, _ = materialize(images, preprocess, num_examples, image_shape)
    return array_batches(array, batch_size, seed, start_batch, worker_index)
  return record_batches(images, num_examples, preprocess, batch_size, seed,
                        start_batch, worker_index,
                        shuffle_buffer=shuffle_buffer)


def record_batches(records, num_examples, preprocess, batch_size, seed,
                   start_batch=0, worker_index=0,
                   shuffle_buffer=DEFAULT_SHUFFLE_BUFFER, skip_errors=False):
  """Endless shuffled batches from a finite stream of encoded records.

  Args:
    records: tf.data.Dataset of N encoded records (e.g. JPEG bytes, file
      paths, tfds examples with undecoded images), in a fixed order.
    num_examples: int N.
    preprocess: record -> uint8 [H, W, C] image, traced into
      ``map(num_parallel_calls=AUTOTUNE)``.
    batch_size, seed, start_batch, worker_index: see ``index_stream``.
    shuffle_buffer: int, records in the shuffle buffer (a buffer >= N is a
      full permutation per epoch).
    skip_errors: drop records whose preprocessing fails (logged by tf.data
      one warning per record) instead of failing the stream.

  Returns:
    tf.data.Dataset of float32 [B, H, W, C] in [0, 1].
  """
  first_epoch, skip = _start(num_examples, batch_size, start_batch)
  buffer = max(1, min(int(shuffle_buffer), int(num_examples)))

  def epoch(e):
    # This runs while tf.data traces the function, so set_seed sets the
    # seed of that function graph only: the shuffle order then depends on
    # (seed, worker_index, e) alone, not on the process-wide seed (and a
    # process-wide seed of 0 cannot meet the tensor op seed in TF's
    # `seeds == (0, 0)` check).
    tf.random.set_seed(_GRAPH_SEED)
    return records.shuffle(buffer, seed=_scalar_seed(seed, worker_index, e),
                           reshuffle_each_iteration=False)

  dataset = tf.data.Dataset.range(first_epoch, _INT64_MAX).flat_map(epoch)
  dataset = dataset.skip(skip)
  dataset = dataset.map(preprocess, num_parallel_calls=AUTOTUNE,
                        deterministic=True)
  if skip_errors:
    dataset = dataset.ignore_errors(log_warning=True)
  dataset = dataset.batch(batch_size, drop_remainder=True)
  dataset = dataset.map(uint8_to_float, num_parallel_calls=AUTOTUNE,
                        deterministic=True)
  return dataset.prefetch(AUTOTUNE)


def materialize(records, preprocess, num_examples, image_shape,
                skip_errors=False, batch_size=256):
  """Decodes every record once, in parallel, into one uint8 array.

  Args:
    records: tf.data.Dataset of N records.
    preprocess: record -> uint8 [H, W, C].
    num_examples: int N (for preallocation).
    image_shape: (H, W, C).
    skip_errors: drop records whose preprocessing fails.
    batch_size: records per decoded batch.

  Returns:
    (uint8 np.ndarray [M, H, W, C], int64 np.ndarray [M] of the kept
    record positions); M < N only where records failed.
  """
  positions = tf.data.Dataset.range(num_examples)
  dataset = tf.data.Dataset.zip((positions, records))
  dataset = dataset.map(lambda i, r: (i, preprocess(r)),
                        num_parallel_calls=AUTOTUNE, deterministic=True)
  if skip_errors:
    dataset = dataset.ignore_errors()
  dataset = dataset.batch(batch_size).prefetch(AUTOTUNE)
  images = np.empty((num_examples,) + tuple(image_shape), np.uint8)
  kept = np.empty((num_examples,), np.int64)
  count = 0
  for index, batch in dataset.as_numpy_iterator():
    images[count:count + len(batch)] = batch
    kept[count:count + len(batch)] = index
    count += len(batch)
  return images[:count], kept[:count]


def fits_in_cache(num_examples, image_shape, cache_limit_bytes):
  """Whether N uint8 images of image_shape fit the cache limit."""
  limit = (DEFAULT_CACHE_LIMIT_BYTES if cache_limit_bytes is None
           else cache_limit_bytes)
  return num_examples * int(np.prod(image_shape)) <= limit


def uint8_to_float(images):
  """uint8 [..., H, W, C] in 0..255 -> float32 in [0, 1]."""
  return tf.cast(images, tf.float32) / 255.0


def crop_window(height, width, crop):
  """Centre crop window of an image.

  Args:
    height, width: int32 scalar tensors, the image size in pixels.
    crop: None (the central square of side min(height, width)), an int
      (a central crop x crop square) or (crop_height, crop_width); a crop
      larger than the image is clipped to it.

  Returns:
    int32 tensor [4]: (offset_y, offset_x, crop_height, crop_width).
  """
  if crop is None:
    ch = cw = tf.minimum(height, width)
  else:
    crop_h, crop_w = (crop, crop) if isinstance(crop, int) else crop
    ch = tf.minimum(height, crop_h)
    cw = tf.minimum(width, crop_w)
  return tf.stack([(height - ch) // 2, (width - cw) // 2, ch, cw])


def resize_to_uint8(image, image_size):
  """Resizes [h, w, C] to [image_size, image_size, C] uint8 (area-aware).

  Bilinear with antialiasing (a box-like filter when shrinking), rounded to
  uint8.
  """
  image = tf.image.resize(image, [image_size, image_size],
                          method="bilinear", antialias=True)
  return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)


def decode_crop_resize(contents, crop=None, image_size=64, channels=3):
  """Encoded JPEG/PNG/GIF/BMP bytes -> centre-cropped, resized uint8 image.

  JPEGs are decoded with ``decode_and_crop_jpeg`` (only the crop window is
  decoded); other formats are decoded whole, then cropped.

  Args:
    contents: scalar string tensor, the encoded image.
    crop: see ``crop_window``.
    image_size: int, output side in pixels.
    channels: 1 or 3 (grey images are expanded to RGB and vice versa).

  Returns:
    uint8 tensor [image_size, image_size, channels].
  """
  def jpeg():
    shape = tf.io.extract_jpeg_shape(contents)
    window = crop_window(shape[0], shape[1], crop)
    return tf.io.decode_and_crop_jpeg(contents, window, channels=channels)

  def other():
    image = tf.io.decode_image(contents, channels=channels,
                               expand_animations=False)
    shape = tf.shape(image)
    w = crop_window(shape[0], shape[1], crop)
    return image[w[0]:w[0] + w[2], w[1]:w[1] + w[3]]

  image = tf.cond(tf.io.is_jpeg(contents), jpeg, other)
  image.set_shape([None, None, channels])
  return resize_to_uint8(tf.cast(image, tf.float32), image_size)
