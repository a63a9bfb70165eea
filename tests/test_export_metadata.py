"""The export metadata's layout (version 2: the method and its own
hyperparameters) and the reading of version-1 exports."""

import copy
import os

import pytest

from tf_betavae import export
from tf_betavae import io_utils
from tf_betavae import training
from tf_betavae.experiments import model_loading
from tf_betavae.visualize import sources

# Version 1's top-level method settings, which version 2 never has.
_VERSION_1_SETTINGS = {"objective", "beta", "beta_hold_steps",
                       "beta_warmup_steps", "gamma", "capacity_max",
                       "capacity_steps"}

# Each method with settings off their defaults, and what its export must
# record under "hyperparameters": its own settings, nothing else.
_METHOD_CASES = {
    "beta_vae": (dict(beta=6.0, beta_hold_steps=1, beta_warmup_steps=2),
                 {"beta": 6.0, "beta_hold_steps": 1, "beta_warmup_steps": 2},
                 "dsprites_beta6"),
    "annealed_vae": (dict(gamma=500.0, capacity_max=20.0,
                          capacity_steps=50),
                     {"gamma": 500.0, "capacity_max": 20.0,
                      "capacity_steps": 50},
                     "dsprites_capacity20"),
    "factor_vae": (dict(factor_gamma=35.0, discriminator_learning_rate=2e-4),
                   {"factor_gamma": 35.0,
                    "discriminator_learning_rate": 2e-4},
                   "dsprites_factor_vae_gamma35"),
    "dip_vae_i": (dict(lambda_od=5.0),
                  {"lambda_od": 5.0, "lambda_d_factor": 10.0},
                  "dsprites_dip_vae_i_lambda_od5"),
    "dip_vae_ii": (dict(lambda_od=2.0, lambda_d_factor=3.0),
                   {"lambda_od": 2.0, "lambda_d_factor": 3.0},
                   "dsprites_dip_vae_ii_lambda_od2"),
    "beta_tc_vae": (dict(beta=6.0), {"beta": 6.0},
                    "dsprites_beta_tc_vae_beta6"),
}

# exported/dsprites/2's metadata file as shipped in version 1 (a FactorVAE
# recorded with the β-VAE's objective and a null β); its long "selection"
# entry is cut to a few fields, which the upgrade keeps as they are.
_SHIPPED_2_VERSION_1 = {
    "arch": "conv", "batch_size": 64, "beta": None, "capacity_max": None,
    "capacity_steps": None, "dataset": "dsprites", "gamma": None,
    "hyperparameters": {"discriminator_learning_rate": 0.0001,
                        "factor_gamma": 35.0, "method": "factor_vae"},
    "image_shape": [64, 64, 1], "latent_dim": 8, "learning_rate": 0.001,
    "likelihood": "bernoulli", "lr_decay": "constant", "lr_warmup_steps": 0,
    "method": "factor_vae",
    "metrics": {
        "beta_vae": {"dataset": "dsprites", "protocol": "disentanglement_lib",
                     "score": 0.8848, "seed": 1},
        "beta_vae:paper": {"dataset": "dsprites", "protocol": "paper",
                           "score": 1.0, "seed": 1},
        "dci": {"dataset": "dsprites", "score": 0.41513195821108, "seed": 1},
        "factor_vae": {"dataset": "dsprites", "score": 0.7896, "seed": 1},
        "mig": {"dataset": "dsprites", "score": 0.37088609744253564,
                "seed": 1},
        "sap": {"dataset": "dsprites", "score": 0.05516, "seed": 1}},
    "model_name": "dsprites", "objective": "H", "package_version": "0.1.0",
    "seed": 1,
    "selection": {
        "command": "python scripts/reproduce.py --preset=select_factor_vae "
                   "--work_dir=runs/select_fv8",
        "criterion": "udr_spearman", "label": "FactorVAE (\u03b3 = 35)",
        "model": "factor_vae", "picked_seed": 1,
        "preset": "select_factor_vae", "steps": 20000,
        "udr_spearman": 0.5573537136908682},
    "settings_changes": [],
    "signatures": ["serving_default", "encode", "decode", "reconstruct"],
    "training_steps": 20000, "version": 2,
}

# exported/dsprites/1's metadata file as shipped in version 1: written
# before --method existed (the objective names the method) and before the
# KL warm-up.
_SHIPPED_1_VERSION_1 = {
    "arch": "conv", "batch_size": 64, "beta": 8.0, "capacity_max": None,
    "capacity_steps": None, "dataset": "dsprites", "gamma": None,
    "image_shape": [64, 64, 1], "latent_dim": 10, "learning_rate": 0.001,
    "likelihood": "bernoulli",
    "metrics": {"mig": {"dataset": "dsprites",
                        "score": 0.33421053187778643, "seed": 0}},
    "model_name": "dsprites", "objective": "H", "package_version": "0.1.0",
    "seed": 0,
    "signatures": ["serving_default", "encode", "decode", "reconstruct"],
    "training_command": "python scripts/export.py --model_dir=runs/b8 "
                        "--export_dir=exported --model_name=dsprites "
                        "--version=1",
    "training_steps": 20000, "version": 1,
}


def _read_asset(export_dir):
  return io_utils.read_json(os.path.join(export_dir, "assets",
                                         export.METADATA_FILENAME))


@pytest.mark.parametrize("method", sorted(_METHOD_CASES))
def test_new_export_records_only_its_methods_hyperparameters(method,
                                                             tmp_path):
  settings, expected, model_name = _METHOD_CASES[method]
  config = training.TrainConfig(method=method, arch="mlp", latent_dim=2,
                                **settings)
  config.validate()
  model = training.build_model(config, (8, 8, 1))
  path = export.export_model(
      model, str(tmp_path),
      metadata=export.training_metadata(config, steps=10))
  # The default model name still names the method and its value.
  assert path == os.path.join(str(tmp_path), model_name, "1")
  stored = _read_asset(path)
  assert stored["method"] == method
  assert stored["hyperparameters"] == expected
  assert stored["metadata_version"] == export.METADATA_VERSION == 2
  assert not _VERSION_1_SETTINGS & set(stored)
  # Version 2 is read as stored.
  assert export.read_metadata(path) == stored


def test_version_1_factor_vae_is_upgraded_to_its_method():
  original = copy.deepcopy(_SHIPPED_2_VERSION_1)
  upgraded = export.upgrade_metadata(_SHIPPED_2_VERSION_1)
  assert _SHIPPED_2_VERSION_1 == original  # the input is not changed
  assert upgraded["metadata_version"] == 2
  assert upgraded["method"] == "factor_vae"
  assert upgraded["hyperparameters"] == {
      "factor_gamma": 35.0, "discriminator_learning_rate": 0.0001}
  assert not _VERSION_1_SETTINGS & set(upgraded)
  # Every other field is kept as it was.
  kept = set(original) - _VERSION_1_SETTINGS - {"hyperparameters"}
  assert {k: upgraded[k] for k in kept} == {k: original[k] for k in kept}
  assert set(upgraded) == kept | {"hyperparameters", "metadata_version"}
  assert export.upgrade_metadata(upgraded) == upgraded


def test_version_1_before_methods_gets_its_method_from_the_objective():
  upgraded = export.upgrade_metadata(_SHIPPED_1_VERSION_1)
  assert upgraded["method"] == "beta_vae"
  # It predates the KL warm-up: β from the first step.
  assert upgraded["hyperparameters"] == {
      "beta": 8.0, "beta_hold_steps": 0, "beta_warmup_steps": 0}
  annealed = export.upgrade_metadata(dict(
      _SHIPPED_1_VERSION_1, objective="B", beta=4.0, gamma=1000.0,
      capacity_max=25.0, capacity_steps=100000))
  assert annealed["method"] == "annealed_vae"
  assert annealed["hyperparameters"] == {
      "gamma": 1000.0, "capacity_max": 25.0, "capacity_steps": 100000}
  # Metadata that names no method (a bare asset) gains none.
  assert export.upgrade_metadata({"dataset": "dsprites"}) == {
      "dataset": "dsprites", "metadata_version": 2}


@pytest.fixture(scope="module")
def small_export(tmp_path_factory):
  """A real export of a small model (its asset is replaced by the tests)."""
  config = training.TrainConfig(method="factor_vae", arch="mlp",
                                latent_dim=2, factor_gamma=35.0)
  model = training.build_model(config, (8, 8, 1))
  return export.export_model(
      model, str(tmp_path_factory.mktemp("exported")), model_name="m",
      metadata=export.training_metadata(config, steps=10))


@pytest.mark.parametrize("stored", [
    _SHIPPED_2_VERSION_1, _SHIPPED_1_VERSION_1,
    export.upgrade_metadata(_SHIPPED_2_VERSION_1)],
                         ids=["v1_factor_vae", "v1_before_methods", "v2"])
def test_every_reader_reads_both_versions(stored, small_export):
  io_utils.write_json_atomic(
      os.path.join(small_export, "assets", export.METADATA_FILENAME), stored)
  expected = export.upgrade_metadata(stored)
  assert expected["metadata_version"] == 2
  assert export.read_metadata(small_export) == expected
  assert export.describe(os.path.dirname(small_export))["metadata"] == (
      expected)
  assert model_loading.LoadedModel(small_export).metadata == expected
  assert sources.from_export(small_export).dataset == "dsprites"
  # Recording scores rewrites only the scores: the file keeps its version.
  returned = export.record_metric_scores(
      small_export, {"mig": {"score": 0.5, "seed": 3}})
  on_disk = _read_asset(small_export)
  assert on_disk == dict(stored, metrics=dict(stored["metrics"],
                                              mig={"score": 0.5, "seed": 3}))
  assert returned == export.upgrade_metadata(on_disk)

