"""Exceptions of the dataset registry (re-exported by tf_betavae.data)."""


class UnknownDatasetError(ValueError):
  """The dataset name is not one of DATASETS."""


class DatasetUnavailableError(RuntimeError):
  """The dataset is known but its data (or loader) is not available."""
