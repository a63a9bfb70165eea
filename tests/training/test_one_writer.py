"""One writer per run directory: training.train holds model_dir's lock."""

import os

import pytest

from tf_betavae import locking
from tf_betavae import training
from tf_betavae.training import distribute
from tf_betavae.training import loop


def _config(**overrides):
  values = dict(steps=4, log_every=2, checkpoint_every=2, seed=1,
                batch_size=8)
  values.update(overrides)
  return training.TrainConfig(**values)


def test_a_run_dir_in_use_is_refused_before_anything_is_written(
    dir_snapshot, tmp_path):
  model_dir, export_dir = tmp_path / "run", tmp_path / "exported"
  (model_dir / "checkpoints").mkdir(parents=True)
  (model_dir / "run_config.json").write_text("{}")
  (model_dir / "checkpoints" / "checkpoint").write_text("ckpt-2")
  with locking.exclusive(str(model_dir), "held by the test"):
    before = dir_snapshot(model_dir)
    with pytest.raises(locking.LockHeldError) as raised:
      training.train(_config(), str(model_dir), export_dir=str(export_dir))
    assert dir_snapshot(model_dir) == before
  message = str(raised.value)
  assert f"run directory {model_dir} is in use by pid {os.getpid()} on " in (
      message)
  assert "started 20" in message and "\n" not in message
  assert not export_dir.exists()


def _record_holder(monkeypatch):
  """Replaces the run itself by one that returns model_dir's lock holder."""

  def run(config, model_dir, *unused_args):
    del config, unused_args
    return locking.holder_of(model_dir)

  monkeypatch.setattr(loop, "_train_holding_lock", run)


def test_the_chief_holds_the_lock_for_the_run_and_releases_it(
    tmp_path, monkeypatch):
  _record_holder(monkeypatch)
  model_dir = str(tmp_path / "run")
  holder = training.train(_config(), model_dir)
  assert holder["pid"] == os.getpid()
  assert locking.holder_of(model_dir) is None
  # A caller that holds the lock itself (experiments.runs) is not refused.
  with locking.exclusive(model_dir, "held by the caller"):
    holder = training.train(_config(), model_dir, lock_run_dir=False)
  assert holder["pid"] == os.getpid()


def test_other_workers_do_not_take_the_chiefs_lock(tmp_path, monkeypatch):
  _record_holder(monkeypatch)
  monkeypatch.setattr(loop.distribute, "task", lambda strategy: (
      distribute.Task("worker", 1, False)))
  model_dir = str(tmp_path / "run")
  assert training.train(_config(), model_dir) is None
  # ... nor are they refused while the chief holds it.
  with locking.exclusive(model_dir, "held by the chief"):
    holder = training.train(_config(), model_dir)
  assert holder["pid"] == os.getpid()
