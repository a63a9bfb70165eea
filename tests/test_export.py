"""SavedModel export: layout, signatures, metadata, loading without us."""

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap

from absl import logging as absl_logging
import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import export
from tf_betavae import models
from tf_betavae import training

# Runs in a fresh interpreter that never imports tf_betavae (or TFP): the
# way TF Serving users and downstream code load an export.
_FRESH_LOADER = textwrap.dedent("""
    import sys, json
    import numpy as np
    import tensorflow as tf
    path, out = sys.argv[1], sys.argv[2]
    loaded = tf.saved_model.load(path)
    rng = np.random.RandomState(0)
    images = tf.constant(rng.uniform(size=(5, 64, 64, 1)), tf.float32)
    latents = tf.constant(rng.normal(size=(5, 10)), tf.float32)
    results = {"signatures": sorted(loaded.signatures.keys())}
    arrays = {}
    for name, arg in (("serving_default", {"images": images}),
                      ("encode", {"images": images}),
                      ("decode", {"latents": latents}),
                      ("reconstruct", {"images": images})):
      outputs = loaded.signatures[name](**arg)
      results[name] = {k: list(v.shape) for k, v in outputs.items()}
      for k, v in outputs.items():
        arrays[name + "/" + k] = v.numpy()
    try:
      loaded.signatures["serving_default"](
          images=tf.zeros([1, 32, 32, 1], tf.float32))
      results["wrong_shape"] = "accepted"
    except Exception as e:  # the error must name the expected shape
      results["wrong_shape"] = str(e)
    results["modules"] = sorted(
        m for m in sys.modules if m.startswith(("tf_betavae",
                                                "tensorflow_probability")))
    np.savez(out + ".npz", images=images.numpy(), latents=latents.numpy(),
             **arrays)
    json.dump(results, open(out + ".json", "w"))
""")


def _env():
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("PYTHONPATH", None)
  return env


@pytest.fixture(scope="module")
def fresh_load(tiny_run, tmp_path_factory):
  out = str(tmp_path_factory.mktemp("fresh") / "result")
  script = out + "_loader.py"
  with open(script, "w") as f:
    f.write(_FRESH_LOADER)
  # Run from a directory without the package so it cannot be imported.
  result = subprocess.run(
      [sys.executable, script, tiny_run["summary"]["export_path"], out],
      capture_output=True, text=True, timeout=300,
      cwd=os.path.dirname(out), env=_env())
  assert result.returncode == 0, result.stderr[-3000:]
  with open(out + ".json") as f:
    return json.load(f), dict(np.load(out + ".npz"))


def test_fresh_process_loads_all_signatures(fresh_load):
  results, arrays = fresh_load
  assert results["modules"] == []
  assert set(export.SIGNATURES) <= set(results["signatures"])
  assert results["serving_default"] == {"latent_mean": [5, 10]}
  assert results["encode"] == {"mean": [5, 10], "log_variance": [5, 10]}
  assert results["decode"] == {"images": [5, 64, 64, 1]}
  assert results["reconstruct"] == {"images": [5, 64, 64, 1]}
  for key in ("decode/images", "reconstruct/images"):
    assert arrays[key].min() >= 0.0 and arrays[key].max() <= 1.0
  assert "64,64,1" in results["wrong_shape"].replace(" ", ""), results[
      "wrong_shape"]


def test_exported_outputs_equal_the_in_memory_model(tiny_run, fresh_load):
  _, arrays = fresh_load
  model, _ = training.restore_model(tiny_run["model_dir"])
  mean, log_variance = model.encode(arrays["images"])
  np.testing.assert_allclose(arrays["serving_default/latent_mean"], mean,
                             atol=1e-5)
  np.testing.assert_allclose(arrays["encode/mean"], mean, atol=1e-5)
  np.testing.assert_allclose(arrays["encode/log_variance"], log_variance,
                             atol=1e-5)
  np.testing.assert_allclose(arrays["decode/images"],
                             model.decode(arrays["latents"]), atol=1e-5)
  np.testing.assert_allclose(arrays["reconstruct/images"],
                             model(arrays["images"]), atol=1e-5)


def test_saved_model_cli_show_and_run(tiny_run, tmp_path):
  cli = shutil.which("saved_model_cli")
  if cli is None:
    pytest.skip("saved_model_cli is not on PATH")
  path = tiny_run["summary"]["export_path"]
  shown = subprocess.run([cli, "show", "--dir", path, "--all"],
                         capture_output=True, text=True, timeout=300,
                         env=_env())
  assert shown.returncode == 0, shown.stderr[-2000:]
  for name in export.SIGNATURES:
    assert f"signature_def['{name}']" in shown.stdout
  images = np.random.RandomState(1).uniform(size=(3, 64, 64, 1))
  np.save(tmp_path / "x.npy", images.astype(np.float32))
  ran = subprocess.run(
      [cli, "run", "--dir", path, "--tag_set", "serve", "--signature_def",
       "serving_default", "--inputs", f"images={tmp_path}/x.npy",
       "--outdir", str(tmp_path / "out")],
      capture_output=True, text=True, timeout=300, env=_env())
  assert ran.returncode == 0, ran.stderr[-2000:]
  latent_mean = np.load(tmp_path / "out" / "latent_mean.npy")
  assert latent_mean.shape == (3, 10) and np.all(np.isfinite(latent_mean))


def test_tfsm_layer_inside_a_new_keras_model(tiny_run):
  import keras  # pylint: disable=g-import-not-at-top
  features = keras.layers.TFSMLayer(tiny_run["summary"]["export_path"],
                                    call_endpoint="serving_default")
  features.trainable = False  # a frozen feature extractor
  inputs = keras.Input((64, 64, 1))
  latent = features(inputs)["latent_mean"]
  outputs = keras.layers.Dense(3, activation="softmax")(latent)
  model = keras.Model(inputs, outputs)
  predictions = model(np.zeros((2, 64, 64, 1), np.float32))
  assert predictions.shape == (2, 3)
  # Only the new head trains; the encoder's weights came through.
  assert len(model.trainable_weights) == 2
  assert len(features.non_trainable_weights) >= 12


def test_metadata_describes_the_run(tiny_run):
  metadata = export.read_metadata(tiny_run["summary"]["export_path"])
  assert metadata["latent_dim"] == 10
  assert metadata["image_shape"] == [64, 64, 1]
  assert metadata["likelihood"] == "bernoulli"
  assert metadata["method"] == "beta_vae"
  assert metadata["hyperparameters"] == {
      "beta": 1.0, "beta_hold_steps": 0, "beta_warmup_steps": 0}
  assert metadata["metadata_version"] == export.METADATA_VERSION
  assert metadata["dataset"] == "dsprites"
  assert metadata["training_steps"] == 300 and metadata["seed"] == 3
  assert metadata["package_version"]
  assert metadata["signatures"] == list(export.SIGNATURES)


def test_versions_overwrite_and_clean_layout(tiny_run, tmp_path):
  model, config = training.restore_model(tiny_run["model_dir"])
  meta = export.training_metadata(config, 300)
  first = export.export_model(model, str(tmp_path), metadata=meta)
  second = export.export_model(model, str(tmp_path), metadata=meta)
  assert first.endswith(os.path.join("dsprites_beta1", "1"))
  assert second.endswith(os.path.join("dsprites_beta1", "2"))
  with pytest.raises(export.ExportError, match="already exists"):
    export.export_model(model, str(tmp_path), version=1, metadata=meta)
  export.export_model(model, str(tmp_path), version=1, overwrite=True,
                      metadata=meta)
  # Nothing but integer versions: no staging leftovers for TF Serving to see.
  assert sorted(os.listdir(tmp_path / "dsprites_beta1")) == ["1", "2"]
  with pytest.raises(export.ExportError, match="positive integer"):
    export.export_model(model, str(tmp_path), version=0, metadata=meta)


def test_failed_export_leaves_no_version_directory(tiny_run, tmp_path,
                                                   monkeypatch):
  model, _ = training.restore_model(tiny_run["model_dir"])

  def broken_save(*args, **kwargs):
    raise OSError("disk full")
  monkeypatch.setattr(tf.saved_model, "save", broken_save)
  with pytest.raises(OSError, match="disk full"):
    export.export_model(model, str(tmp_path), model_name="m")
  assert os.listdir(tmp_path / "m") == []


def test_default_model_names():
  assert export.default_model_name("dsprites", "H", 4.0) == "dsprites_beta4"
  assert export.default_model_name("celeb_a", "H", 250) == "celeb_a_beta250"
  assert export.default_model_name("dsprites", "B", 4.0,
                                   25.0) == "dsprites_capacity25"
  assert export.default_model_name("folder:/data/chairs", "H",
                                   2.5) == "folder_beta2.5"


def test_export_logs_no_signature_renaming_notices(tmp_path, caplog):
  """TensorFlow's "unsupported characters" INFO notices are silenced during
  the save only: the same notice logged afterwards still comes through."""
  model = models.build_model("mlp", latent_dim=2, image_shape=(8, 8, 1))
  control = ("Function `f` contains input name(s) x with unsupported "
             "characters which will be renamed to y in the SavedModel.")
  verbosity = absl_logging.get_verbosity()
  absl_logging.set_verbosity(absl_logging.INFO)
  try:
    with caplog.at_level(logging.INFO):
      export.export_model(model, str(tmp_path), model_name="m")
      absl_logging.info(control)
  finally:
    absl_logging.set_verbosity(verbosity)
  notices = [r.getMessage() for r in caplog.records
             if "unsupported characters" in r.getMessage()]
  assert notices == [control]
