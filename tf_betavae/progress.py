"""Progress a person can read: "run 2 of 6 ... about 4 min left".

One way to say elapsed time and time left, for the training step log and
for long loops (trainings, evaluations, ranked models), which log one line
per item.  The time left is the mean time of a finished unit (step, run,
evaluation) so far times the units still to go.
"""

import time

from absl import logging


def duration_text(seconds):
  """'45 s', '3 min 05 s' or '2 h 07 min' for a non-negative duration."""
  seconds = int(round(max(0.0, float(seconds))))
  if seconds < 60:
    return f"{seconds} s"
  minutes, seconds = divmod(seconds, 60)
  if minutes < 60:
    return f"{minutes} min {seconds:02d} s"
  hours, minutes = divmod(minutes, 60)
  return f"{hours} h {minutes:02d} min"


def seconds_left(done, total, elapsed_seconds):
  """Seconds left at the mean speed so far; None before a unit finished."""
  if done <= 0:
    return None
  return elapsed_seconds / done * max(0, total - done)


def eta_text(done, total, elapsed_seconds):
  """'<elapsed> elapsed, about <left> left' after ``done`` of ``total``.

  Args:
    done: items finished (0 <= done <= total).
    total: items in all.
    elapsed_seconds: seconds since the first item started.

  Returns:
    str; the time left is unknown until an item has finished.
  """
  elapsed = duration_text(elapsed_seconds)
  if done >= total:
    return f"{elapsed} elapsed, done"
  left = seconds_left(done, total, elapsed_seconds)
  if left is None:
    return f"{elapsed} elapsed, time left unknown"
  return f"{elapsed} elapsed, about {duration_text(left)} left"


class Progress:
  """Logs "<what> i of n" lines at INFO with elapsed time and ETA.

  Attributes:
    what: the item's name, e.g. "run" or "evaluation".
    total: number of items.
    done: items finished so far.
  """

  def __init__(self, what, total, clock=time.monotonic):
    self.what = what
    self.total = int(total)
    self.done = 0
    self._clock = clock
    self._start = clock()

  def starting(self, index, detail=""):
    """Logs that item ``index`` (0-based) starts; returns the line."""
    line = (f"{self.what} {index + 1} of {self.total}"
            + (f" ({detail})" if detail else "") + ": "
            + eta_text(self.done, self.total, self._clock() - self._start))
    logging.info("%s", line)
    return line

  def finished(self, detail=""):
    """Counts one finished item and logs it; returns the line."""
    self.done += 1
    line = (f"{self.what} {self.done} of {self.total} finished"
            + (f" ({detail})" if detail else "") + ": "
            + eta_text(self.done, self.total, self._clock() - self._start))
    logging.info("%s", line)
    return line
