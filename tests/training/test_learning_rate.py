"""Learning-rate schedules against a float64 numpy reference."""

import math

import keras
import numpy as np
import pytest

from tf_betavae.training import learning_rate
from tf_betavae import training


def _reference(step, peak, warmup, decay, total):
  """The schedule of tf_betavae.learning_rate's docstring, in float64."""
  if step < warmup:
    return peak * (step + 1) / warmup
  if decay == "constant":
    return peak
  progress = min(1.0, (step - warmup) / (total - warmup))
  return peak * 0.5 * (1.0 + math.cos(math.pi * progress))


@pytest.mark.parametrize("warmup, decay", [
    (0, "cosine"), (100, "cosine"), (100, "constant"), (1, "cosine")])
def test_schedule_matches_the_reference(warmup, decay):
  total = 1000
  schedule = learning_rate.WarmupCosine(1e-3, warmup, decay, total)
  steps = np.array([0, 1, 49, 99, 100, 101, 250, 550, 999, 1000, 5000])
  got = np.array([float(schedule(s)) for s in steps])
  want = np.array([_reference(s, 1e-3, warmup, decay, total)
                   for s in steps])
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-10)


def test_cosine_reaches_zero_at_the_last_step_and_warmup_is_linear():
  schedule = learning_rate.WarmupCosine(2e-3, 10, "cosine", 110)
  assert float(schedule(0)) == pytest.approx(2e-4)
  assert float(schedule(9)) == pytest.approx(2e-3)
  assert float(schedule(10)) == pytest.approx(2e-3)
  assert float(schedule(60)) == pytest.approx(1e-3)  # half-way down
  assert float(schedule(110)) == pytest.approx(0.0, abs=1e-12)


def test_constant_run_keeps_a_plain_float_rate():
  config = training.TrainConfig(learning_rate=3e-4)
  assert learning_rate.schedule(config) == 3e-4
  config = training.TrainConfig(learning_rate=3e-4, lr_decay="cosine",
                                steps=50)
  assert isinstance(learning_rate.schedule(config),
                    learning_rate.WarmupCosine)


def test_schedule_round_trips_through_keras_serialization():
  schedule = learning_rate.WarmupCosine(1e-3, 20, "cosine", 200)
  again = keras.optimizers.schedules.deserialize(
      keras.optimizers.schedules.serialize(schedule))
  assert again.get_config() == schedule.get_config()


def test_schedule_from_its_config_gives_the_same_rates():
  schedule = learning_rate.WarmupCosine(1e-3, 20, "cosine", 200)
  again = learning_rate.WarmupCosine.from_config(schedule.get_config())
  steps = [0, 1, 19, 20, 21, 110, 199, 200, 300]
  assert [float(again(s)) for s in steps] == [float(schedule(s))
                                               for s in steps]


@pytest.mark.parametrize("args, message", [
    ((0.0, 0, "cosine", 10), "peak learning rate must be > 0"),
    ((1e-3, -1, "cosine", 10), "warmup_steps must be >= 0"),
    ((1e-3, 10, "cosine", 10), "needs total_steps"),
    ((1e-3, 0, "linear", 10), "decay must be one of"),
])
def test_bad_schedules_are_refused(args, message):
  with pytest.raises(ValueError, match=message):
    learning_rate.WarmupCosine(*args)


def test_optimizer_follows_the_schedule_and_resume_continues_it(tmp_path):
  config = training.TrainConfig(steps=20, log_every=10, checkpoint_every=10,
                                seed=1, learning_rate=1e-3,
                                lr_warmup_steps=5, lr_decay="cosine",
                                image_summary_every=0)
  short = training.TrainConfig(**{**config.to_dict(), "steps": 10})
  # Stop at step 10 with the 10-step schedule's settings stored, then resume
  # with the full config: the optimizer step counter comes back with the
  # checkpoint and the rate is the 20-step schedule's at step 20.
  training.train(short, str(tmp_path / "m"))
  summary = training.train(config, str(tmp_path / "m"))
  assert summary["step"] == 20
  model, stored = training.restore_model(str(tmp_path / "m"))
  assert stored.lr_decay == "cosine" and stored.lr_warmup_steps == 5
  assert int(model.optimizer.iterations.numpy()) == 20
  assert float(model.optimizer.learning_rate) == pytest.approx(
      _reference(20, 1e-3, 5, "cosine", 20), abs=1e-12)
  model.optimizer.iterations.assign(7)
  assert float(model.optimizer.learning_rate) == pytest.approx(
      _reference(7, 1e-3, 5, "cosine", 20), rel=1e-5)
