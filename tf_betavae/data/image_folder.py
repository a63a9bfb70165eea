"""``folder:PATH``: every JPEG/PNG under PATH, recursively.

How users train on 3D chairs, the 3D faces data, the extracted CelebA
images or any image collection.  Each image is centre-cropped (by default
the central square of side min(height, width); or a fixed crop, e.g. 148 as
for CelebA), resized to 64 x 64 (bilinear, antialiased) and returned as RGB
floats in [0, 1]; sizes may differ between files.

Files are listed once (sorted, so the order and the seeded stream do not
depend on the file system); folder symlinks are followed, each real folder
once (a link to an ancestor is skipped with a warning).  Files without a .jpg/.jpeg/.png extension,
and files whose first bytes are not a JPEG or PNG signature, are skipped and
counted in one warning.  A file that passes that check but fails to decode
is dropped from the stream by tf.data with a warning naming it (when the
folder is cached in memory the failures are counted in one warning).
"""

import os

from absl import logging
import tensorflow as tf

from tf_betavae.data import pipeline
from tf_betavae.data.errors import DatasetUnavailableError

PREFIX = "folder:"
IMAGE_SIZE = 64
OBSERVATION_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 3)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
_MAX_NAMED = 5


def path_of(name):
  """The PATH of a 'folder:PATH' dataset name (user ~ expanded)."""
  return os.path.expanduser(name[len(PREFIX):])


def _has_image_signature(path):
  try:
    with open(path, "rb") as f:
      head = f.read(8)
  except OSError:
    return False
  return any(head.startswith(s) for s in _SIGNATURES)


def _warn_skipped(root, skipped, reason):
  if skipped:
    named = ", ".join(os.path.relpath(p, root) for p in skipped[:_MAX_NAMED])
    more = f" and {len(skipped) - _MAX_NAMED} more" if len(
        skipped) > _MAX_NAMED else ""
    logging.warning("folder %s: skipped %d %s: %s%s", root, len(skipped),
                    reason, named, more)


def list_images(root):
  """Image files under root, recursively, sorted; skipped files warned.

  Returns:
    (list of str image paths, dict with counts 'images', 'not_images' and
    'bad_signature').

  Raises:
    DatasetUnavailableError: root is not a directory or holds no image.
  """
  if not os.path.isdir(root):
    raise DatasetUnavailableError(
        f"--dataset=folder:{root}: no such directory")
  images, not_images, corrupt, repeated = [], [], [], []
  # Directory symlinks are followed (collections often link folders in),
  # but each real directory is read once: a link to an ancestor (a loop)
  # or two links to one folder would otherwise list its files many times.
  visited = {os.path.realpath(root)}
  for directory, subdirs, files in os.walk(root, followlinks=True):
    subdirs.sort()
    for name in list(subdirs):
      real = os.path.realpath(os.path.join(directory, name))
      if real in visited:
        subdirs.remove(name)
        repeated.append(os.path.join(directory, name))
      else:
        visited.add(real)
    for name in sorted(files):
      path = os.path.join(directory, name)
      if name.startswith("."):
        continue
      if not name.lower().endswith(IMAGE_EXTENSIONS):
        not_images.append(path)
      elif not _has_image_signature(path):
        corrupt.append(path)
      else:
        images.append(path)
  _warn_skipped(root, not_images, "non-image file(s) (not .jpg/.jpeg/.png)")
  _warn_skipped(root, corrupt,
                "corrupt image file(s) (not a JPEG or PNG signature)")
  _warn_skipped(root, repeated,
                "linked folder(s) already listed (a symlink loop or a "
                "second link)")
  if not images:
    raise DatasetUnavailableError(
        f"--dataset=folder:{root}: no JPEG or PNG image under it "
        f"({len(not_images)} other and {len(corrupt)} corrupt files)")
  return images, {"images": len(images), "not_images": len(not_images),
                  "bad_signature": len(corrupt)}


def preprocess(path, crop=None, image_size=IMAGE_SIZE):
  """Image file path -> uint8 [image_size, image_size, 3]."""
  return pipeline.decode_crop_resize(tf.io.read_file(path), crop=crop,
                                     image_size=image_size, channels=3)


def check_available(root):
  """Raises DatasetUnavailableError unless root holds an image."""
  list_images(root)


def training_dataset(root, batch_size, seed, start_batch=0, worker_index=0,
                     crop=None, image_size=IMAGE_SIZE, cache_limit_bytes=None):
  """Endless seeded stream of the folder's images.

  When the preprocessed uint8 images fit in ``cache_limit_bytes`` they are
  decoded once, in parallel, into memory (decode failures counted in one
  warning) and gathered with a permutation per epoch; otherwise the file
  paths are shuffled per epoch (a full permutation) and decoded in
  parallel.  Resuming is exact either way (tf_betavae.data.pipeline).

  Args:
    root: str, the folder.
    batch_size, seed, start_batch, worker_index: as every training_dataset.
    crop: None (central square), int or (height, width) centre crop, pixels.
    image_size: output side in pixels.
    cache_limit_bytes: int or None (pipeline.DEFAULT_CACHE_LIMIT_BYTES).

  Returns:
    tf.data.Dataset of float32 [batch_size, image_size, image_size, 3] in
    [0, 1].

  Raises:
    DatasetUnavailableError: root holds no readable image.
  """
  paths, _ = list_images(root)
  records = tf.data.Dataset.from_tensor_slices(tf.constant(paths, tf.string))
  shape = (image_size, image_size, 3)

  def prep(path):
    return preprocess(path, crop=crop, image_size=image_size)

  if pipeline.fits_in_cache(len(paths), shape, cache_limit_bytes):
    array, kept = pipeline.materialize(records, prep, len(paths), shape,
                                       skip_errors=True)
    failed = sorted(set(range(len(paths))) - set(kept.tolist()))
    _warn_skipped(root, [paths[i] for i in failed],
                  "image file(s) that failed to decode")
    if not len(array):
      raise DatasetUnavailableError(
          f"--dataset=folder:{root}: none of its {len(paths)} images decode")
    logging.info("folder %s: %d images cached in memory (%.1f MB)", root,
                 len(array), array.nbytes / 1e6)
    return pipeline.array_batches(array, batch_size, seed, start_batch,
                                  worker_index)
  logging.info("folder %s: streaming %d images", root, len(paths))
  return pipeline.record_batches(records, len(paths), prep, batch_size, seed,
                                 start_batch, worker_index,
                                 shuffle_buffer=len(paths), skip_errors=True)
