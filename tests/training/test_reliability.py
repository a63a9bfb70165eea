"""Faults lose nothing: kill -9, corrupt checkpoints, NaNs, serving abuse."""

import glob
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import data as data_lib
from tf_betavae import training

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TRAIN = os.path.join(REPO_ROOT, "scripts", "train.py")


def _config(**overrides):
  values = dict(steps=30, log_every=10, checkpoint_every=10, seed=2,
                learning_rate=1e-3, batch_size=32)
  values.update(overrides)
  return training.TrainConfig(**values)


# About 70 s (three train.py processes); the default run keeps resuming
# (tests/training/test_loop.py), a corrupt or half-written checkpoint
# (below) and a full disk mid-run (below).
@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume(tmp_path):
  steps = 160
  args = [sys.executable, TRAIN, f"--steps={steps}", "--log_every=10",
          "--checkpoint_every=10", "--batch_size=32", "--learning_rate=1e-3",
          "--beta=4", "--seed=9", f"--model_dir={tmp_path}/run",
          f"--export_dir={tmp_path}/exp"]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  state_file = tmp_path / "run" / "checkpoints" / "checkpoint"
  rng = random.Random(1234)
  kills = 0
  for _ in range(2):  # bounded: two kills at most
    before = state_file.read_text() if state_file.exists() else ""
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    # Wait (bounded) until this process has written a new checkpoint, so the
    # kill lands mid-training, then kill at a random moment after it.
    deadline = time.time() + 120
    while (time.time() < deadline and process.poll() is None and
           (not state_file.exists() or state_file.read_text() == before)):
      time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 1.5))
    if process.poll() is None:
      process.kill()
      kills += 1
    process.wait()
  assert kills == 2
  final = subprocess.run(args, env=env, capture_output=True, text=True,
                         timeout=600)
  assert final.returncode == 0, final.stderr[-3000:]
  summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
  assert summary["step"] == steps
  # The export is complete and loads; no staging directories are left.
  versions = os.listdir(tmp_path / "exp" / "dsprites_beta4")
  assert versions == ["1"]
  loaded = tf.saved_model.load(str(tmp_path / "exp" / "dsprites_beta4" / "1"))
  z = loaded.signatures["serving_default"](
      images=tf.zeros([2, 64, 64, 1]))["latent_mean"]
  assert np.all(np.isfinite(z.numpy()))
  # Interrupted or not, the run ends with the same weights.
  training.train(_config(steps=steps, log_every=10, checkpoint_every=10,
                         seed=9), str(tmp_path / "straight"))
  resumed, _ = training.restore_model(str(tmp_path / "run"))
  straight, _ = training.restore_model(str(tmp_path / "straight"))
  for a, b in zip(resumed.trainable_variables, straight.trainable_variables):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-4)


def test_corrupt_latest_checkpoint_falls_back_with_a_warning(tmp_path, caplog):
  model_dir = str(tmp_path / "run")
  training.train(_config(steps=20), model_dir)
  bad = glob.glob(os.path.join(model_dir, "checkpoints",
                               "ckpt-20.data-*"))[0]
  with open(bad, "r+b") as f:
    f.truncate(100)
  with caplog.at_level(logging.WARNING):
    summary = training.train(_config(steps=30), model_dir)
  assert "ckpt-20" in caplog.text and "unreadable" in caplog.text
  assert summary["step"] == 30 and summary["steps_this_run"] == 20
  # Every checkpoint corrupt: a clear error, never a silent fresh start.
  for path in glob.glob(os.path.join(model_dir, "checkpoints",
                                     "ckpt-*.data-*")):
    with open(path, "r+b") as f:
      f.truncate(10)
  with pytest.raises(training.CheckpointError, match="no readable checkpoint"):
    training.train(_config(steps=40), model_dir)


def test_state_file_without_timestamps_still_resumes(tmp_path):
  # Checkpoints copied in with a hand-written state file (no timestamps):
  # CheckpointManager.checkpoints is then empty, and training used to start
  # from scratch silently.
  model_dir = tmp_path / "run"
  training.train(_config(steps=20), str(model_dir))
  copy = tmp_path / "copy" / "checkpoints"
  copy.mkdir(parents=True)
  for path in glob.glob(str(model_dir / "checkpoints" / "ckpt-20.*")):
    shutil.copy(path, copy)
  (copy / "checkpoint").write_text('model_checkpoint_path: "ckpt-20"\n'
                                   'all_model_checkpoint_paths: "ckpt-20"\n')
  summary = training.train(_config(steps=30), str(tmp_path / "copy"))
  assert summary["step"] == 30 and summary["steps_this_run"] == 10


def test_nan_batch_stops_training_naming_the_step(tmp_path, monkeypatch):
  real = data_lib.training_dataset

  def poisoned(name, batch_size, seed, start_batch=0, **kwargs):
    dataset, shape = real(name, batch_size, seed, start_batch=start_batch,
                          **kwargs)
    def poison(index, batch):
      return tf.where(tf.equal(index, 13 - start_batch),
                      batch * float("nan"), batch)
    return dataset.enumerate().map(poison), shape
  monkeypatch.setattr(data_lib, "training_dataset", poisoned)
  model_dir = str(tmp_path / "run")
  with pytest.raises(training.NonFiniteLossError,
                     match=r"at step 14; .*ckpt-10"):
    training.train(_config(), model_dir)
  checkpoints = sorted(os.path.basename(p) for p in glob.glob(
      os.path.join(model_dir, "checkpoints", "ckpt-*.index")))
  assert checkpoints == ["ckpt-10.index"]  # nothing non-finite was saved


def test_unwritable_export_dir_is_refused_before_training(tmp_path):
  blocker = tmp_path / "file"
  blocker.write_text("x")
  with pytest.raises(training.ConfigError, match="--export_dir"):
    training.train(_config(), str(tmp_path / "run"),
                   export_dir=str(blocker / "exp"))
  assert not os.path.exists(tmp_path / "run" / "checkpoints")


@pytest.fixture(scope="module")
def serving_fn(tiny_run):
  loaded = tf.saved_model.load(tiny_run["summary"]["export_path"])
  return loaded, loaded.signatures["serving_default"]


def test_signatures_reject_wrong_shapes_and_dtypes(serving_fn):
  _, serve = serving_fn
  with pytest.raises(Exception, match=r"64,\s?64,\s?1"):
    serve(images=tf.zeros([1, 32, 32, 1]))
  with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
    serve(images=tf.zeros([1, 64, 64, 1], tf.float64))
  with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
    serve(images=tf.zeros([1, 64, 64, 1], tf.int32))


def test_saved_model_cli_rejects_a_wrong_shape(tiny_run, tmp_path):
  cli = shutil.which("saved_model_cli")
  if cli is None:
    pytest.skip("saved_model_cli is not on PATH")
  np.save(tmp_path / "bad.npy", np.zeros((2, 32, 32, 1), np.float32))
  result = subprocess.run(
      [cli, "run", "--dir", tiny_run["summary"]["export_path"], "--tag_set",
       "serve", "--signature_def", "serving_default", "--inputs",
       f"images={tmp_path}/bad.npy"], capture_output=True, text=True,
      timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert result.returncode != 0
  assert "64, 64, 1" in result.stderr or "64,64,1" in result.stderr


def test_out_of_range_images_are_clipped(serving_fn):
  _, serve = serving_fn
  rng = np.random.RandomState(0)
  images = rng.uniform(-1.0, 2.0, size=(4, 64, 64, 1)).astype(np.float32)
  clipped = np.clip(images, 0.0, 1.0)
  np.testing.assert_allclose(
      serve(images=tf.constant(images))["latent_mean"],
      serve(images=tf.constant(clipped))["latent_mean"], atol=1e-6)


def test_concurrent_calls_match_sequential(serving_fn):
  _, serve = serving_fn
  rng = np.random.RandomState(1)
  batches = [tf.constant(rng.uniform(size=(8, 64, 64, 1)), tf.float32)
             for _ in range(8)]
  expected = [serve(images=b)["latent_mean"].numpy() for b in batches]
  errors, calls = [], [0] * 8
  deadline = time.time() + 10.0  # bounded

  def worker(index):
    try:
      while time.time() < deadline:
        got = serve(images=batches[index])["latent_mean"].numpy()
        np.testing.assert_allclose(got, expected[index], atol=1e-5)
        calls[index] += 1
    except Exception as e:  # pylint: disable=broad-except
      errors.append(repr(e))
  threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
  for t in threads:
    t.start()
  for t in threads:
    t.join(timeout=60)
  assert not errors, errors[:3]
  assert all(c > 0 for c in calls)


def test_disk_full_mid_run_keeps_the_last_checkpoint(tmp_path, monkeypatch):
  model_dir = str(tmp_path / "run")
  real_save = tf.train.CheckpointManager.save

  def failing_save(self, checkpoint_number=None, **kwargs):
    if checkpoint_number == 20:
      raise OSError(28, "No space left on device")
    return real_save(self, checkpoint_number=checkpoint_number, **kwargs)
  monkeypatch.setattr(tf.train.CheckpointManager, "save", failing_save)
  with pytest.raises(OSError, match="No space left"):
    training.train(_config(), model_dir)
  monkeypatch.setattr(tf.train.CheckpointManager, "save", real_save)
  assert tf.train.latest_checkpoint(
      os.path.join(model_dir, "checkpoints")).endswith("ckpt-10")
  # Space is back: the rerun resumes from step 10 and finishes.
  summary = training.train(_config(), model_dir)
  assert summary["step"] == 30 and summary["steps_this_run"] == 20
