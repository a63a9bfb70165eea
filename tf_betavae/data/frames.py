"""``frames:PATH``: weak supervision from folders of video frames.

The real-data setting of Locatello et al. 2020, "Weakly-Supervised
Disentanglement Without Compromises": no factor labels, but pairs of
observations that differ in few factors.  Two frames of one video
``frame_gap`` apart (consecutive frames when ``frame_gap`` is 1) are such a
pair: little changes between them.

Layout: a **sequence** is every directory under PATH (PATH itself
included; walked recursively, folder symlinks followed, each real folder
once as in ``image_folder``) that directly holds image files.  Sequences are
ordered by their directory path relative to PATH; the frames of a sequence
are ordered by file name with runs of digits compared as numbers ("natural"
order: frame_2 < frame_10, and frame_9.png < frame_10.png without zero
padding).  Files are checked as by ``image_folder``: only .jpg/.jpeg/.png
files with a JPEG or PNG signature are frames; other files are skipped and
counted in one warning.  Video files (.mp4, .avi, ...) are not decoded (no
video decoder is a dependency): they are skipped like any non-image file and
the warning says to extract their frames first, e.g.
``ffmpeg -i v.mp4 dir/%06d.png``.

Each frame is preprocessed as a ``folder:`` image (``image_folder.preprocess``:
centre crop, resized to 64 x 64, RGB floats in [0, 1]).  A training pair is
never made of frames of two different sequences.
"""

import os
import re

from absl import logging
import numpy as np
import tensorflow as tf

from tf_betavae.data import image_folder
from tf_betavae.data import pipeline
from tf_betavae.data.errors import DatasetUnavailableError

PREFIX = "frames:"
IMAGE_SIZE = image_folder.IMAGE_SIZE
OBSERVATION_SHAPE = image_folder.OBSERVATION_SHAPE
# One training example: (earlier frame, later frame).
PAIR_SHAPE = (2,) + OBSERVATION_SHAPE
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg",
                    ".mpeg", ".wmv", ".flv", ".ogv", ".3gp")
_EXTRACT_HINT = ("videos are not decoded: extract their frames first, e.g. "
                 "ffmpeg -i v.mp4 dir/%06d.png")
_MAX_NAMED = 5
_DIGITS = re.compile(r"(\d+)")


def path_of(name):
  """The PATH of a 'frames:PATH' dataset name (user ~ expanded)."""
  return os.path.expanduser(name[len(PREFIX):])


def _natural_key(name):
  """Sort key comparing runs of digits as numbers (frame_2 < frame_10).

  re.split with a capturing group puts text at even and digit runs at odd
  positions, so two keys always compare str with str and int with int; the
  name itself breaks ties such as frame_01 / frame_1.
  """
  parts = _DIGITS.split(name)
  parts[1::2] = [int(p) for p in parts[1::2]]
  return tuple(parts), name


def _plural(count, noun):
  return f"{count} {noun}" + ("" if count == 1 else "s")


def list_sequences(root):
  """The frame sequences under root, each in natural file-name order.

  Args:
    root: str, the folder.

  Returns:
    list of sequences, each a non-empty list of str frame paths in natural
    order (digit runs compared as numbers); sequences sorted (naturally) by
    their directory path relative to root.

  Raises:
    DatasetUnavailableError: root is not a directory or holds no image.
  """
  if not os.path.isdir(root):
    raise DatasetUnavailableError(
        f"--dataset=frames:{root}: no such directory")
  # image_folder's walk: links followed, each real folder read once.
  sequences, skipped = image_folder.scan(root, name_key=_natural_key)
  videos = [p for p in skipped["not_images"]
            if p.lower().endswith(VIDEO_EXTENSIONS)]
  note = f", {len(videos)} of them video(s) ({_EXTRACT_HINT})" if videos else ""
  image_folder.warn_scan(root, skipped, kind="frames", not_images_note=note)
  if not sequences:
    hint = f"; {_EXTRACT_HINT}" if videos else ""
    raise DatasetUnavailableError(
        f"--dataset=frames:{root}: no JPEG or PNG image under it "
        f"({len(skipped['not_images'])} other and "
        f"{len(skipped['bad_signature'])} corrupt files){hint}")
  return [sequences[k] for k in sorted(sequences, key=_natural_key)]


def check_frame_gap(frame_gap):
  """Raises ValueError unless frame_gap is an int >= 1 (bool excluded)."""
  if (isinstance(frame_gap, bool)
      or not isinstance(frame_gap, (int, np.integer)) or frame_gap < 1):
    raise ValueError(
        f"--frame_gap={frame_gap!r}: must be a whole number of frames >= 1 "
        "(1 pairs consecutive frames); pass e.g. --frame_gap=1")


def pair_indices(sequence_lengths, frame_gap, root=None):
  """Global frame indices of every pair of frames frame_gap apart.

  Frames are numbered consecutively over the sequences in order (sequence
  0's frames first), as the frames of ``list_sequences`` flattened.

  Args:
    sequence_lengths: ints, frames per sequence.
    frame_gap: int >= 1, frames between the two of a pair.
    root: str or None, the folder, only named in the error message.

  Returns:
    int64 np.ndarray [P, 2]: rows (i, i + frame_gap), both frames of one
    sequence, sequence by sequence and i increasing.

  Raises:
    ValueError: frame_gap is not an int >= 1.
    DatasetUnavailableError: no sequence has more than frame_gap frames.
  """
  check_frame_gap(frame_gap)
  lengths = np.asarray(list(sequence_lengths), np.int64).reshape(-1)
  starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
  firsts = [np.arange(s, s + n - frame_gap, dtype=np.int64)
            for s, n in zip(starts, lengths) if n > frame_gap]
  first = np.concatenate(firsts) if firsts else np.zeros([0], np.int64)
  if not len(first):
    longest = int(lengths.max()) if len(lengths) else 0
    where = f"--dataset=frames:{root}: " if root is not None else ""
    raise DatasetUnavailableError(
        f"{where}no sequence has 2 frames {frame_gap} apart "
        f"({_plural(len(lengths), 'sequence')}, the longest has "
        f"{_plural(longest, 'frame')}); each sub-folder must hold a sequence "
        f"of frames (at least {frame_gap + 1} for --frame_gap={frame_gap})")
  return np.stack([first, first + frame_gap], axis=1)


def _list(root, frame_gap):
  """(flat frame paths, sequence lengths, pair indices [P, 2])."""
  check_frame_gap(frame_gap)
  sequences = list_sequences(root)
  lengths = [len(s) for s in sequences]
  pairs = pair_indices(lengths, frame_gap, root=root)
  paths = [p for s in sequences for p in s]
  return paths, lengths, pairs


def check_available(root, frame_gap=1):
  """Raises unless root holds a pair of frames frame_gap apart.

  Lists the files and counts the pairs; reads no pixels.

  Raises:
    ValueError: frame_gap is not an int >= 1.
    DatasetUnavailableError: see list_sequences and pair_indices.
  """
  _list(root, frame_gap)


def describe(root, frame_gap=1):
  """Counts for logs and run metadata.

  Returns:
    dict {"sequences": int, "frames": int, "pairs": int}; pairs before any
    decode failure (which only a decoding run finds).
  """
  paths, lengths, pairs = _list(root, frame_gap)
  return {"sequences": len(lengths), "frames": len(paths),
          "pairs": len(pairs)}


def training_dataset(root, batch_size, seed, start_batch=0, worker_index=0,
                     crop=None, cache_limit_bytes=None):
  """Endless seeded stream of single frames (all frames of all sequences).

  For pictures and evaluation; it is the ``folder:`` stream
  (``image_folder.training_dataset``) of the frames ``list_sequences``
  finds: cached in memory when they fit, else streamed from their paths;
  resuming is exact (tf_betavae.data.pipeline).

  Args:
    root: str, the folder.
    batch_size, seed, start_batch, worker_index: as every training_dataset.
    crop: None (central square), int or (height, width) centre crop, pixels.
    cache_limit_bytes: int or None (pipeline.DEFAULT_CACHE_LIMIT_BYTES).

  Returns:
    tf.data.Dataset of float32 [batch_size, 64, 64, 3] in [0, 1].

  Raises:
    DatasetUnavailableError: root holds no readable image.
  """
  paths = [p for s in list_sequences(root) for p in s]
  return image_folder.path_batches(
      root, paths, batch_size, seed, start_batch, worker_index, crop,
      IMAGE_SIZE, cache_limit_bytes, kind="frames", what="frame")


def pair_dataset(root, batch_size, seed, frame_gap=1, start_batch=0,
                 worker_index=0, crop=None, cache_limit_bytes=None):
  """Endless seeded stream of pairs of frames frame_gap apart.

  Each epoch visits every pair once, in a permutation fixed by (seed,
  worker_index, epoch) (``pipeline.index_stream``): batch i is a function
  of (seed, worker_index, i) alone, and a run resumed with start_batch=s
  sees exactly the batches s, s+1, ... of a fresh run.

  When the frames fit in ``cache_limit_bytes`` (uint8) they are decoded
  once into memory and pairs are gathered from it; a frame that fails to
  decode drops its pairs (one warning).  Otherwise both frames of each pair
  are read and decoded per batch from their paths, in a parallel map; a
  pair with a frame that fails to decode is then dropped by tf.data (one
  warning each), which shifts the later batches of that run.

  Args:
    root: str, the folder.
    batch_size: int B, pairs per batch.
    seed, start_batch, worker_index: as every training_dataset.
    frame_gap: int >= 1, frames between the two of a pair (1: consecutive).
    crop: None (central square), int or (height, width) centre crop, pixels.
    cache_limit_bytes: int or None (pipeline.DEFAULT_CACHE_LIMIT_BYTES).

  Returns:
    tf.data.Dataset of float32 [B, 2, 64, 64, 3] in [0, 1]; [:, 0] is the
    earlier frame, [:, 1] the frame frame_gap later in the same sequence.

  Raises:
    ValueError: frame_gap is not an int >= 1.
    DatasetUnavailableError: no pair of frames (or none that decodes).
  """
  paths, _, pairs = _list(root, frame_gap)
  if pipeline.fits_in_cache(len(paths), OBSERVATION_SHAPE, cache_limit_bytes):
    array, kept = image_folder.decode_all(root, paths, crop, IMAGE_SIZE,
                                          kind="frames", what="frame")
    # Row of each frame in `array`, -1 where it failed to decode.
    row = np.full([len(paths)], -1, np.int64)
    row[kept] = np.arange(len(kept))
    pairs = row[pairs]
    ok = (pairs >= 0).all(axis=1)
    if not ok.all():
      logging.warning("frames %s: dropped %d of %d pairs with a frame that "
                      "failed to decode", root, int((~ok).sum()), len(ok))
      pairs = pairs[ok]
    if not len(pairs):
      raise DatasetUnavailableError(
          f"--dataset=frames:{root}: no pair of frames {frame_gap} apart "
          "decodes")
    frames = tf.constant(array)
    # array_batches gathers rows of the pair table ([B, 2] array rows);
    # the frames are then gathered from the cached array.
    return pipeline.array_batches(
        pairs, batch_size, seed, start_batch, worker_index,
        decode_batch=lambda rows: pipeline.uint8_to_float(
            tf.gather(frames, rows)))
  logging.info("frames %s: streaming %d pairs of %d frames", root,
               len(pairs), len(paths))
  path_table = tf.constant(paths, tf.string)
  pair_table = tf.constant(pairs)
  prep = image_folder.preprocess_fn(crop, IMAGE_SIZE)

  def load(index):
    pair_paths = tf.gather(path_table, tf.gather(pair_table, index))
    return tf.stack([prep(pair_paths[0]), prep(pair_paths[1])])

  # index_stream skips the already-seen pairs before batching, so
  # unbatching and re-batching keeps batch i = pairs i*B .. (i+1)*B - 1.
  dataset = pipeline.index_stream(len(pairs), batch_size, seed, start_batch,
                                  worker_index).unbatch()
  dataset = dataset.map(load, num_parallel_calls=pipeline.AUTOTUNE,
                        deterministic=True)
  dataset = dataset.ignore_errors(log_warning=True)
  dataset = dataset.batch(batch_size, drop_remainder=True)
  dataset = dataset.map(pipeline.uint8_to_float,
                        num_parallel_calls=pipeline.AUTOTUNE,
                        deterministic=True)
  return dataset.prefetch(pipeline.AUTOTUNE)
