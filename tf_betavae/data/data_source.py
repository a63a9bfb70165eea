"""A dataset together with where its data lies: what a run was trained on.

A run reads its data through four settings: the dataset name and three
locations (``data_dir``, ``dsprites_file``, ``scream_image``).  Everything
that reads a run's data again after training (the pictures drawn during
training, traverse, evaluate, sweeps and reproductions, model selection,
transfer probes) gets them from the run through ``source_of``, so that a
run trained on the official dSprites file, say, is drawn and scored on that
file and not on whatever the consumer's defaults would find.

``source_of`` accepts the run's TrainConfig, its ``run_config.json`` as a
dict, an export's metadata dict (exports record the locations as absolute
paths, see tf_betavae.export.training_metadata), any object with a
``dataset`` attribute (a reproduction's settings) or a bare dataset name.
"""

import dataclasses
from typing import Optional

# The package imports this module; the names used here are looked up at
# call time, when the package is complete.
from tf_betavae import data as data_lib

# The settings that say where a dataset's data lies; each is read by some
# datasets only (see tf_betavae.data.training_dataset) and is None when the
# dataset's default place (or no file at all) is meant.
LOCATION_SETTINGS = ("data_dir", "dsprites_file", "scream_image")


@dataclasses.dataclass(frozen=True)
class DataSource:
  """A dataset name and the locations it is read from.

  Attributes:
    dataset: a name of tf_betavae.data.DATASETS ('folder:PATH' included).
    data_dir: tensorflow-datasets data_dir (for dsprites_official also the
      official file or its directory), or None for tfds' default.
    dsprites_file: the official dSprites .npz/.hdf5 (dsprites_official), or
      None.
    scream_image: the background picture of scream_dsprites, or None.
  """

  dataset: str
  data_dir: Optional[str] = None
  dsprites_file: Optional[str] = None
  scream_image: Optional[str] = None

  def locations(self):
    """{setting: value} of the location settings."""
    return {name: getattr(self, name) for name in LOCATION_SETTINGS}

  def ground_truth(self):
    """tf_betavae.data.ground_truth of this dataset and its locations.

    Raises:
      UnknownDatasetError, DatasetUnavailableError: see there.
    """
    return data_lib.ground_truth(self.dataset, **self.locations())

  def has_ground_truth(self):
    """Whether the dataset has ground-truth factors (reads no data)."""
    return self.dataset in data_lib.GROUND_TRUTH_DATASETS

  def training_dataset(self, batch_size, seed, **kwargs):
    """tf_betavae.data.training_dataset of this dataset and its locations.

    Args:
      batch_size, seed: see there.
      **kwargs: start_batch, worker_index, cache_limit_bytes (see there).

    Returns:
      (tf.data.Dataset of float32 [batch_size, H, W, C] in [0, 1],
       (H, W, C)).
    """
    return data_lib.training_dataset(self.dataset, batch_size, seed,
                                     **self.locations(), **kwargs)

  def pair_dataset(self, batch_size, seed, **kwargs):
    """tf_betavae.data.pair_dataset of this dataset and its locations.

    Args:
      batch_size, seed: see there.
      **kwargs: k, frame_gap, start_batch, worker_index, cache_limit_bytes.

    Returns:
      (tf.data.Dataset of (float32 [batch_size, 2, H, W, C], int32
       [batch_size]), (H, W, C)).
    """
    return data_lib.pair_dataset(self.dataset, batch_size, seed,
                                 **self.locations(), **kwargs)

  def check_available(self, frame_gap=1):
    """Raises DatasetUnavailableError unless the data is readable (for
    frames:PATH: unless a sequence has two frames ``frame_gap`` apart)."""
    data_lib.check_available(self.dataset, **self.locations(),
                             frame_gap=frame_gap)


def _read(settings, name):
  if isinstance(settings, dict):
    return settings.get(name)
  return getattr(settings, name, None)


def source_of(settings, dataset=None, data_dir=None, dsprites_file=None,
              scream_image=None):
  """The DataSource a run (or export) was trained on, with overrides.

  Args:
    settings: what records the run's data: a TrainConfig, a run's
      ``run_config.json`` or an export's metadata (dicts), a DataSource,
      any object with ``dataset`` (and optionally the location settings)
      as attributes, a dataset name, or None (nothing recorded).
    dataset: a dataset to read instead of the recorded one, or None.  Another
      dataset than the recorded one keeps none of the recorded locations
      (they point at the recorded dataset's data).
    data_dir, dsprites_file, scream_image: where the data lies on this
      machine, or None.  Giving any of them replaces all the recorded
      locations (a recorded dsprites_file would otherwise win over a given
      data_dir), so a run trained elsewhere can be pointed at local copies.

  Returns:
    DataSource.

  Raises:
    ValueError: neither ``settings`` nor ``dataset`` names a dataset, or a
      value is not a string.
  """
  if isinstance(settings, str):
    settings = {"dataset": settings}
  recorded = _read(settings, "dataset") if settings is not None else None
  if dataset is None and recorded is None:
    raise ValueError("no dataset: the run or export records none and none "
                     "was given")
  given = {"data_dir": data_dir, "dsprites_file": dsprites_file,
           "scream_image": scream_image}
  for name, value in [("dataset", dataset), ("recorded dataset", recorded),
                      *given.items()]:
    if value is not None and not isinstance(value, str):
      raise ValueError(f"{name} must be a string, got {value!r}")
  if any(value is not None for value in given.values()):
    locations = given
  elif dataset is None or dataset == recorded:
    locations = {name: _read(settings, name) for name in LOCATION_SETTINGS}
  else:
    locations = {}
  for name, value in locations.items():
    if value is not None and not isinstance(value, str):
      raise ValueError(f"recorded {name} must be a path, got {value!r}")
  # An empty string (an unset flag written as '') means no location.
  locations = {k: v or None for k, v in locations.items()}
  return DataSource(dataset=dataset or recorded, **locations)
