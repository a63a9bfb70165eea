"""Checkpoints: a resumed run trains at the learning rates it was given."""

import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import training
from tf_betavae.training import build
from tf_betavae.training import checkpoints


def _config(**overrides):
  values = dict(steps=10, log_every=10, checkpoint_every=10, seed=1,
                method="factor_vae", learning_rate=1e-3,
                discriminator_learning_rate=1e-4)
  values.update(overrides)
  return training.TrainConfig(**values)


def _checkpointed_rates(checkpoint_path):
  """{optimizer name: learning rate} as stored in a checkpoint file."""
  reader = tf.train.load_checkpoint(checkpoint_path)
  rates = {}
  for name, _ in tf.train.list_variables(checkpoint_path):
    if "learning_rate" in name:
      rates[name.split("/")[0]] = float(reader.get_tensor(name))
  return rates


# Slow (about 40 s); test_learning_rate resumes a schedule in the default run.
@pytest.mark.slow
def test_resumed_run_trains_at_the_new_learning_rates(tmp_path):
  model_dir = str(tmp_path)
  first = training.train(_config(), model_dir)
  assert _checkpointed_rates(first["checkpoint"]) == pytest.approx(
      {"optimizer": 1e-3, "discriminator_optimizer": 1e-4})
  resumed = _config(steps=20, learning_rate=2e-4,
                    discriminator_learning_rate=5e-5)

  model = build.build_compiled_model(resumed)
  run_checkpoints = checkpoints.RunCheckpoints(model, model_dir)
  assert run_checkpoints.restore_latest().endswith("ckpt-10")
  assert checkpoints.current_step(model) == 10
  assert float(model.optimizer.learning_rate) == pytest.approx(2e-4)
  assert float(model.discriminator_optimizer.learning_rate) == pytest.approx(
      5e-5)
  # Everything else the optimizers keep (step, Adam's moments) is the
  # checkpoint's: the same as a plain restore of it.
  plain, _ = checkpoints.restore_model(model_dir)
  for name, optimizer in model.checkpointed_optimizers.items():
    kept = [v for v in optimizer.variables if "learning_rate" not in v.path]
    other = [v for v in plain.checkpointed_optimizers[name].variables
             if "learning_rate" not in v.path]
    assert len(kept) == len(other) > 2
    for mine, theirs in zip(kept, other):
      np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
  assert float(plain.optimizer.learning_rate) == pytest.approx(1e-3)

  # End to end: the steps after the resume ran at the new rates, so the
  # checkpoint they wrote holds them.
  second = training.train(resumed, model_dir)
  assert second["checkpoint"].endswith("ckpt-20")
  assert _checkpointed_rates(second["checkpoint"]) == pytest.approx(
      {"optimizer": 2e-4, "discriminator_optimizer": 5e-5})
  assert training.settings_history(model_dir)[0]["changes"][
      "learning_rate"] == [1e-3, 2e-4]


def test_a_schedule_is_left_to_the_step_counter(tmp_path):
  """A cosine schedule has no rate variable: the restore sets the step, and
  the rate follows it."""
  config = _config(method="beta_vae", lr_decay="cosine", steps=20)
  training.train(config, str(tmp_path))
  model = build.build_compiled_model(config)
  checkpoints.RunCheckpoints(model, str(tmp_path)).restore_latest()
  assert checkpoints.current_step(model) == 20
  assert float(model.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)
