"""Sources: a live model, its checkpoint and its export draw the same."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import export
from tf_betavae import io_utils
from tf_betavae import training
from tf_betavae.models import latent_stats
from tf_betavae.visualize import sources
from tf_betavae.visualize import summaries


def make_run(root, latent_dim=3):
  """A run directory and an export of an untrained model (no training).

  Returns:
    (model, model_dir, export version dir).
  """
  config = training.TrainConfig(latent_dim=latent_dim, steps=1, seed=5)
  model = training.build_model(config, (64, 64, 1))
  model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
  model.optimizer.build(model.trainable_variables)
  model_dir = os.path.join(root, "model")
  os.makedirs(model_dir)
  io_utils.write_json_atomic(
      os.path.join(model_dir, training.RUN_CONFIG_FILE), config.to_dict())
  tf.train.CheckpointManager(
      training.make_checkpoint(model),
      os.path.join(model_dir, training.CHECKPOINT_SUBDIR), 1).save(1)
  export_path = export.export_model(
      model, os.path.join(root, "exported"),
      metadata=export.training_metadata(config, 1))
  return model, model_dir, export_path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  return make_run(str(tmp_path_factory.mktemp("run")))


def test_three_sources_agree(run):
  model, model_dir, export_path = run
  images = summaries.sample_images("dsprites", 5, seed=2)
  latents = np.random.RandomState(0).randn(4, 3).astype(np.float32)
  live = sources.from_model(model)
  restored = sources.from_model_dir(model_dir)
  exported = sources.from_export(os.path.dirname(export_path))  # model folder
  assert restored.dataset == exported.dataset == "dsprites"
  assert exported.path == export_path and restored.path == model_dir
  for source in (live, restored, exported):
    assert source.latent_dim == 3 and source.image_shape == (64, 64, 1)
  mean, log_variance = live.encode_fn(images)
  assert mean.shape == log_variance.shape == (5, 3)
  assert mean.dtype == np.float32
  decoded = live.decode_fn(latents)
  assert decoded.shape == (4, 64, 64, 1)
  for other in (restored, exported):
    m, lv = other.encode_fn(images)
    np.testing.assert_allclose(m, mean, atol=1e-4)
    np.testing.assert_allclose(lv, log_variance, atol=1e-4)
    np.testing.assert_allclose(other.decode_fn(latents), decoded, atol=1e-4)
  assert sources.from_path(model_dir).description.startswith("run")
  assert sources.from_path(export_path).description.startswith("export")


def test_batching_splits_calls(run):
  model = run[0]
  images = summaries.sample_images("dsprites", 7, seed=3)
  whole = sources.from_model(model).encode_fn(images)[0]
  sliced = sources.from_model(model, batch_size=3).encode_fn(images)[0]
  np.testing.assert_allclose(sliced, whole, atol=1e-5)


def test_bad_paths(tmp_path):
  with pytest.raises(FileNotFoundError):
    sources.from_path(str(tmp_path))
  with pytest.raises(FileNotFoundError):
    sources.from_model_dir(str(tmp_path))


def test_kl_closed_form():
  kl = latent_stats.kl_per_latent([[0.0, 1.0], [0.0, 3.0]],
                             [[0.0, 0.0], [np.log(4.0), 0.0]])
  # latent 0: 0 and 0.5 * (4 - log 4 - 1); latent 1: 0.5 and 4.5.
  np.testing.assert_allclose(kl, [0.25 * (3 - np.log(4.0)), 2.5])
