"""Hooks of the training loop: what they receive, and runs without any."""

import os

from tf_betavae import training
from tf_betavae.training import hooks


class _Recorder(hooks.Hook):

  def __init__(self):
    self.calls = []

  def on_start(self, run):
    self.calls.append(("start", run.start_step, run.is_chief))

  def on_step(self, step, logs):
    self.calls.append(("step", step, dict(logs)))

  def on_end(self, step, trained):
    self.calls.append(("end", step, trained))


def _config(**overrides):
  values = dict(steps=20, log_every=5, checkpoint_every=10, seed=1,
                learning_rate=1e-3, batch_size=16, image_summary_every=0)
  values.update(overrides)
  return training.TrainConfig(**values)


def test_a_hook_receives_every_step_logs_in_order(tmp_path):
  recorder = _Recorder()
  summary = training.train(_config(), str(tmp_path / "m"), hooks=[recorder])
  kinds = [call[0] for call in recorder.calls]
  assert kinds == ["start"] + ["step"] * 4 + ["end"]
  assert recorder.calls[0] == ("start", 0, True)
  steps = [call[1] for call in recorder.calls if call[0] == "step"]
  assert steps == [5, 10, 15, 20]
  last_logs = recorder.calls[-2][2]
  assert {"loss", "reconstruction", "kl", "steps_per_second"} <= set(
      last_logs)
  assert last_logs["loss"] == summary["metrics"]["loss"]
  assert recorder.calls[-1] == ("end", 20, True)
  # A rerun of the finished run trains nothing: start and end only.
  again = _Recorder()
  training.train(_config(), str(tmp_path / "m"), hooks=[again])
  assert again.calls == [("start", 20, True), ("end", 20, False)]


def test_the_loop_runs_without_hooks_and_draws_no_pictures(tmp_path):
  model_dir = str(tmp_path / "m")
  summary = training.train(_config(steps=10), model_dir, hooks=[])
  assert summary["step"] == 10
  assert not os.path.exists(os.path.join(model_dir, "traversal.png"))


def test_the_default_hooks_are_the_pictures():
  from tf_betavae.visualize import training_hook  # pylint: disable=g-import-not-at-top
  [hook] = hooks.default_hooks()
  assert isinstance(hook, training_hook.PicturesHook)
