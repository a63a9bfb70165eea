"""The official dSprites data (Matthey et al. 2017), when the user has it.

Sources, in the order ``find_source`` tries them:

1. ``dsprites_file``: the official ``dsprites_ndarray_co1sh3sc6or40x32y32_
   64x64.npz`` (keys ``imgs`` uint8 [N, 64, 64] in {0, 1},
   ``latents_classes`` int64 [N, 6], ``latents_values`` float64 [N, 6],
   ``metadata``) or the ``.hdf5`` release (datasets ``imgs``,
   ``latents/classes``, ``latents/values``);
2. ``data_dir`` itself naming such a file, or a directory holding one
   under its official name;
3. the prepared tfds ``dsprites`` in ``data_dir``.

The six latent columns are (color, shape, scale, orientation, pos_x,
pos_y); color has one value and is dropped, so the factors are those of the
simulator (tf_betavae.data.dsprites_simulator): shape 3, scale 6,
orientation 40, pos_x 32, pos_y 32.  The full file has 737,280 rows in
row-major factor order, indexed through the grid strides; a subset file is
indexed through a factor -> row table (tf_betavae.data.indexed).

Images are kept bit-packed in memory (64 x 8 bytes each: 377 MB for the full
data instead of 3 GB); the npz is decompressed in chunks, so loading never
holds the unpacked array.  Observations are float32 [n, 64, 64, 1] in
{0, 1}.
"""

import os
import zipfile

from absl import logging
import numpy as np
import tensorflow as tf

from tf_betavae.data import dsprites_simulator
from tf_betavae.data import indexed
from tf_betavae.data import pipeline
from tf_betavae.data import tfds_source
from tf_betavae.data.errors import DatasetUnavailableError

NAME = "dsprites_official"
FILE_STEM = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64"
FILE_NAMES = (FILE_STEM + ".npz", FILE_STEM + ".hdf5")
FACTOR_NAMES = dsprites_simulator.FACTOR_NAMES
FACTORS_NUM_VALUES = dsprites_simulator.FACTORS_NUM_VALUES
OBSERVATION_SHAPE = (64, 64, 1)
_CHUNK_ROWS = 16384
_FILE_SUFFIXES = (".npz", ".hdf5", ".h5")

HOW_TO_GET = (
    "give the official file with --dsprites_file=PATH/" + FILE_NAMES[0] +
    " (or the .hdf5), put it in --data_dir, or place " + FILE_NAMES[1] +
    " in {root}/downloads/manual and run `tfds build dsprites "
    "--data_dir={root}`; --dataset=dsprites is the built-in simulator of the "
    "same factor grid")


def unpack(packed):
  """Bit-packed images uint8 [n, 64, 8] -> float32 [n, 64, 64, 1] (numpy)."""
  bits = np.unpackbits(np.asarray(packed), axis=-1)
  return bits.astype(np.float32)[..., None]


def unpack_tf(packed):
  """Bit-packed images uint8 [n, 64, 8] -> float32 [n, 64, 64, 1] (TF)."""
  shifts = tf.constant([7, 6, 5, 4, 3, 2, 1, 0], tf.uint8)
  bits = tf.bitwise.bitwise_and(
      tf.bitwise.right_shift(packed[..., None], shifts), 1)
  n = tf.shape(packed)[0]
  return tf.cast(tf.reshape(bits, [n, 64, 64, 1]), tf.float32)


def _pack(images):
  """uint8 [n, 64, 64] (nonzero = sprite) -> packed uint8 [n, 64, 8]."""
  return np.packbits(np.asarray(images) > 0, axis=-1)


def _read_npz(path):
  """(packed images [N, 64, 8], latent classes [N, 6]) of an official npz."""
  with zipfile.ZipFile(path) as archive:
    names = set(archive.namelist())
    for key in ("imgs.npy", "latents_classes.npy"):
      if key not in names:
        raise DatasetUnavailableError(
            f"{path} is not the official dSprites npz: it has no "
            f"{key[:-4]!r} array (found {sorted(n[:-4] for n in names)})")
    with archive.open("latents_classes.npy") as f:
      classes = np.lib.format.read_array(f)
    with archive.open("imgs.npy") as f:
      version = np.lib.format.read_magic(f)
      read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                     else np.lib.format.read_array_header_2_0)
      shape, fortran_order, dtype = read_header(f)
      if fortran_order or len(shape) != 3 or shape[1:] != (64, 64):
        raise DatasetUnavailableError(
            f"{path}: imgs must be a C-ordered [N, 64, 64] array, got "
            f"shape {shape}")
      row_bytes = 64 * 64 * dtype.itemsize
      packed = np.empty((shape[0], 64, 8), np.uint8)
      for start in range(0, shape[0], _CHUNK_ROWS):
        rows = min(_CHUNK_ROWS, shape[0] - start)
        chunk = np.frombuffer(f.read(rows * row_bytes), dtype,
                              count=rows * 64 * 64)
        packed[start:start + rows] = _pack(chunk.reshape(rows, 64, 64))
  return packed, classes


def _read_hdf5(path):
  """(packed images, latent classes) of the official hdf5 release."""
  import h5py  # pylint: disable=g-import-not-at-top
  with h5py.File(path, "r") as f:
    imgs = f["imgs"]
    classes = np.asarray(f["latents"]["classes"])
    packed = np.empty((imgs.shape[0], 64, 8), np.uint8)
    for start in range(0, imgs.shape[0], _CHUNK_ROWS):
      packed[start:start + _CHUNK_ROWS] = _pack(imgs[start:start + _CHUNK_ROWS])
  return packed, classes


def _read_tfds(data_dir):
  """(packed images, classes [N, 5]) of the prepared tfds 'dsprites'."""
  records, num_examples = tfds_source.load_split(
      "dsprites", data_dir, "train", decode_image=True,
      how_to_prepare=HOW_TO_GET)
  keys = ("label_shape", "label_scale", "label_orientation",
          "label_x_position", "label_y_position")
  batches = records.map(
      lambda ex: (tf.stack([ex[k] for k in keys]), ex["image"][..., 0]),
      num_parallel_calls=tf.data.AUTOTUNE).batch(_CHUNK_ROWS)
  packed = np.empty((num_examples, 64, 8), np.uint8)
  classes = np.empty((num_examples, 5), np.int64)
  count = 0
  for labels, images in batches.as_numpy_iterator():
    packed[count:count + len(images)] = _pack(images)
    classes[count:count + len(images)] = labels
    count += len(images)
  return packed[:count], classes[:count]


def find_source(data_dir=None, dsprites_file=None):
  """Where the official data is: ("file", path) or ("tfds", data_dir).

  Raises:
    DatasetUnavailableError: dsprites_file is given but missing.
  """
  if dsprites_file:
    if not os.path.isfile(dsprites_file):
      raise DatasetUnavailableError(
          f"--dsprites_file {dsprites_file}: no such file; "
          + HOW_TO_GET.format(root="DATA_DIR"))
    return "file", dsprites_file
  if data_dir and os.path.isfile(data_dir):
    return "file", data_dir
  if data_dir and data_dir.lower().endswith(_FILE_SUFFIXES):
    raise DatasetUnavailableError(
        f"dSprites file {data_dir}: no such file; "
        + HOW_TO_GET.format(root="DATA_DIR"))
  if data_dir:
    for name in FILE_NAMES:
      if os.path.isfile(os.path.join(data_dir, name)):
        return "file", os.path.join(data_dir, name)
  return "tfds", data_dir


def check_available(data_dir=None, dsprites_file=None):
  """Raises DatasetUnavailableError unless the data can be read (cheaply)."""
  kind, where = find_source(data_dir, dsprites_file)
  if kind == "file":
    if not where.lower().endswith(_FILE_SUFFIXES):
      raise DatasetUnavailableError(
          f"{where}: the official dSprites file is a .npz or .hdf5")
    return
  tfds_source.load_split("dsprites", where, "train", decode_image=True,
                         how_to_prepare=HOW_TO_GET)


_LOADED = {}


def _load(data_dir, dsprites_file):
  kind, where = find_source(data_dir, dsprites_file)
  if kind == "file":
    stat = os.stat(where)
    key = (kind, os.path.abspath(where), stat.st_size, stat.st_mtime)
  else:
    key = (kind, where)
  if key in _LOADED:
    return _LOADED[key]
  if kind == "tfds":
    packed, classes = _read_tfds(where)
  else:
    logging.info("reading the official dSprites file %s", where)
    try:
      if where.lower().endswith(".npz"):
        packed, classes = _read_npz(where)
      elif where.lower().endswith((".hdf5", ".h5")):
        packed, classes = _read_hdf5(where)
      else:
        raise DatasetUnavailableError(
            f"{where}: the official dSprites file is a .npz or .hdf5")
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
      raise DatasetUnavailableError(
          f"cannot read the dSprites file {where}: {e}") from e
    classes = np.asarray(classes)
    if classes.ndim != 2 or classes.shape[1] != 6:
      raise DatasetUnavailableError(
          f"{where}: latents_classes must be [N, 6] (color, shape, scale, "
          f"orientation, pos_x, pos_y), got {classes.shape}")
    classes = classes[:, 1:]
  try:
    gt = indexed.IndexedGroundTruth(NAME, packed, classes, FACTOR_NAMES,
                                    FACTORS_NUM_VALUES, OBSERVATION_SHAPE,
                                    decode=unpack)
  except ValueError as e:
    # Wrong lengths, classes outside the grid or not integers.
    raise DatasetUnavailableError(
        f"the dSprites data in {where} is not usable: {e}") from e
  logging.info("dSprites: %d images (%s)", len(packed),
               "the full grid" if gt.complete else "a subset of the grid")
  _LOADED.clear()  # keep one copy at most
  _LOADED[key] = gt
  return gt


def ground_truth(data_dir=None, dsprites_file=None):
  """The official dSprites data behind the simulator's interface.

  Returns:
    tf_betavae.data.indexed.IndexedGroundTruth (factor_names and
    factors_num_values as the simulator's; observations float32
    [n, 64, 64, 1] in {0, 1}).

  Raises:
    DatasetUnavailableError: no readable official data.
  """
  return _load(data_dir, dsprites_file)


def training_dataset(batch_size, seed, start_batch=0, worker_index=0,
                     data_dir=None, dsprites_file=None):
  """Endless stream of official dSprites batches, float32 [B, 64, 64, 1].

  A permutation of all rows per epoch, gathered from the bit-packed images
  in memory and unpacked in the graph; resuming is exact
  (tf_betavae.data.pipeline).
  """
  gt = _load(data_dir, dsprites_file)
  return pipeline.array_batches(gt.images, batch_size, seed, start_batch,
                                worker_index, decode_batch=unpack_tf)
