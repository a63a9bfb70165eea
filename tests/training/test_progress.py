"""The step log's elapsed time and estimate of the time left."""

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
  import logging  # pylint: disable=g-import-not-at-top
  values = {"loss": 10.0, "reconstruction": 9.0, "kl": 1.0,
            "kl_latent_0": 0.9, "kl_latent_1": 0.05}
  with caplog.at_level(logging.INFO, logger="absl"):
    progress.log_step(1000, 10000, values, 14.3, 64, 70.0, 1000)
  assert ("step 1000/10000  loss 10.00  reconstruction 9.00  kl 1.00  active "
          "latents 1  14.3 steps/s (915 images/s)  1 min 10 s elapsed, about "
          "10 min 30 s left") in caplog.text
