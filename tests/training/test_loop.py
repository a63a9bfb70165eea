"""Training runs: outputs, resume (step count, schedule, data), refusals."""

import glob
import os

import numpy as np
import pytest

from tf_betavae import export_files
from tf_betavae import io_utils
from tf_betavae import training


def _config(**overrides):
  values = dict(steps=20, log_every=10, checkpoint_every=10, seed=1,
                learning_rate=1e-3)
  values.update(overrides)
  return training.TrainConfig(**values)


def test_run_writes_checkpoints_tensorboard_and_export(tiny_run):
  summary = tiny_run["summary"]
  model_dir = tiny_run["model_dir"]
  assert summary["step"] == 300 and summary["steps_this_run"] == 300
  assert summary["checkpoint"].endswith("ckpt-300")
  assert os.path.exists(summary["checkpoint"] + ".index")
  assert glob.glob(os.path.join(model_dir, "train", "events.out.tfevents.*"))
  assert os.path.exists(os.path.join(summary["export_path"], "saved_model.pb"))
  assert summary["export_path"].endswith(os.path.join("dsprites_beta1", "1"))
  stored = io_utils.read_json(os.path.join(model_dir, training.SUMMARY_FILE))
  assert stored["step"] == 300
  assert np.isfinite(summary["metrics"]["loss"])
  assert summary["steps_per_second"] > 0


def test_tensorboard_has_a_scalar_for_every_tracker(tiny_run):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tags = set()
  for path in glob.glob(os.path.join(tiny_run["model_dir"], "train", "*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      tags.update(v.tag for v in event.summary.value)
  expected = {"train/loss", "train/reconstruction", "train/kl",
              "train/steps_per_second"}
  expected |= {f"kl_per_latent/kl_latent_{i}" for i in range(10)}
  assert expected <= tags


def test_resume_continues_steps_schedule_and_data(tmp_path):
  # Objective B so that the capacity schedule is visible in the trackers.
  settings = dict(objective="B", capacity_max=10.0, capacity_steps=100)
  straight = training.train(_config(steps=30, **settings),
                            str(tmp_path / "straight"))
  first = training.train(_config(**settings), str(tmp_path / "resumed"))
  assert first["step"] == 20
  resumed = training.train(_config(steps=30, **settings),
                           str(tmp_path / "resumed"))
  assert resumed["step"] == 30 and resumed["steps_this_run"] == 10
  # The trackers average C over steps 20..29 (C is read before the update).
  expected_capacity = np.mean([10.0 * s / 100 for s in range(20, 30)])
  assert resumed["metrics"]["capacity"] == pytest.approx(expected_capacity,
                                                         rel=1e-5)
  # Same weights, optimizer state, data stream and latent noise: the resumed
  # run ends where the uninterrupted one does.
  assert resumed["metrics"]["loss"] == pytest.approx(
      straight["metrics"]["loss"], rel=1e-3)
  model_a, _ = training.restore_model(str(tmp_path / "straight"))
  model_b, _ = training.restore_model(str(tmp_path / "resumed"))
  for a, b in zip(model_a.trainable_variables, model_b.trainable_variables):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-4)


def test_finished_run_rerun_does_not_retrain_or_reexport(tmp_path):
  config = _config(steps=10)
  first = training.train(config, str(tmp_path / "m"), str(tmp_path / "e"))
  again = training.train(config, str(tmp_path / "m"), str(tmp_path / "e"))
  assert again["steps_this_run"] == 0
  assert again["metrics"] == first["metrics"]  # kept, not zeroed
  assert again["export_path"] == first["export_path"]
  assert os.listdir(tmp_path / "e" / "dsprites_beta4") == ["1"]


def test_resume_into_a_different_run_is_refused(tmp_path):
  training.train(_config(steps=10), str(tmp_path / "m"))
  with pytest.raises(training.ConfigError,
                     match=r"arch: 'conv' there, 'mlp' now; latent_dim: 10 there, 4 now"):
    training.train(_config(steps=20, latent_dim=4, arch="mlp"),
                   str(tmp_path / "m"))


def test_resume_with_another_schedule_is_refused_and_old_runs_resume(
    tmp_path):
  training.train(_config(steps=10), str(tmp_path / "m"))
  with pytest.raises(training.ConfigError,
                     match=r"lr_decay: 'constant' there, 'cosine' now"):
    training.train(_config(steps=20, lr_decay="cosine"), str(tmp_path / "m"))
  # A run_config.json written before schedules existed lacks the fields:
  # it is a constant-rate run and resumes as one.
  path = tmp_path / "m" / training.RUN_CONFIG_FILE
  stored = io_utils.read_json(str(path))
  del stored["lr_warmup_steps"], stored["lr_decay"]
  io_utils.write_json_atomic(str(path), stored)
  assert training.train(_config(steps=20), str(tmp_path / "m"))["step"] == 20


def test_beta_warmup_continues_across_a_resume_and_reaches_the_export(
    tmp_path):
  model_dir = str(tmp_path / "m")
  warmup = dict(beta=5.0, beta_hold_steps=2, beta_warmup_steps=6)
  training.train(_config(steps=10, **warmup), model_dir)
  model, restored = training.restore_model(model_dir)
  assert (restored.beta_hold_steps, restored.beta_warmup_steps) == (2, 6)
  assert int(model.optimizer.iterations) == 10
  # The restored model reads the ramp from its restored step counter.
  assert float(model.kl_weight(5)) == pytest.approx(3.0)
  assert float(model.kl_weight(model.optimizer.iterations)) == (
      pytest.approx(5.0))
  summary = training.train(_config(steps=20, **warmup), model_dir,
                           export_dir=str(tmp_path / "export"))
  assert summary["step"] == 20
  assert summary["metrics"]["kl_weight"] == pytest.approx(5.0)
  metadata = io_utils.read_json(
      os.path.join(summary["export_path"], "assets",
                   export_files.METADATA_FILENAME))
  assert metadata["hyperparameters"] == {
      "beta": 5.0, "beta_hold_steps": 2, "beta_warmup_steps": 6}


def test_unwritable_model_dir_is_refused_before_training(tmp_path):
  blocker = tmp_path / "file"
  blocker.write_text("not a directory")
  with pytest.raises(training.ConfigError, match="cannot create --model_dir"):
    training.train(_config(), str(blocker / "sub"))


def test_pictures_go_to_tensorboard_and_model_dir(tiny_run):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  model_dir = tiny_run["model_dir"]
  for name in ("traversal.png", "traversal.gif", "reconstructions.png",
               "kl_per_latent.png", "factor_response.png"):
    path = os.path.join(model_dir, name)
    assert os.path.getsize(path) > 1000, name
  image_tags = set()
  for path in glob.glob(os.path.join(model_dir, "train", "*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      image_tags.update(v.tag for v in event.summary.value
                        if v.tag.startswith("images/"))
  assert {"images/traversal", "images/reconstructions",
          "images/kl_per_latent"} <= image_tags


def test_broadcast_architecture_trains_resumes_and_exports_the_encoder(
    tmp_path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_betavae import export  # pylint: disable=g-import-not-at-top
  config = _config(steps=4, log_every=2, checkpoint_every=2, latent_dim=3,
                   arch="broadcast")
  first = training.train(config, str(tmp_path / "run"), hooks=[])
  assert first["step"] == 4 and np.isfinite(first["metrics"]["loss"])
  resumed = training.train(_config(steps=6, log_every=2, checkpoint_every=2,
                                   latent_dim=3, arch="broadcast"),
                           str(tmp_path / "run"),
                           export_dir=str(tmp_path / "exported"), hooks=[])
  assert resumed["step"] == 6 and resumed["steps_this_run"] == 2
  assert export.read_metadata(resumed["export_path"])["arch"] == "broadcast"
  # The export holds the encoder only, whatever the decoder.
  loaded = tf.saved_model.load(resumed["export_path"])
  codes = loaded.signatures["serving_default"](
      images=tf.zeros([2, 64, 64, 1]))["latent_mean"]
  assert codes.shape == (2, 3)
