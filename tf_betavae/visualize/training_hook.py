"""The pictures of a training run, as a hook of tf_betavae.training.

Every ``image_summary_every`` steps (and at the last step) the traversal,
reconstruction and KL pictures of the live model go to TensorBoard; at the
end of an invocation that trained, the same pictures (plus the animated
traversal and, on ground-truth datasets, the factor response) are written
as files into model_dir.  Only the chief draws.  Drawing is best effort: a
failure is logged and training goes on.

``tf_betavae.training.hooks.DEFAULT_HOOKS`` names ``PicturesHook``, so
``training.train`` draws these pictures unless given other hooks.
"""

from absl import logging

from tf_betavae import data as data_lib
from tf_betavae.training import hooks
from tf_betavae.visualize import sources
from tf_betavae.visualize import summaries


class PicturesHook(hooks.Hook):
  """Draws the live model's pictures during and after training."""

  def __init__(self):
    self._run = None
    self._source = None
    self._images = None
    self._data = None

  def on_start(self, run):
    if run.is_chief:
      self._run = run
      # The run's own data (the official file, the scream picture, the
      # tfds data_dir), not the dataset's default place.
      self._data = data_lib.source_of(run.config)
      self._source = sources.from_model(run.model, dataset=run.config.dataset,
                                        data=self._data)

  def _sample_images(self):
    if self._images is None:
      self._images = summaries.sample_images(
          self._data, summaries.DEFAULT_NUM_IMAGES, seed=self._run.config.seed)
    return self._images

  def on_step(self, step, logs):
    config = self._run.config if self._run else None
    if (config is None or not config.image_summary_every or
        (step % config.image_summary_every and step < config.steps)):
      return
    try:
      summaries.write_image_summaries(
          self._run.writer, step, self._source.encode_fn,
          self._source.decode_fn, self._sample_images())
      self._run.writer.flush()
    except Exception as e:  # pylint: disable=broad-except
      logging.warning("image summaries at step %d failed: %s", step, e)

  def on_end(self, step, trained):
    if self._run is None or not trained:
      return
    try:
      summaries.write_image_files(
          self._run.model_dir, self._source.encode_fn, self._source.decode_fn,
          self._sample_images(),
          ground_truth=summaries.ground_truth_or_none(self._data))
    except Exception as e:  # pylint: disable=broad-except
      logging.warning("writing the pictures into %s failed: %s",
                      self._run.model_dir, e)
