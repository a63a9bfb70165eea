"""The picture files of a trained β-VAE, from a run directory or an export.

``write_pictures`` picks the model (a training run's latest checkpoint or a
SavedModel export), samples input images from its dataset and writes
traversal.png, traversal.gif, reconstructions.png, kl_per_latent.png and,
on datasets with a ground-truth simulator, factor_response.png (see
``tf_betavae.visualize.summaries.write_image_files``).
"""

import os

from absl import logging

from tf_betavae import data as data_lib
from tf_betavae.visualize import sources
from tf_betavae.visualize import summaries

PICTURES_SUBDIR = "pictures"


class PicturesError(ValueError):
  """The model or the data asked for cannot be used; the message says why."""


def load_source(model_dir=None, export=None):
  """The model of a run directory or of an export, and its default output.

  Args:
    model_dir: a training run directory (holding run_config.json), or None.
    export: a SavedModel version directory or model folder, or None.
      Exactly one of model_dir and export must be given.

  Returns:
    (visualize.sources.Source, default output directory): <model_dir>/pictures
    for a run, a 'pictures' folder beside the export's versions otherwise.

  Raises:
    PicturesError: neither or both given, or the path holds no model.
  """
  if bool(model_dir) == bool(export):
    raise PicturesError("give exactly one of --model_dir DIR or --export DIR")
  if model_dir:
    if not os.path.isdir(model_dir):
      raise PicturesError(f"--model_dir {model_dir} does not exist")
    if not os.path.exists(os.path.join(model_dir, "run_config.json")):
      raise PicturesError(f"{model_dir} holds no training run "
                          "(run_config.json is missing)")
    try:
      source = sources.from_model_dir(model_dir)
    except (FileNotFoundError, ValueError) as e:
      raise PicturesError(str(e).splitlines()[0]) from None
    return source, os.path.join(model_dir, PICTURES_SUBDIR)
  if not os.path.exists(export):
    raise PicturesError(f"--export {export} does not exist")
  try:
    source = sources.from_export(export)
  except (FileNotFoundError, ValueError, OSError) as e:
    # Loader errors run over many lines; the first says what is wrong.
    raise PicturesError(str(e).splitlines()[0]) from None
  version_dir = os.path.normpath(source.path)
  return source, os.path.join(os.path.dirname(version_dir), PICTURES_SUBDIR)


def model_data(source, dataset=None, data_dir=None):
  """The data to draw a model on: by default its training data, read from
  where its run read it (run_config.json, or the export's metadata).

  Args:
    source: a visualize.sources.Source.
    dataset: dataset name; default the model's own (dsprites if unknown).
    data_dir: where the data lies on this machine (tfds data_dir, or the
      official dSprites file); replaces the locations the run recorded.

  Returns:
    tf_betavae.data.DataSource.

  Raises:
    PicturesError: unknown dataset.
  """
  name = dataset or source.dataset or "dsprites"
  if not data_lib.is_known(name):
    raise PicturesError(f"unknown --dataset {name!r}; valid names: "
                        f"{', '.join(data_lib.DATASETS)}")
  return data_lib.source_of(source.data or name, dataset=name,
                            data_dir=data_dir)


def input_images(source, dataset=None, num_images=64, seed=0,
                 data_dir=None):
  """Images of the model's dataset (or ``dataset``) to draw on.

  Args:
    source: a visualize.sources.Source.
    dataset, data_dir: see ``model_data``.
    num_images: int >= 1.
    seed: int, seed of the sample.

  Returns:
    (dataset name, float32 images [num_images, H, W, C] in [0, 1]).

  Raises:
    PicturesError: unknown or unavailable dataset, or images of another
      shape than the model takes.
  """
  data = model_data(source, dataset, data_dir)
  dataset = data.dataset
  try:
    shape = tuple(data_lib.image_shape(dataset))
    images = summaries.sample_images(data, num_images, seed)
  except data_lib.DatasetUnavailableError as e:
    raise PicturesError(str(e)) from None
  if shape != tuple(source.image_shape):
    raise PicturesError(f"the model takes images of shape "
                        f"{list(source.image_shape)}, dataset {dataset!r} has "
                        f"{list(shape)}")
  return dataset, images


def write_pictures(model_dir=None, export=None, output_dir=None, dataset=None,
                   num_images=64, seed=0, data_dir=None, factor_response=True,
                   **drawing):
  """Writes the picture files of a run or an export.

  Args:
    model_dir, export: the model, see load_source.
    output_dir: where the files go; default load_source's.
    dataset, num_images, seed, data_dir: the input images, see
      input_images.
    factor_response: also draw factor_response.png when the dataset has a
      ground-truth simulator.
    **drawing: forwarded to visualize.summaries.write_image_files (index,
      num_steps, limit, absolute, max_latents, gif_inputs, gif_frames,
      samples_per_value).

  Returns:
    dict {picture name: path written}.

  Raises:
    PicturesError: see load_source and input_images.
  """
  source, default_output = load_source(model_dir, export)
  output_dir = output_dir or default_output
  dataset, images = input_images(source, dataset, num_images, seed, data_dir)
  ground_truth = (summaries.ground_truth_or_none(
      model_data(source, dataset, data_dir)) if factor_response else None)
  logging.info("drawing %s on %d %s images into %s", source.description,
               num_images, dataset, output_dir)
  return summaries.write_image_files(
      output_dir, source.encode_fn, source.decode_fn, images,
      ground_truth=ground_truth, **drawing)
