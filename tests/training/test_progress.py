"""The step log's elapsed time and estimate of the time left."""

import logging
import re
import types

import pytest

from tf_betavae import progress as shared_progress
from tf_betavae.training import progress


def test_eta_is_the_time_left_at_the_mean_speed():
  # 1000 steps in 70 s, 9000 left: 630 s.
  assert shared_progress.seconds_left(1000, 10000, 70.0) == pytest.approx(
      630.0)
  assert shared_progress.seconds_left(0, 100, 5.0) is None
  assert shared_progress.eta_text(1000, 10000, 70.0) == (
      "1 min 10 s elapsed, about 10 min 30 s left")


def test_the_step_line_has_its_fields(caplog):
  values = {"loss": 10.0, "reconstruction": 9.0, "kl": 1.0,
            "kl_latent_0": 0.9, "kl_latent_1": 0.05}
  steady_rate = shared_progress.SteadyRate()
  with caplog.at_level(logging.INFO, logger="absl"):
    progress.log_step(900, 10000, values, 14.3, 64, 63.0, 900, steady_rate)
    progress.log_step(1000, 10000, values, 14.3, 64, 70.0, 1000,
                      steady_rate)
  # The time left comes from the steps between the two lines: 100 in 7 s.
  assert ("step 1000/10000  loss 10.00  reconstruction 9.00  kl 1.00  active "
          "latents 1  14.3 steps/s (915 images/s)  1 min 10 s elapsed, about "
          "10 min 30 s left") in caplog.text
  assert "step 900/10000" in caplog.text and "time left unknown" in (
      caplog.text)


_LEFT = re.compile(r"step (\d+)/(\d+) .* elapsed, (?:about (.+) left|"
                   r"time left unknown|(done))")


def _seconds(duration):
  """Inverse of tf_betavae.progress.duration_text (to the second)."""
  numbers = [int(n) for n in re.findall(r"\d+", duration)]
  if " h " in duration:
    return numbers[0] * 3600 + numbers[1] * 60
  if "min" in duration:
    return numbers[0] * 60 + numbers[1]
  return numbers[0]


def _estimates(text):
  """[(step, seconds left or None)] of the step lines in a log."""
  found = []
  for m in _LEFT.finditer(text):
    if m.group(4):
      left = 0
    else:
      left = None if m.group(3) is None else _seconds(m.group(3))
    found.append((int(m.group(1)), left))
  return found


# A run whose steps all take 0.05 s and whose first chunk also pays 30 s of
# tracing (more than its 100 steps' 5 s of work, as on a loaded machine).
_STEP_SECONDS = 0.05
_TRACING_SECONDS = 30.0


def test_first_estimate_is_the_steady_time_left_despite_tracing(caplog):
  values = {"loss": 1.0, "reconstruction": 1.0, "kl": 0.0}
  steady_rate = shared_progress.SteadyRate()
  elapsed = _TRACING_SECONDS
  with caplog.at_level(logging.INFO, logger="absl"):
    for step in range(100, 2001, 100):
      elapsed += 100 * _STEP_SECONDS
      progress.log_step(step, 2000, values, 20.0, 64, elapsed, step,
                        steady_rate)
  estimates = [(step, left) for step, left in _estimates(caplog.text)
               if left is not None]
  step, left = estimates[0]
  true_left = (2000 - step) * _STEP_SECONDS
  assert abs(left - true_left) <= 0.1 * true_left, (step, left, true_left)
  # The mean since the start, at the same line, is far off (the old ETA).
  mean_left = shared_progress.seconds_left(step, 2000, _TRACING_SECONDS
                                           + step * _STEP_SECONDS)
  assert mean_left > 2 * true_left


def test_the_training_loop_logs_the_steady_time_left(tmp_path, monkeypatch,
                                                     caplog):
  # The real loop, with its clock replaced by one that the chunks advance:
  # tracing once, then a fixed time per step (long enough that the
  # estimates, written to the second, are exact).
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  from tf_betavae.training import loop  # pylint: disable=g-import-not-at-top
  from tf_betavae.training import steps  # pylint: disable=g-import-not-at-top
  clock = {"now": 1000.0, "traced": False}
  real_run_chunk = steps.run_chunk

  def timed_run_chunk(model, runner, iterator, num_steps):
    if not clock["traced"]:
      clock["now"] += _TRACING_SECONDS
      clock["traced"] = True
    clock["now"] += num_steps * 1.5
    return real_run_chunk(model, runner, iterator, num_steps)

  monkeypatch.setattr(steps, "run_chunk", timed_run_chunk)
  monkeypatch.setattr(loop, "time",
                      types.SimpleNamespace(time=lambda: clock["now"]))
  config = training.TrainConfig(steps=40, log_every=10, checkpoint_every=40,
                                batch_size=8, image_summary_every=0, seed=1)
  with caplog.at_level(logging.INFO, logger="absl"):
    training.train(config, str(tmp_path / "run"), hooks=[])
  estimates = _estimates(caplog.text)
  assert [step for step, _ in estimates] == [10, 20, 30, 40]
  assert estimates[0][1] is None  # the first chunk holds the tracing
  for step, left in estimates[1:]:
    assert left == pytest.approx((40 - step) * 1.5, abs=1.0)
