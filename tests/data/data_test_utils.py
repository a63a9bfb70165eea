"""Shared helpers of the dataset tests (no downloads anywhere)."""

import importlib.util
import os
import sys

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TRAIN = os.path.join(REPO_ROOT, "scripts", "train.py")


def train_script():
  """scripts/train.py imported once per process (absl flags are global).

  Loaded under the module name tests/scripts/test_train_cli.py uses, so a
  second load in the same pytest process re-registers the same flags.
  """
  if "train_script" in sys.modules:
    return sys.modules["train_script"]
  spec = importlib.util.spec_from_file_location("train_script", TRAIN)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  sys.modules["train_script"] = module
  return module


def run_train(args):
  """Runs train.py's main in-process (so tfds mocks apply).

  Returns:
    int exit code (0 on success).
  """
  script = train_script()
  script.FLAGS.unparse_flags()
  code = 0
  try:
    argv = script._parse_flags(["train.py"] + list(args))  # pylint: disable=protected-access
    script.main(argv)
  except SystemExit as e:
    code = e.code
  finally:
    script.FLAGS.unparse_flags()
  return code


QUICK_TRAIN = ["--steps=2", "--batch_size=4", "--log_every=1",
               "--checkpoint_every=2", "--export_dir=", "--latent_dim=3"]


def official_dsprites_subset(factors):
  """Official-layout arrays for given dSprites factor rows.

  Images come from the simulator, so a row's image is the image of its
  factors; latents_classes has the official six columns (color first).

  Args:
    factors: int np.ndarray [N, 5] (shape, scale, orientation, pos_x, pos_y).

  Returns:
    dict of np.ndarrays with the official keys and dtypes.
  """
  from tf_betavae.data import dsprites_simulator  # pylint: disable=g-import-not-at-top
  factors = np.asarray(factors, np.int64)
  sim = dsprites_simulator.DSpritesSimulator()
  imgs = sim.sample_observations_from_factors(factors)[..., 0].astype(np.uint8)
  classes = np.concatenate([np.zeros((len(factors), 1), np.int64), factors],
                           axis=1)
  values = dsprites_simulator.factor_values()
  latent_values = np.stack(
      [np.ones(len(factors))] +
      [values[n][factors[:, i]] for i, n in enumerate(
          dsprites_simulator.FACTOR_NAMES)], axis=1)
  latent_values[:, 1] += 1  # the official shape values are 1, 2, 3
  metadata = np.array({"description": "test subset",
                       "latents_sizes": np.array([1, 3, 6, 40, 32, 32])},
                      dtype=object)
  return {"imgs": imgs, "latents_classes": classes,
          "latents_values": latent_values, "metadata": metadata}


def read_json(path):
  import json  # pylint: disable=g-import-not-at-top
  with open(path) as f:
    return json.load(f)


def write_png(path, image):
  """Writes uint8 [H, W, C] as a PNG; returns the path as str."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.io.write_file(str(path), tf.io.encode_png(np.asarray(image, np.uint8)))
  return str(path)


def stream_batches(name, count, seed=0, start_batch=0, batch_size=8,
                   **kwargs):
  """The first ``count`` batches of a registered training stream.

  Returns:
    list of float32 np.ndarray [batch_size, H, W, C].
  """
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  dataset, shape = data.training_dataset(name, batch_size, seed,
                                         start_batch=start_batch, **kwargs)
  batches = [b.numpy() for b in dataset.take(count)]
  assert batches[0].shape == (batch_size,) + tuple(shape)
  assert tuple(shape) == data.image_shape(name)
  return batches


def check_seeded_and_resumable(name, **kwargs):
  """Same seed: same batches; another seed: others; start_batch=k: the
  batches from k on.  Returns the first five batches of seed 0."""
  run = stream_batches(name, 5, **kwargs)
  np.testing.assert_array_equal(run[0], stream_batches(name, 1, **kwargs)[0])
  assert not np.array_equal(run[0], run[1])
  assert not np.array_equal(run[0],
                            stream_batches(name, 1, seed=1, **kwargs)[0])
  resumed = stream_batches(name, 2, start_batch=3, **kwargs)
  np.testing.assert_array_equal(run[3], resumed[0])
  np.testing.assert_array_equal(run[4], resumed[1])
  return run


def check_cheap_metric(gt):
  """MIG with small sizes on a trivial representation (a few pixels) runs,
  scores in [0, 1] and repeats for the same random state."""
  from tf_betavae import metrics  # pylint: disable=g-import-not-at-top

  def pixels(images):
    return images.reshape(len(images), -1)[:, ::997]

  first = metrics.run_metric("mig", gt, pixels, np.random.RandomState(0),
                             num_train=100)
  assert 0.0 <= first["score"] <= 1.0
  again = metrics.run_metric("mig", gt, pixels, np.random.RandomState(0),
                             num_train=100)
  assert again["score"] == first["score"]
  return first


def check_no_code_table(gt):
  """A ground truth with random observations is never tabulated."""
  import pytest  # pylint: disable=g-import-not-at-top
  from tf_betavae import metrics  # pylint: disable=g-import-not-at-top

  def pixels(images):
    return images.reshape(len(images), -1)[:, ::997]

  fn, info = metrics.prepare_representation(gt, pixels, ["mig"],
                                            num_train=10**7)
  assert fn is pixels and not info["used"]
  with pytest.raises(metrics.CodeTableError):
    metrics.prepare_representation(gt, pixels, ["mig"], code_table="always")


def check_two_training_steps(dataset, model_dir, **settings):
  """Two steps of the default method through training.train (no export,
  no hooks); returns its summary."""
  from tf_betavae.training import config as config_lib  # pylint: disable=g-import-not-at-top
  from tf_betavae.training import loop  # pylint: disable=g-import-not-at-top
  config = config_lib.TrainConfig(dataset=dataset, steps=2, batch_size=4,
                                  latent_dim=3, log_every=1,
                                  checkpoint_every=2, image_summary_every=0,
                                  **settings)
  summary = loop.train(config, str(model_dir), export_dir=None, hooks=[])
  assert summary["step"] == 2
  assert np.isfinite(summary["metrics"]["loss"])
  return summary
