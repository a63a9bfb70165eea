"""Datasets by name: training streams and ground-truth data.

One registry serves scripts/train.py, scripts/evaluate.py and the metrics:

* ``training_dataset(name, ...)`` -> (tf.data.Dataset of image batches,
  image_shape);
* ``image_shape(name)`` -> (H, W, C), from the name alone (no data read);
* ``ground_truth(name, ...)`` -> a ``GroundTruthData``
  (tf_betavae.data.ground_truth_data: ``factor_names``,
  ``factors_num_values``, ``num_factors``, ``observation_shape``,
  ``sample_factors``, ``sample_observations_from_factors``, ``sample``),
  the interface every metric consumes; those whose observation of a
  factor vector is fixed (dsprites, dsprites_official, shapes3d) are also
  ``FiniteGroundTruth`` (their observations can be tabulated), those with
  a random nuisance or several images per factor vector are not;
* ``check_available(name, ...)``: raises ``DatasetUnavailableError`` (one
  line: where it looked, how to get the data) unless the data is there;
* ``source_of(run config or export metadata)`` -> a ``DataSource``: the
  dataset a run was trained on with the locations it was read from
  (data_source.py); whatever reads a run's data again goes through it.

Datasets (one module each):

  ==================  ==========  ==============================================
  name                shape       source
  ==================  ==========  ==============================================
  dsprites            64x64x1     built-in simulator (dsprites_simulator)
  dsprites_official   64x64x1     official .npz/.hdf5 or tfds 'dsprites'
  celeb_a             64x64x3     tfds 'celeb_a', 148 crop, resized to 64
  shapes3d            64x64x3     tfds 'shapes3d'
  color_dsprites      64x64x3     simulator, sprite in a random colour
  noisy_dsprites      64x64x3     simulator, white sprite on uniform noise
  scream_dsprites     64x64x3     simulator on patches of ``scream_image``
  smallnorb           64x64x1     tfds 'smallnorb', resized to 64
  folder:PATH         64x64x3     every JPEG/PNG under PATH (image_folder)
  frames:PATH         64x64x3     frame sequences under PATH (frames)
  ==================  ==========  ==============================================

Ground truth (factors) exists for every dataset but celeb_a, folders and
frames.  The weakly-supervised methods train on pairs of observations:
``pair_dataset(name, ...)`` makes them from every ground truth (the second
observation shares all but 1 or k factors, tf_betavae.data.pairs) and from
frames:PATH (two frames of one sequence ``frame_gap`` apart).
Nothing here downloads data.  ``data_dir`` is the tensorflow-datasets
data_dir (None: tfds' default, ``$TFDS_DATA_DIR`` or
``~/tensorflow_datasets``); for dsprites_official it may also be the official
file itself or a directory holding it (see dsprites_official.find_source).
``scream_image`` is the picture whose patches are scream_dsprites's
backgrounds (scream_dsprites.py).  The dSprites variants (color_, noisy_,
scream_dsprites; shared part in dsprites_variants) and smallnorb (several
images per factor vector, tf_betavae.data.indexed.MultiRowGroundTruth) are
described in docs/datasets.md.
"""

from tf_betavae.data import celeb_a
from tf_betavae.data import color_dsprites
from tf_betavae.data import dsprites_official
from tf_betavae.data import dsprites_simulator
from tf_betavae.data import frames
from tf_betavae.data import image_folder
from tf_betavae.data import noisy_dsprites
from tf_betavae.data import pairs
from tf_betavae.data import scream_dsprites
from tf_betavae.data import shapes3d
from tf_betavae.data import smallnorb
from tf_betavae.data import tfds_source
from tf_betavae.data.data_source import DataSource
from tf_betavae.data.data_source import source_of
from tf_betavae.data.errors import DatasetUnavailableError
from tf_betavae.data.errors import UnknownDatasetError
from tf_betavae.data.ground_truth_data import FiniteGroundTruth
from tf_betavae.data.ground_truth_data import GroundTruthData
from tf_betavae.data.ground_truth_data import check_k
from tf_betavae.data.ground_truth_data import K_RANDOM
from tf_betavae.data.frames import check_frame_gap

# Names users may pass to --dataset; "folder:PATH" takes a path.
DATASETS = ("dsprites", "celeb_a", "dsprites_official", "shapes3d",
            "color_dsprites", "noisy_dsprites", "scream_dsprites",
            "smallnorb", "folder:PATH", "frames:PATH")
GROUND_TRUTH_DATASETS = ("dsprites", "dsprites_official", "shapes3d",
                         "color_dsprites", "noisy_dsprites",
                         "scream_dsprites", "smallnorb")
TFDS_DATASETS = ("celeb_a", "shapes3d", "smallnorb")

_SHAPES = {
    "dsprites": (64, 64, 1),
    "dsprites_official": (64, 64, 1),
    "celeb_a": (64, 64, 3),
    "shapes3d": (64, 64, 3),
    "color_dsprites": (64, 64, 3),
    "noisy_dsprites": (64, 64, 3),
    "scream_dsprites": (64, 64, 3),
    "smallnorb": (64, 64, 1),
    "folder": (64, 64, 3),
    "frames": frames.OBSERVATION_SHAPE,
}
# Factors of each ground truth, known from the name (no data read): what
# --k is checked against before any data is opened.
_NUM_FACTORS = {
    "dsprites": len(dsprites_simulator.FACTOR_NAMES),
    "dsprites_official": len(dsprites_simulator.FACTOR_NAMES),
    "color_dsprites": len(dsprites_simulator.FACTOR_NAMES),
    "noisy_dsprites": len(dsprites_simulator.FACTOR_NAMES),
    "scream_dsprites": len(dsprites_simulator.FACTOR_NAMES),
    "shapes3d": len(shapes3d.FACTOR_NAMES),
    "smallnorb": len(smallnorb.FACTOR_NAMES),
}
# The prefixes of the names that take a path.
_PATH_DATASETS = {"folder:": "folder", "frames:": "frames"}
# The dSprites variants: the simulator's stream with a random nuisance.
_DSPRITES_VARIANTS = {
    "color_dsprites": color_dsprites,
    "noisy_dsprites": noisy_dsprites,
}

__all__ = ["DATASETS", "GROUND_TRUTH_DATASETS", "DataSource",
           "DatasetUnavailableError", "FiniteGroundTruth", "GroundTruthData",
           "K_RANDOM", "UnknownDatasetError", "check_available",
           "check_frame_gap", "check_k", "ground_truth", "image_shape",
           "is_frames", "is_known", "num_factors", "pair_dataset",
           "source_of", "training_dataset"]


def _check_name(name):
  """The base name ('folder' for 'folder:PATH'); raises for unknown names."""
  if not isinstance(name, str):
    raise UnknownDatasetError(
        f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
  for prefix, base in _PATH_DATASETS.items():
    if name.startswith(prefix):
      if not name[len(prefix):]:
        raise UnknownDatasetError(
            f"dataset '{prefix}' needs a path, e.g. {prefix}/data/videos")
      return base
  if name in _SHAPES and name not in _PATH_DATASETS.values():
    return name
  raise UnknownDatasetError(
      f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")


def is_known(name):
  """Whether ``name`` is a dataset name this package knows."""
  try:
    _check_name(name)
  except UnknownDatasetError:
    return False
  return True


def is_frames(name):
  """Whether ``name`` is a frames:PATH dataset (pairs of frames)."""
  return isinstance(name, str) and name.startswith(frames.PREFIX)


def num_factors(name):
  """The number of ground-truth factors of a dataset, from its name.

  Raises:
    UnknownDatasetError: name is not known.
    DatasetUnavailableError: the dataset has no ground-truth factors.
  """
  base = _check_name(name)
  if base not in _NUM_FACTORS:
    raise DatasetUnavailableError(
        f"dataset {name!r} has no ground-truth factors; datasets with "
        f"factors: {', '.join(GROUND_TRUTH_DATASETS)}")
  return _NUM_FACTORS[base]


def image_shape(name, data_dir=None):
  """(height, width, channels) of a dataset's training images.

  Depends on the name only (no data is read, so a trained model can be
  restored without its data); ``data_dir`` is accepted for symmetry.

  Raises:
    UnknownDatasetError: name is not known.
  """
  del data_dir
  return _SHAPES[_check_name(name)]


def check_available(name, data_dir=None, dsprites_file=None,
                    scream_image=None, frame_gap=1):
  """Raises DatasetUnavailableError unless the dataset's data is readable.

  Cheap: lists files, opens the tfds builder or reads the scream picture;
  decodes no dataset images.

  Args:
    name: a name from DATASETS.
    data_dir, dsprites_file: see ``training_dataset``.
    scream_image: the picture of scream_dsprites (see ``training_dataset``).
    frame_gap: frames:PATH only: some sequence must have a pair of frames
      this many apart.

  Raises:
    UnknownDatasetError: name is not known.
    DatasetUnavailableError: the data is not where it was looked for; the
      one-line message says where and how to prepare it.
  """
  base = _check_name(name)
  if base == "dsprites" or base in _DSPRITES_VARIANTS:
    return
  if base == "folder":
    image_folder.check_available(image_folder.path_of(name))
  elif base == "frames":
    frames.check_available(frames.path_of(name), frame_gap)
  elif base == "dsprites_official":
    dsprites_official.check_available(data_dir, dsprites_file)
  elif base == "scream_dsprites":
    scream_dsprites.check_available(scream_image)
  elif base == "smallnorb":
    smallnorb.check_available(data_dir)
  else:
    module = celeb_a if base == "celeb_a" else shapes3d
    tfds_source.load_split(module.NAME, data_dir, "train",
                           how_to_prepare=module.HOW_TO_PREPARE)


def training_dataset(name, batch_size, seed, start_batch=0, worker_index=0,
                     data_dir=None, dsprites_file=None,
                     cache_limit_bytes=None, scream_image=None):
  """An endless, seeded stream of training batches.

  The simulator's batch i (and that of its variants) is a pure function of
  (seed, worker_index, i); a finite dataset visits its examples in a seeded
  permutation per epoch (tf_betavae.data.pipeline) and skips the batches
  before ``start_batch`` cheaply, so a resumed run sees the batches it would
  have seen.

  Args:
    name: a name from DATASETS ('folder:/some/path' for a folder).
    batch_size: int, images per batch (per input pipeline).
    seed: int.
    start_batch: int, index of the first batch; a resumed run passes its step
      count so the stream continues where it stopped.
    worker_index: int, distinct per data-parallel input pipeline.
    data_dir: tfds data_dir (unused by the simulator and folders); for
      dsprites_official also the official file or its directory.
    dsprites_file: the official dSprites .npz/.hdf5 (dsprites_official).
    cache_limit_bytes: preprocessed uint8 images up to this size are decoded
      once into memory (None: pipeline.DEFAULT_CACHE_LIMIT_BYTES, 1 GiB).
    scream_image: path of the JPEG/PNG (at least 64x64) whose patches are
      scream_dsprites's backgrounds; read only for scream_dsprites.

  Returns:
    (tf.data.Dataset of float32 [batch_size, H, W, C] in [0, 1],
     (H, W, C)).

  Raises:
    UnknownDatasetError: name is not known.
    DatasetUnavailableError: the data for a known dataset is not available.
  """
  base = _check_name(name)
  common = dict(start_batch=start_batch, worker_index=worker_index)
  tfds_options = dict(data_dir=data_dir, cache_limit_bytes=cache_limit_bytes,
                      **common)
  if base == "dsprites":
    dataset = dsprites_simulator.training_dataset(batch_size, seed, **common)
  elif base in _DSPRITES_VARIANTS:
    dataset = _DSPRITES_VARIANTS[base].training_dataset(batch_size, seed,
                                                        **common)
  elif base == "scream_dsprites":
    dataset = scream_dsprites.training_dataset(
        batch_size, seed, scream_image=scream_image, **common)
  elif base == "dsprites_official":
    dataset = dsprites_official.training_dataset(
        batch_size, seed, data_dir=data_dir, dsprites_file=dsprites_file,
        **common)
  elif base in ("celeb_a", "shapes3d", "smallnorb"):
    module = {"celeb_a": celeb_a, "shapes3d": shapes3d,
              "smallnorb": smallnorb}[base]
    dataset = module.training_dataset(batch_size, seed, **tfds_options)
  elif base == "frames":
    dataset = frames.training_dataset(
        frames.path_of(name), batch_size, seed,
        cache_limit_bytes=cache_limit_bytes, **common)
  else:
    dataset = image_folder.training_dataset(
        image_folder.path_of(name), batch_size, seed,
        cache_limit_bytes=cache_limit_bytes, **common)
  return dataset, _SHAPES[base]


def pair_dataset(name, batch_size, seed, k=K_RANDOM, frame_gap=1,
                 start_batch=0, worker_index=0, data_dir=None,
                 dsprites_file=None, cache_limit_bytes=None,
                 scream_image=None):
  """An endless, seeded stream of pair batches (weak supervision).

  Batch i is a pure function of (seed, worker_index, i), so a resumed run
  (``start_batch``) sees the batches it would have seen.

  Args:
    name: a name of GROUND_TRUTH_DATASETS (pairs share all but 1 or k
      factors, tf_betavae.data.pairs) or 'frames:PATH' (pairs of frames of
      one sequence ``frame_gap`` apart, tf_betavae.data.frames).
    batch_size: int, pairs per batch.
    seed: int.
    k: int in [1, num_factors] or K_RANDOM (ground truths only).
    frame_gap: int >= 1 (frames only).
    start_batch, worker_index, data_dir, dsprites_file, cache_limit_bytes,
      scream_image: as ``training_dataset``.

  Returns:
    (tf.data.Dataset of (float32 [batch_size, 2, H, W, C] in [0, 1], int32
    [batch_size] labels: the last factor the second observation redrew, or
    -1 for frames), (H, W, C)).

  Raises:
    UnknownDatasetError: name is not known.
    DatasetUnavailableError: the data is missing, or the dataset cannot
      make pairs (celeb_a, folder:PATH) or has none (frames too short).
    ValueError: k or frame_gap out of range.
  """
  base = _check_name(name)
  if base == "frames":
    dataset = frames.pair_dataset(
        frames.path_of(name), batch_size, seed, frame_gap=frame_gap,
        start_batch=start_batch, worker_index=worker_index,
        cache_limit_bytes=cache_limit_bytes)
    return pairs.with_unknown_labels(dataset), _SHAPES[base]
  source = ground_truth(name, data_dir=data_dir, dsprites_file=dsprites_file,
                        scream_image=scream_image)
  dataset = pairs.pair_batches(source, batch_size, seed, k,
                               start_batch=start_batch,
                               worker_index=worker_index)
  return dataset, _SHAPES[base]


def ground_truth(name="dsprites", data_dir=None, dsprites_file=None,
                 scream_image=None):
  """The ground-truth data interface of a dataset with known factors.

  Args:
    name: one of GROUND_TRUTH_DATASETS.
    data_dir: tfds data_dir (None: tfds' default); for dsprites_official
      also the official file or its directory.
    dsprites_file: the official dSprites .npz/.hdf5 (dsprites_official).
    scream_image: the picture of scream_dsprites (see
      ``training_dataset``).

  Raises:
    UnknownDatasetError: name is not known.
    DatasetUnavailableError: the dataset has no factors, or its data is
      missing.
  """
  base = _check_name(name)
  if base == "dsprites":
    return dsprites_simulator.DSpritesSimulator()
  if base in _DSPRITES_VARIANTS:
    return _DSPRITES_VARIANTS[base].ground_truth()
  if base == "scream_dsprites":
    return scream_dsprites.ground_truth(scream_image)
  if base == "dsprites_official":
    return dsprites_official.ground_truth(data_dir, dsprites_file)
  if base == "shapes3d":
    return shapes3d.ground_truth(data_dir)
  if base == "smallnorb":
    return smallnorb.ground_truth(data_dir)
  raise DatasetUnavailableError(
      f"dataset {name!r} has no ground-truth factors; datasets with factors: "
      f"{', '.join(GROUND_TRUTH_DATASETS)}")
