"""Datasets by name: training streams and ground-truth simulators.

One registry serves scripts/train.py and the metrics:

* ``training_dataset(name, ...)`` -> (tf.data.Dataset of image batches,
  image_shape);
* ``ground_truth(name)`` -> an object with the ground-truth interface
  (``factor_names``, ``factors_num_values``, ``num_factors``,
  ``observation_shape``, ``sample_factors``,
  ``sample_observations_from_factors``) that every metric consumes.
"""

from tf_betavae.data import dsprites_simulator

# Names users may pass to --dataset; "folder:PATH" takes a path.
DATASETS = ("dsprites", "celeb_a", "dsprites_official", "shapes3d",
            "folder:PATH")
GROUND_TRUTH_DATASETS = ("dsprites",)

# What each real dataset needs; the loaders arrive with the datasets issue.
_NEEDS_DATA = {
    "celeb_a": ("CelebA is read through tensorflow-datasets "
                "(tfds.load('celeb_a', data_dir=--data_dir)); this version "
                "of tf_betavae has no CelebA loader yet, so train on the "
                "built-in simulator (--dataset=dsprites)"),
    "dsprites_official": ("the official dSprites file or a prepared tfds "
                          "'dsprites' is needed; this version has no loader "
                          "for it yet, use --dataset=dsprites (the built-in "
                          "simulator of the same factor grid)"),
    "shapes3d": ("Shapes3D is read through tensorflow-datasets; this version "
                 "has no loader for it yet"),
    "folder": ("image folders are not supported by this version yet"),
}


class UnknownDatasetError(ValueError):
  """The dataset name is not one of DATASETS."""


class DatasetUnavailableError(RuntimeError):
  """The dataset is known but its data (or loader) is not available."""


def _check_name(name):
  base = name.split(":", 1)[0]
  if name == "dsprites" or base in _NEEDS_DATA:
    return base
  raise UnknownDatasetError(
      f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")


def is_known(name):
  """Whether ``name`` is a dataset name this package knows."""
  try:
    _check_name(name)
  except UnknownDatasetError:
    return False
  return True


def image_shape(name):
  """(height, width, channels) of a dataset's images."""
  base = _check_name(name)
  if base == "dsprites":
    return dsprites_simulator.DSpritesSimulator.observation_shape
  raise DatasetUnavailableError(f"dataset {name!r}: {_NEEDS_DATA[base]}")


def training_dataset(name, batch_size, seed, start_batch=0, worker_index=0,
                     data_dir=None):
  """An endless, seeded stream of training batches.

  Args:
    name: a name from DATASETS.
    batch_size: int, images per batch (per input pipeline).
    seed: int.
    start_batch: int, index of the first batch; a resumed run passes its step
      count so the stream continues where it stopped.
    worker_index: int, distinct per data-parallel input pipeline.
    data_dir: where real datasets live (unused by the simulator).

  Returns:
    (tf.data.Dataset of float32 [batch_size, H, W, C] in [0, 1],
     (H, W, C)).

  Raises:
    UnknownDatasetError: name is not known.
    DatasetUnavailableError: the data for a known dataset is not available.
  """
  del data_dir
  base = _check_name(name)
  if base == "dsprites":
    dataset = dsprites_simulator.training_dataset(
        batch_size, seed, start_batch=start_batch, worker_index=worker_index)
    return dataset, dsprites_simulator.DSpritesSimulator.observation_shape
  raise DatasetUnavailableError(f"dataset {name!r}: {_NEEDS_DATA[base]}")


def ground_truth(name="dsprites"):
  """The ground-truth data interface of a dataset with known factors."""
  base = _check_name(name)
  if base == "dsprites":
    return dsprites_simulator.DSpritesSimulator()
  raise DatasetUnavailableError(
      f"dataset {name!r} has no ground-truth loader in this version; "
      f"available: {', '.join(GROUND_TRUTH_DATASETS)}")
