"""All pictures at once: TensorBoard image summaries and files.

Training calls ``write_image_summaries`` every few steps and
``write_image_files`` at the end (through ``training_hook.PicturesHook``);
scripts/traverse.py calls ``write_image_files`` for any checkpoint or
export.
"""

import os

from absl import logging
import numpy as np
import tensorflow as tf

from tf_betavae import data as data_lib
from tf_betavae.models import latent_stats
from tf_betavae.visualize import factor_response
from tf_betavae.visualize import image_utils
from tf_betavae.visualize import kl_chart
from tf_betavae.visualize import reconstructions
from tf_betavae.visualize import traversals

TRAVERSAL_PNG = "traversal.png"
TRAVERSAL_GIF = "traversal.gif"
RECONSTRUCTIONS_PNG = "reconstructions.png"
KL_PNG = "kl_per_latent.png"
FACTOR_RESPONSE_PNG = "factor_response.png"
DEFAULT_NUM_IMAGES = 64


def sample_images(source="dsprites", num=DEFAULT_NUM_IMAGES, seed=0):
  """A fixed batch of images to draw pictures from.

  Datasets with ground-truth factors are sampled uniformly over their
  (stored) factor combinations with RandomState(seed); other datasets give
  the first batch of their training stream for ``seed``.

  Args:
    source: a tf_betavae.data.DataSource (a run's: data.source_of(config)),
      or a dataset name read from its default locations.
    num: int, number of images.
    seed: int.

  Returns:
    float32 np.ndarray [num, H, W, C] in [0, 1].

  Raises:
    tf_betavae.data.UnknownDatasetError / DatasetUnavailableError.
  """
  source = data_lib.source_of(source)
  if source.has_ground_truth():
    _, images = source.ground_truth().sample(num, np.random.RandomState(seed))
    return np.asarray(images, np.float32)
  stream, _ = source.training_dataset(num, seed)
  batch = next(iter(stream))
  if isinstance(batch, (tuple, list)):  # (images, ...) elements
    batch = batch[0]
  return np.asarray(batch, np.float32)


def ground_truth_or_none(source):
  """The ground truth of the factor-response plot, or None to skip it.

  None when the dataset has no factors, its data is not available (logged
  as a warning) or it holds part of its factor grid only (e.g. a reduced
  official dSprites file): the plot fixes each factor at every value, so
  it needs every combination.

  Args:
    source: a tf_betavae.data.DataSource or a dataset name.
  """
  source = data_lib.source_of(source)
  if not source.has_ground_truth():
    return None
  try:
    ground_truth = source.ground_truth()
  except data_lib.DatasetUnavailableError as e:
    logging.warning("no factor-response plot: %s", e)
    return None
  if not getattr(ground_truth, "complete", True):
    logging.info("no factor-response plot: the %s data holds part of its "
                 "factor grid only", source.dataset)
    return None
  return ground_truth


def make_pictures(encode_fn, decode_fn, images, index=0,
                  num_steps=traversals.DEFAULT_NUM_STEPS,
                  limit=traversals.DEFAULT_LIMIT, absolute=False,
                  max_latents=None, max_reconstructions=16):
  """The three standard pictures of a model.

  Args:
    encode_fn: images float32 [N, H, W, C] -> (mean, log_variance) [N, D].
    decode_fn: latents float32 [N, D] -> images float32 [N, H, W, C].
    images: float32 [N, H, W, C] in [0, 1]; KL per latent is measured on
      all of them, ``images[index]`` is traversed.
    index, num_steps, limit, absolute, max_latents: see
      traversals.traversal_grid.
    max_reconstructions: images in the reconstruction grid.

  Returns:
    dict name -> uint8 np.ndarray [h, w, 3] for 'traversal',
    'reconstructions', 'kl_per_latent'; and 'kl' -> float64 [D] (nats).
  """
  images = np.asarray(images, np.float32)
  mean, log_variance = encode_fn(images)
  kl = latent_stats.kl_per_latent(mean, log_variance)
  return {
      "traversal": traversals.traversal_grid(
          encode_fn, decode_fn, images, index=index, num_steps=num_steps,
          limit=limit, absolute=absolute, kl=kl, max_latents=max_latents),
      "reconstructions": reconstructions.reconstruction_grid(
          encode_fn, decode_fn, images, max_images=max_reconstructions),
      "kl_per_latent": kl_chart.kl_bar_chart(kl),
      "kl": kl,
  }


def write_image_summaries(writer, step, encode_fn, decode_fn, images,
                          **picture_kwargs):
  """Writes the traversal, reconstruction and KL pictures to TensorBoard.

  Summary names: images/traversal, images/reconstructions,
  images/kl_per_latent (IMAGES tab).

  Args:
    writer: a tf.summary writer (e.g. the run's model_dir/train writer).
    step: int, the global step.
    encode_fn, decode_fn, images, **picture_kwargs: see ``make_pictures``.

  Returns:
    the dict of ``make_pictures``.
  """
  pictures = make_pictures(encode_fn, decode_fn, images, **picture_kwargs)
  with writer.as_default(step=int(step)):
    for name in ("traversal", "reconstructions", "kl_per_latent"):
      tf.summary.image(f"images/{name}", pictures[name][None], step=int(step))
    writer.flush()
  logging.info("wrote image summaries at step %d", int(step))
  return pictures


def write_image_files(model_dir, encode_fn, decode_fn, images,
                      ground_truth=None, gif_inputs=3, gif_frames=20,
                      random_state=None, samples_per_value=16,
                      **picture_kwargs):
  """Writes the pictures as files into ``model_dir``.

  Files: traversal.png, traversal.gif (animated, ``gif_inputs`` inputs),
  reconstructions.png, kl_per_latent.png, and factor_response.png when a
  ground truth is given.

  Args:
    model_dir: str, output directory (created if needed).
    encode_fn, decode_fn, images, **picture_kwargs: see ``make_pictures``.
    ground_truth: optional ground-truth object (tf_betavae.data.ground_truth)
      for the factor-response plot.
    gif_inputs: int, inputs animated in the GIF (the first ones of images).
    gif_frames: int, frames of the forward half of the GIF's sweep.
    random_state: np.random.RandomState for the factor-response sample;
      default RandomState(0).
    samples_per_value: images per factor value of the factor-response plot.

  Returns:
    dict name -> path written ('traversal', 'traversal_gif',
    'reconstructions', 'kl_per_latent', maybe 'factor_response').
  """
  os.makedirs(model_dir, exist_ok=True)
  images = np.asarray(images, np.float32)
  pictures = make_pictures(encode_fn, decode_fn, images, **picture_kwargs)
  paths = {
      "traversal": image_utils.write_png(
          pictures["traversal"], os.path.join(model_dir, TRAVERSAL_PNG)),
      "reconstructions": image_utils.write_png(
          pictures["reconstructions"],
          os.path.join(model_dir, RECONSTRUCTIONS_PNG)),
      "kl_per_latent": image_utils.write_png(
          pictures["kl_per_latent"], os.path.join(model_dir, KL_PNG)),
  }
  frames = traversals.traversal_animation(
      encode_fn, decode_fn, images, indices=range(min(gif_inputs,
                                                      len(images))),
      num_frames=gif_frames, limit=picture_kwargs.get(
          "limit", traversals.DEFAULT_LIMIT),
      absolute=picture_kwargs.get("absolute", False), kl=pictures["kl"],
      max_latents=picture_kwargs.get("max_latents"))
  paths["traversal_gif"] = image_utils.write_gif(
      frames, os.path.join(model_dir, TRAVERSAL_GIF))
  if ground_truth is not None:
    response = factor_response.compute_factor_response(
        encode_fn, ground_truth, random_state or np.random.RandomState(0),
        samples_per_value=samples_per_value)
    paths["factor_response"] = image_utils.write_png(
        factor_response.factor_response_plot(
            response, max_latents=picture_kwargs.get("max_latents")),
        os.path.join(model_dir, FACTOR_RESPONSE_PNG))
  logging.info("wrote pictures to %s: %s", model_dir,
               ", ".join(os.path.basename(p) for p in paths.values()))
  return paths
