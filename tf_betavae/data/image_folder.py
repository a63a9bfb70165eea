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


def warn_skipped(root, skipped, reason, kind="folder"):
  """One warning naming up to _MAX_NAMED skipped files (none: no warning)."""
  if skipped:
    named = ", ".join(os.path.relpath(p, root) for p in skipped[:_MAX_NAMED])
    more = f" and {len(skipped) - _MAX_NAMED} more" if len(
        skipped) > _MAX_NAMED else ""
    logging.warning("%s %s: skipped %d %s: %s%s", kind, root, len(skipped),
                    reason, named, more)


def scan(root, name_key=None):
  """The image files under root, recursively, by directory.

  Directory symlinks are followed (collections often link folders in), but
  each real directory is read once: a link to an ancestor (a loop) or two
  links to one folder would otherwise list its files many times.

  Args:
    root: str, an existing directory.
    name_key: sort key of file and directory names (default: the names).

  Returns:
    (dict {directory path relative to root: [image paths in name_key
    order]} in walk order (a directory's files before its sub-directories,
    those in name_key order), dict of skipped paths: 'not_images',
    'bad_signature' and 'repeated' (linked folders already read)).
  """
  by_directory = {}
  skipped = {"not_images": [], "bad_signature": [], "repeated": []}
  visited = {os.path.realpath(root)}
  for directory, subdirs, files in os.walk(root, followlinks=True):
    subdirs.sort(key=name_key)
    for name in list(subdirs):
      real = os.path.realpath(os.path.join(directory, name))
      if real in visited:
        subdirs.remove(name)
        skipped["repeated"].append(os.path.join(directory, name))
      else:
        visited.add(real)
    images = []
    for name in sorted(files, key=name_key):
      path = os.path.join(directory, name)
      if name.startswith("."):
        continue
      if not name.lower().endswith(IMAGE_EXTENSIONS):
        skipped["not_images"].append(path)
      elif not _has_image_signature(path):
        skipped["bad_signature"].append(path)
      else:
        images.append(path)
    if images:
      by_directory[os.path.relpath(directory, root)] = images
  return by_directory, skipped


def warn_scan(root, skipped, kind="folder", not_images_note=""):
  """The warnings of ``scan``'s skipped files, one per reason."""
  warn_skipped(root, skipped["not_images"],
               "non-image file(s) (not .jpg/.jpeg/.png)" + not_images_note,
               kind)
  warn_skipped(root, skipped["bad_signature"],
               "corrupt image file(s) (not a JPEG or PNG signature)", kind)
  warn_skipped(root, skipped["repeated"],
               "linked folder(s) already listed (a symlink loop or a "
               "second link)", kind)


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
  by_directory, skipped = scan(root)
  images = [path for paths in by_directory.values() for path in paths]
  warn_scan(root, skipped)
  not_images, corrupt = skipped["not_images"], skipped["bad_signature"]
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
  return path_batches(root, paths, batch_size, seed, start_batch,
                      worker_index, crop, image_size, cache_limit_bytes)


def decode_all(root, paths, crop=None, image_size=IMAGE_SIZE, kind="folder",
               what="image"):
  """Every image file decoded once, in parallel, into memory.

  Args:
    root: str, the folder (for messages).
    paths: list of N image file paths.
    crop, image_size: see ``preprocess``.
    kind, what: the dataset kind and what a file is, for messages.

  Returns:
    (uint8 np.ndarray [M, image_size, image_size, 3], int64 np.ndarray [M]
    of the kept positions in paths); files failing to decode are counted in
    one warning.

  Raises:
    DatasetUnavailableError: no file decodes.
  """
  records = tf.data.Dataset.from_tensor_slices(tf.constant(paths, tf.string))
  array, kept = pipeline.materialize(
      records, preprocess_fn(crop, image_size), len(paths),
      (image_size, image_size, 3), skip_errors=True)
  failed = sorted(set(range(len(paths))) - set(kept.tolist()))
  warn_skipped(root, [paths[i] for i in failed],
               f"{what} file(s) that failed to decode", kind)
  if not len(array):
    raise DatasetUnavailableError(
        f"--dataset={kind}:{root}: none of its {len(paths)} {what}s decode")
  logging.info("%s %s: %d %ss cached in memory (%.1f MB)", kind, root,
               len(array), what, array.nbytes / 1e6)
  return array, kept


def preprocess_fn(crop, image_size):
  """``preprocess`` with crop and size bound: path -> uint8 image."""
  def prep(path):
    return preprocess(path, crop=crop, image_size=image_size)
  return prep


def path_batches(root, paths, batch_size, seed, start_batch=0,
                 worker_index=0, crop=None, image_size=IMAGE_SIZE,
                 cache_limit_bytes=None, kind="folder", what="image"):
  """Endless seeded stream of the images at ``paths``: decoded once into
  memory when they fit (``decode_all``), else streamed from the paths (a
  full permutation per epoch, decoded in parallel; files failing to decode
  dropped with a warning each).

  Args:
    root: str, the folder (for messages).
    paths: list of image file paths.
    batch_size, seed, start_batch, worker_index: as every training_dataset.
    crop, image_size, cache_limit_bytes: see ``training_dataset``.
    kind, what: the dataset kind and what a file is, for messages.

  Returns:
    tf.data.Dataset of float32 [batch_size, image_size, image_size, 3] in
    [0, 1].
  """
  shape = (image_size, image_size, 3)
  if pipeline.fits_in_cache(len(paths), shape, cache_limit_bytes):
    array, _ = decode_all(root, paths, crop, image_size, kind, what)
    return pipeline.array_batches(array, batch_size, seed, start_batch,
                                  worker_index)
  logging.info("%s %s: streaming %d %ss", kind, root, len(paths), what)
  records = tf.data.Dataset.from_tensor_slices(tf.constant(paths, tf.string))
  return pipeline.record_batches(records, len(paths),
                                 preprocess_fn(crop, image_size), batch_size,
                                 seed, start_batch, worker_index,
                                 shuffle_buffer=len(paths), skip_errors=True)
