"""Progress lines: elapsed time and an estimate of the time left."""

from absl import logging

from tf_betavae import progress


def test_duration_text_reads_as_seconds_minutes_or_hours():
  assert progress.duration_text(0) == "0 s"
  assert progress.duration_text(59.4) == "59 s"
  assert progress.duration_text(125) == "2 min 05 s"
  assert progress.duration_text(7260) == "2 h 01 min"
  assert progress.duration_text(-3) == "0 s"


def test_eta_is_mean_item_time_times_items_left():
  assert progress.eta_text(2, 6, 130.0) == (
      "2 min 10 s elapsed, about 4 min 20 s left")
  assert progress.eta_text(0, 3, 5.0) == "5 s elapsed, time left unknown"
  assert progress.eta_text(3, 3, 7300.0) == "2 h 01 min elapsed, done"


def test_progress_logs_run_i_of_n(monkeypatch):
  now = [100.0]
  logged = []
  monkeypatch.setattr(logging, "info", lambda fmt, *a: logged.append(fmt % a))
  counter = progress.Progress("run", 3, clock=lambda: now[0])
  assert counter.starting(0, "beta_vae seed 0") == (
      "run 1 of 3 (beta_vae seed 0): 0 s elapsed, time left unknown")
  now[0] = 160.0
  assert counter.finished() == (
      "run 1 of 3 finished: 1 min 00 s elapsed, about 2 min 00 s left")
  assert counter.starting(1) == (
      "run 2 of 3: 1 min 00 s elapsed, about 2 min 00 s left")
  assert logged[-1].startswith("run 2 of 3") and len(logged) == 3


def test_steady_rate_leaves_out_the_first_interval():
  rate = progress.SteadyRate()
  # 100 units per 10 s, and the first interval pays 60 s of start-up.
  rate.mark(100, 70.0)
  assert rate.seconds_left(1000) is None
  assert rate.eta_text(1000) == "1 min 10 s elapsed, time left unknown"
  rate.mark(200, 80.0)
  assert rate.units_per_second() == 10.0
  assert rate.seconds_left(1000) == 80.0
  assert rate.eta_text(1000) == "1 min 20 s elapsed, about 1 min 20 s left"
  rate.mark(1000, 160.0)
  assert rate.eta_text(1000) == "2 min 40 s elapsed, done"


def test_steady_rate_follows_the_last_window_of_intervals():
  rate = progress.SteadyRate(window=2)
  elapsed = 0.0
  for done, seconds in ((10, 50.0), (20, 10.0), (30, 10.0), (40, 20.0),
                        (50, 20.0)):
    elapsed += seconds
    rate.mark(done, elapsed)
  # Only the last two intervals (10 units in 20 s each) count.
  assert rate.units_per_second() == 0.5
  assert rate.seconds_left(60) == 20.0


def test_steady_rate_needs_a_positive_window():
  import pytest  # pylint: disable=g-import-not-at-top
  with pytest.raises(ValueError, match="window must be >= 1"):
    progress.SteadyRate(window=0)
