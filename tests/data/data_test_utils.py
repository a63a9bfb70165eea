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
