"""Named training settings: the study preset, with any --method, as
scripts/train.py turns its flags into a TrainConfig."""

import importlib.util
import os
import sys

import pytest

from tf_betavae.models import methods as methods_lib
from tf_betavae.training import command
from tf_betavae.training import presets

TRAIN = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "scripts", "train.py")
# disentanglement_lib's unsupervised_study_v1: every method and dataset.
STUDY = {"batch_size": 64, "learning_rate": 1e-4, "steps": 300000,
         "latent_dim": 10, "arch": "conv", "likelihood": "bernoulli"}


@pytest.fixture(scope="module")
def train_script():
  """scripts/train.py imported once (absl flags are process-global; the
  module is shared with the other tests that import it)."""
  if "train_script" in sys.modules:
    return sys.modules["train_script"]
  spec = importlib.util.spec_from_file_location("train_script", TRAIN)
  module = importlib.util.module_from_spec(spec)
  sys.modules["train_script"] = module
  spec.loader.exec_module(module)
  return module


def _config(train_script, args):
  """The TrainConfig train.py builds from ``args``."""
  flag_values = train_script.FLAGS
  flag_values.unparse_flags()
  try:
    train_script._parse_flags(["train.py"] + args)  # pylint: disable=protected-access
    return command.config_from_flags(flag_values)
  finally:
    flag_values.unparse_flags()


def test_study_preset_holds_the_study_training_settings():
  study = presets.PRESETS["study"]
  assert {k: study[k] for k in STUDY} == STUDY
  # It names no method, no dataset and no hyperparameter value.
  assert not set(study) & ({"dataset", "method", "objective"}
                           | set(methods_lib.METHOD_SETTINGS))
  assert "study: arch=conv, batch_size=64" in presets.describe()


@pytest.mark.parametrize("method", methods_lib.METHOD_NAMES)
def test_study_preset_trains_any_method(train_script, method):
  hyperparameter = methods_lib.METHODS[method].hyperparameter
  value = methods_lib.METHODS[method].study_grid[1]
  config = _config(train_script, ["--preset=study", f"--method={method}",
                                  f"--{hyperparameter}={value}"])
  for name, expected in STUDY.items():
    assert getattr(config, name) == expected, name
  assert config.method == method
  assert getattr(config, hyperparameter) == value
  config.validate()


def test_explicit_flags_override_the_study_preset(train_script):
  config = _config(train_script, ["--preset=study", "--method=factor_vae",
                                  "--steps=7", "--latent_dim=6"])
  assert (config.steps, config.latent_dim) == (7, 6)
  assert (config.learning_rate, config.batch_size) == (1e-4, 64)
  assert config.checkpoint_every == 5000


@pytest.mark.parametrize("args", [["--method=annealed_vae"],
                                  ["--objective=B"],
                                  ["--preset=cpu", "--method=annealed_vae"],
                                  ["--preset=paper", "--objective=B"]])
def test_annealed_vae_trains_at_its_own_rate_unless_one_is_given(
    train_script, args):
  config = _config(train_script, args)
  assert config.method == "annealed_vae"
  assert config.learning_rate == methods_lib.ANNEALED_VAE_LEARNING_RATE
  given = _config(train_script, args + ["--learning_rate=1e-3"])
  assert given.learning_rate == 1e-3


def test_the_other_methods_keep_the_dataset_and_preset_rates(train_script):
  assert _config(train_script, []).learning_rate == (
      presets.CPU_RECIPE["learning_rate"])
  assert _config(train_script, ["--method=factor_vae"]).learning_rate == (
      presets.CPU_RECIPE["learning_rate"])
  assert _config(train_script, ["--preset=paper"]).learning_rate == (
      presets.PRESETS["paper"]["learning_rate"])


def test_train_and_reproduce_share_the_cpu_recipe(train_script):
  # scripts/train.py's default run and reproduce.py's cpu preset are one
  # recipe: a run trained by either lands in the other's run name.
  from tf_betavae.experiments import settings as settings_lib  # pylint: disable=g-import-not-at-top
  default = _config(train_script, [])
  recipe = settings_lib.Recipe()
  for name in ("beta", "learning_rate", "latent_dim", "arch"):
    assert getattr(default, name) == presets.CPU_RECIPE[name], name
    assert getattr(recipe, name) == presets.CPU_RECIPE[name], name
  assert _config(train_script, ["--latent_dim=10"]).latent_dim == 10
  assert _config(train_script, ["--arch=conv"]).arch == "conv"
  # The study preset's conv architecture wins over the dataset default.
  assert _config(train_script, ["--preset=study"]).arch == "conv"


def test_the_selection_preset_keeps_the_shipped_encoders_architecture():
  # exported/dsprites/2 was trained with the conv decoder; the preset that
  # reproduces it must keep it after the CPU recipe moved to broadcast.
  from tf_betavae.experiments import settings as settings_lib  # pylint: disable=g-import-not-at-top
  shipped = settings_lib.settings_from_preset("select_factor_vae", "unused")
  assert shipped.recipe.arch == "conv" and shipped.recipe.latent_dim == 8
  cpu = settings_lib.settings_from_preset("cpu", "unused")
  assert cpu.recipe.arch == presets.CPU_RECIPE["arch"] == "broadcast"


@pytest.fixture(scope="module")
def family_flags(tmp_path_factory):
  """Flags that make each dSprites-family dataset available: {name: args}."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  folder = tmp_path_factory.mktemp("family")
  # The settings check reads the scream picture but only the name of the
  # official file.
  official = folder / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
  official.write_bytes(b"")
  picture = folder / "picture.png"
  picture.write_bytes(tf.io.encode_png(np.random.RandomState(0).randint(
      256, size=(80, 80, 3)).astype(np.uint8)).numpy())
  return {"dsprites": [],
          "dsprites_official": [f"--dsprites_file={official}"],
          "color_dsprites": ["--dataset=color_dsprites"],
          "noisy_dsprites": ["--dataset=noisy_dsprites"],
          "scream_dsprites": ["--dataset=scream_dsprites",
                              f"--scream_image={picture}"]}


@pytest.mark.parametrize("dataset", presets.DSPRITES_FAMILY)
def test_the_dsprites_family_trains_the_cpu_recipe(train_script,
                                                   family_flags, dataset):
  # The official file and the variants hold the simulator's sprites on its
  # factor grid: leaving the simulator must not change the model.
  config = _config(train_script, family_flags[dataset])
  assert config.dataset == dataset
  for name, value in presets.CPU_RECIPE.items():
    assert getattr(config, name) == value, name
  assert (config.likelihood, config.method) == ("bernoulli", "beta_vae")
  given = _config(train_script, family_flags[dataset] + [
      "--beta=4", "--latent_dim=10", "--arch=conv", "--learning_rate=5e-4",
      "--steps=300"])
  assert (given.beta, given.latent_dim, given.arch, given.learning_rate,
          given.steps) == (4.0, 10, "conv", 5e-4, 300)
  # A preset still wins over the dataset's defaults.
  study = _config(train_script, family_flags[dataset] + ["--preset=study"])
  assert (study.arch, study.latent_dim, study.learning_rate) == (
      "conv", 10, 1e-4)
