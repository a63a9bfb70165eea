"""Reading prepared tensorflow-datasets (tfds) datasets, without downloads.

Nothing here downloads or prepares data: a dataset that is not prepared in
the data_dir raises ``DatasetUnavailableError`` with a one-line message that
says where it looked and how to prepare it.
"""

import os

from tf_betavae.data.errors import DatasetUnavailableError


def _tfds():
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  return tfds


def data_dir_root(builder):
  """The data_dir root a builder reads (``<root>/<name>/<version>``)."""
  return os.path.dirname(os.path.dirname(os.fspath(builder.data_dir)))


def load_split(name, data_dir=None, split="train", decode_image=False,
               how_to_prepare=None):
  """A prepared tfds split as records, in stored order.

  Args:
    name: tfds dataset name, e.g. "celeb_a".
    data_dir: tfds data_dir; None means tfds' default (``$TFDS_DATA_DIR`` or
      ``~/tensorflow_datasets``).
    split: split name or tfds split expression.
    decode_image: False keeps the "image" feature as encoded bytes (decoded
      later in the pipeline, in parallel, e.g. crop-while-decoding JPEG);
      True lets tfds decode it to uint8.
    how_to_prepare: str or None, the dataset-specific part of the message
      when the data is missing; ``{root}`` is replaced by the data_dir.

  Returns:
    (tf.data.Dataset of feature dicts, number of examples).

  Raises:
    DatasetUnavailableError: the dataset is not prepared in data_dir.
  """
  tfds = _tfds()
  try:
    builder = tfds.builder(name, data_dir=data_dir)
  except Exception as e:  # pylint: disable=broad-except
    raise DatasetUnavailableError(
        f"dataset {name!r}: tensorflow-datasets cannot open it in "
        f"{data_dir or 'its default data_dir'}: "
        f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
  root = data_dir_root(builder)
  decoders = None if decode_image else {"image": tfds.decode.SkipDecoding()}
  try:
    dataset = builder.as_dataset(split=split, decoders=decoders,
                                 shuffle_files=False)
  except AssertionError as e:
    how = (how_to_prepare or
           f"prepare it with `tfds build {name} --data_dir={{root}}`")
    raise DatasetUnavailableError(
        f"dataset {name!r} is not prepared for tensorflow-datasets in "
        f"{root} (looked for {builder.data_dir}; pass --data_dir=DIR where "
        f"it lives); " + how.format(root=root)) from e
  except (ValueError, KeyError) as e:
    raise DatasetUnavailableError(
        f"dataset {name!r}: split {split!r} is not available in "
        f"{builder.data_dir}: {str(e).splitlines()[0]}") from e
  num_examples = int(dataset.cardinality())
  if num_examples < 0:
    num_examples = int(builder.info.splits[split].num_examples)
  if num_examples <= 0:
    raise DatasetUnavailableError(
        f"dataset {name!r}: split {split!r} in {builder.data_dir} is empty")
  return dataset, num_examples
