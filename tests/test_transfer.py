"""Transfer: an exported encoder, frozen or fine-tuned, + a small head
(tf_betavae.transfer)."""

import os
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import data
from tf_betavae import export
from tf_betavae import training
from tf_betavae import transfer

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# FactorVAE, 8 latents, conv encoder: the shipped encoder fine-tuning starts
# from.
SHIPPED = os.path.join(REPO_ROOT, "exported", "dsprites", "2")


@pytest.fixture(scope="module")
def untrained_export(tmp_path_factory):
  config = training.TrainConfig(seed=3)
  model = training.build_model(config, (64, 64, 1))
  return export.export_model(model, str(tmp_path_factory.mktemp("untrained")),
                             model_name="untrained",
                             metadata={"dataset": "dsprites"})


def test_probe_freezes_the_encoder(tiny_run):
  probe = transfer.build_probe(tiny_run["summary"]["export_path"], 32)
  assert probe.output_shape == (None, 32)
  assert [w.name for w in probe.trainable_weights] == ["kernel", "bias"]
  with pytest.raises(KeyError, match="no output 'nope'"):
    transfer.build_probe(tiny_run["summary"]["export_path"], 3,
                         output_key="nope")


# A long run (a 20-epoch probe on 2,000 codes, 28 s in CI; test_transfer_script runs the probe end to end): -m slow.
@pytest.mark.slow
def test_trained_encoder_beats_untrained_on_position(untrained_export):
  # The shipped encoder (exported/dsprites/1) is the trained one.
  shipped = os.path.join(REPO_ROOT, "exported", "dsprites", "1")
  ground_truth = data.ground_truth("dsprites")
  settings = dict(num_train=2000, num_test=1000, epochs=20, seed=0,
                  hidden_units=32)
  trained = transfer.train_probe(shipped, ground_truth, "pos_x", **settings)
  untrained = transfer.train_probe(untrained_export, ground_truth, "pos_x",
                                   **settings)
  # Chance is 1/32 = 0.031; the untrained encoder stays near it.
  assert trained["chance"] == pytest.approx(1 / 32)
  assert trained["test_accuracy"] > 3 * untrained["test_accuracy"]
  assert trained["test_accuracy"] > 0.15


def test_transfer_script(tiny_run, tmp_path):
  script = os.path.join(REPO_ROOT, "scripts", "transfer.py")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  bad = subprocess.run([sys.executable, script, f"--saved_model={tmp_path}"],
                       capture_output=True, text=True, timeout=300, env=env)
  assert bad.returncode == 2 and "not a SavedModel" in bad.stderr
  ok = subprocess.run(
      [sys.executable, script,
       f"--saved_model={tiny_run['summary']['export_path']}",
       "--factor=shape", "--num_train=300", "--num_test=200", "--epochs=2"],
      capture_output=True, text=True, timeout=300, env=env)
  assert ok.returncode == 0, ok.stderr[-2000:]
  assert ok.stdout.startswith("frozen encoder, factor shape (3 classes)")
  accuracy = float(ok.stdout.split("test accuracy ")[1].split(",")[0])
  assert 0.0 <= accuracy <= 1.0 and not np.isnan(accuracy)


@pytest.fixture(scope="module")
def arch_exports(tmp_path_factory):
  """{arch: version directory} of an untrained export of each architecture,
  with the training metadata (arch, latent_dim) an export of a run has."""
  root = str(tmp_path_factory.mktemp("arch_exports"))
  paths = {}
  for arch in ("conv", "mlp", "broadcast"):
    config = training.TrainConfig(arch=arch, latent_dim=4, seed=5)
    model = training.build_model(config, (64, 64, 1))
    paths[arch] = export.export_model(
        model, root, model_name=arch,
        metadata=export.training_metadata(config, steps=0))
  return paths


@pytest.fixture(scope="module")
def keras_export(tmp_path_factory):
  """A SavedModel written by Keras' own model.export (not this package's)."""
  inputs = keras.Input((64, 64, 1))
  model = keras.Model(inputs, keras.layers.Dense(2)(
      keras.layers.Flatten()(inputs)))
  path = str(tmp_path_factory.mktemp("keras_export") / "1")
  model.export(path, format="tf_saved_model", verbose=False)
  return path


def _images(num, seed=0):
  return np.random.RandomState(seed).uniform(
      size=(num, 64, 64, 1)).astype(np.float32)


def _signature_means(path, images):
  loaded = tf.saved_model.load(path)
  return loaded.signatures["serving_default"](
      images=tf.constant(images))["latent_mean"].numpy()


def _fit_briefly(model, optimizer, seed=0):
  """One epoch on 64 random images with random shape labels."""
  labels = np.random.RandomState(seed).randint(0, 3, size=64)
  model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
  model.fit(_images(64, seed), labels, batch_size=16, epochs=1, verbose=0)


@pytest.mark.parametrize("arch", ["conv", "mlp", "broadcast"])
def test_encoder_layer_equals_the_signature(arch_exports, arch):
  layer = transfer.encoder_layer(arch_exports[arch])
  assert (layer.arch, layer.latent_dim) == (arch, 4)
  # Pixels outside [0, 1] too: both clip them.
  images = _images(16, seed=1) * 1.4 - 0.2
  np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(images)),
                             _signature_means(arch_exports[arch], images),
                             atol=1e-5, rtol=0)


@pytest.mark.parametrize("version", ["1", "2"])
def test_encoder_layer_of_the_shipped_exports(version):
  path = os.path.join(REPO_ROOT, "exported", "dsprites", version)
  layer = transfer.encoder_layer(path)
  metadata = export.read_metadata(path)
  assert layer.latent_dim == metadata["latent_dim"]
  images = _images(16, seed=2)
  np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(images)),
                             _signature_means(path, images), atol=1e-5,
                             rtol=0)
  # Valid Keras names: no ":0", which optimizers cannot build slots from.
  assert all(":" not in w.path for w in layer.weights)


def test_encoder_layer_infers_the_architecture(untrained_export):
  # export_model without training metadata records no "arch".
  assert "arch" not in export.read_metadata(untrained_export)
  layer = transfer.encoder_layer(untrained_export)
  images = _images(8, seed=3)
  np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(images)),
                             _signature_means(untrained_export, images),
                             atol=1e-5, rtol=0)


def test_encoder_layer_refuses_what_is_not_its_export(tmp_path, keras_export,
                                                      monkeypatch):
  with pytest.raises(FileNotFoundError, match="not a SavedModel directory"):
    transfer.encoder_layer(str(tmp_path))
  with pytest.raises(FileNotFoundError, match="not a tf_betavae export"):
    transfer.encoder_layer(keras_export)
  # An export whose metadata names another encoder than its variables hold.
  config = training.TrainConfig(arch="conv", latent_dim=4, seed=5)
  model = training.build_model(config, (64, 64, 1))
  mislabelled = export.export_model(model, str(tmp_path / "exports"),
                                    model_name="m", metadata={"arch": "mlp"})
  with pytest.raises(ValueError,
                     match=r"missing \['encoder/hidden_0/kernel'"):
    transfer.encoder_layer(mislabelled)
  # Outputs that do not match the signature are refused too.
  monkeypatch.setattr(transfer, "_MATCH_ATOL", -1.0)
  with pytest.raises(ValueError, match="away from the export's "
                     "serving_default"):
    transfer.encoder_layer(SHIPPED)
  with pytest.raises(ValueError, match="fine_tune trains the encoder"):
    transfer.build_probe(SHIPPED, 3, signature="encode", output_key="mean",
                         fine_tune=True)


def test_frozen_encoders_stay_bit_identical():
  # The default probe (TFSMLayer) and encoder_layer(trainable=False).
  probe = transfer.build_probe(SHIPPED, 3)
  frozen = probe.get_layer("frozen_encoder")
  layer = transfer.encoder_layer(SHIPPED, trainable=False)
  inputs = keras.Input((64, 64, 1))
  model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(
      layer(inputs)))
  for encoder, outer in ((frozen, probe), (layer, model)):
    before = [keras.ops.convert_to_numpy(w).copy() for w in encoder.weights]
    assert len(before) == 12 and not encoder.trainable_weights
    head_before = keras.ops.convert_to_numpy(outer.layers[-1].kernel).copy()
    _fit_briefly(outer, keras.optimizers.Adam(1e-2))
    after = [keras.ops.convert_to_numpy(w) for w in encoder.weights]
    assert all(np.array_equal(b, a) for b, a in zip(before, after))
    # The head did train.
    assert not np.array_equal(
        head_before, keras.ops.convert_to_numpy(outer.layers[-1].kernel))
  # Unfrozen later, as Keras layers are.
  layer.trainable = True
  assert len(model.trainable_weights) == 12 + 2


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop", "adamw"])
def test_fine_tuned_encoder_trains_under_keras_optimizers(optimizer):
  probe = transfer.build_probe(SHIPPED, 3, fine_tune=True)
  encoder = probe.get_layer("fine_tuned_encoder")
  assert len(encoder.trainable_weights) == 12
  before = [keras.ops.convert_to_numpy(w).copy() for w in encoder.weights]
  _fit_briefly(probe, keras.optimizers.get({
      "class_name": optimizer, "config": {"learning_rate": 1e-3}}))
  after = [keras.ops.convert_to_numpy(w) for w in encoder.weights]
  assert all(not np.array_equal(b, a) for b, a in zip(before, after))


def test_fine_tuned_model_saves_and_reloads(tmp_path):
  probe = transfer.build_probe(SHIPPED, 3, hidden_units=8, fine_tune=True)
  _fit_briefly(probe, keras.optimizers.Adam(1e-3))
  images = _images(16, seed=4)
  expected = probe.predict(images, verbose=0)
  path = str(tmp_path / "probe.keras")
  keras.models.save_model(probe, path)
  reloaded = keras.models.load_model(path)
  assert isinstance(reloaded.get_layer("fine_tuned_encoder"),
                    transfer.ExportedEncoder)
  np.testing.assert_array_equal(reloaded.predict(images, verbose=0), expected)
  # And in a fresh process that imports only tf_betavae.transfer (which
  # registers ExportedEncoder), without the export.
  np.save(tmp_path / "images.npy", images)
  code = ("import sys, numpy as np, keras\n"
          "import tf_betavae.transfer\n"
          "model = keras.models.load_model(sys.argv[1])\n"
          "np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), "
          "verbose=0))\n")
  subprocess.run(
      [sys.executable, "-c", code, path, str(tmp_path / "images.npy"),
       str(tmp_path / "out.npy")], check=True, timeout=300, cwd=REPO_ROOT,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected,
                             atol=1e-6, rtol=0)


def test_fine_tuning_beats_the_frozen_encoder_on_shape(record_property):
  # Shape (3 classes) is hard to read linearly off the shipped latents;
  # fine-tuning reshapes the features.  Measured with these settings, seeds
  # 0-3 (test accuracy): frozen 0.37-0.42, fine-tuned 0.72-0.78.
  settings = dict(num_train=1000, num_test=500, epochs=10, batch_size=32,
                  learning_rate=1e-3, seed=0)
  ground_truth = data.ground_truth("dsprites")
  start = time.time()
  frozen = transfer.train_probe(SHIPPED, ground_truth, "shape", **settings)
  tuned = transfer.train_probe(SHIPPED, ground_truth, "shape",
                               fine_tune=True, **settings)
  record_property("frozen_test_accuracy", frozen["test_accuracy"])
  record_property("fine_tuned_test_accuracy", tuned["test_accuracy"])
  print(f"shape accuracy: frozen {frozen['test_accuracy']:.3f}, fine-tuned "
        f"{tuned['test_accuracy']:.3f} ({time.time() - start:.0f} s)")
  assert (frozen["fine_tune"], tuned["fine_tune"]) == (False, True)
  assert tuned["test_accuracy"] > frozen["test_accuracy"] + 0.15
  assert tuned["test_accuracy"] > 0.55


# A long run (a fine-tuning run, 23 s in CI; test_transfer_script and test_probe_freezes_the_encoder run by default): -m slow.
@pytest.mark.slow
def test_transfer_script_fine_tunes(keras_export):
  script = os.path.join(REPO_ROOT, "scripts", "transfer.py")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  ok = subprocess.run(
      [sys.executable, script, f"--saved_model={SHIPPED}", "--factor=shape",
       "--num_train=64", "--num_test=64", "--epochs=1", "--fine_tune",
       "--learning_rate=1e-3"],
      capture_output=True, text=True, timeout=300, env=env)
  assert ok.returncode == 0, ok.stderr[-2000:]
  assert ok.stdout.startswith("fine-tuned encoder, factor shape (3 classes)")
  # Fine-tuning needs this package's export; Keras' own is a usage error.
  bad = subprocess.run(
      [sys.executable, script, f"--saved_model={keras_export}",
       "--fine_tune", "--num_train=8", "--num_test=8", "--epochs=1"],
      capture_output=True, text=True, timeout=300, env=env)
  assert bad.returncode == 2, bad.stderr[-2000:]
  assert "not a tf_betavae export" in bad.stderr
  assert bad.stderr.strip().count("\n") == 0
