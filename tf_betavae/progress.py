"""Progress a person can read: "run 2 of 6 ... about 4 min left".

One way to say elapsed time and time left, for the training step log and
for long loops (trainings, evaluations, ranked models, encoded images).

Two estimates of the time left:

* ``eta_text`` / ``Progress``: the mean time of a finished unit so far times
  the units still to go.  For items that each cost about the same (runs,
  evaluations).
* ``SteadyRate``: the rate over recent intervals between log lines, leaving
  out the first interval.  For steps and batches: the first interval also
  pays one-off costs (graph tracing, pipeline start-up) that can exceed the
  interval's real work, and a mean that counts them overestimates the time
  left for the whole run.  ``CountProgress`` logs with it, at most one
  line every few seconds, for loops over many small pieces.
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


def _eta_phrase(elapsed_seconds, left_seconds, finished):
  elapsed = duration_text(elapsed_seconds)
  if finished:
    return f"{elapsed} elapsed, done"
  if left_seconds is None:
    return f"{elapsed} elapsed, time left unknown"
  return f"{elapsed} elapsed, about {duration_text(left_seconds)} left"


def eta_text(done, total, elapsed_seconds):
  """'<elapsed> elapsed, about <left> left' after ``done`` of ``total``.

  Args:
    done: items finished (0 <= done <= total).
    total: items in all.
    elapsed_seconds: seconds since the first item started.

  Returns:
    str; the time left is unknown until an item has finished.
  """
  return _eta_phrase(elapsed_seconds, seconds_left(done, total,
                                                   elapsed_seconds),
                     done >= total)


class SteadyRate:
  """Time left at the rate of the last ``window`` intervals between marks.

  Call ``mark(done, elapsed_seconds)`` at each log line (units done and
  seconds since the work started, both counted from the start), then
  ``seconds_left(total)`` or ``eta_text(total)``.  The interval up to the
  first mark is never used: it holds the one-off start-up costs.  So the
  time left is unknown at the first mark and known from the second on.
  A window of recent intervals, rather than everything since the first
  mark, follows the machine's load when it changes during a long run.
  """

  def __init__(self, window=10):
    """``window``: int >= 1, intervals the rate is taken over."""
    if window < 1:
      raise ValueError(f"window must be >= 1, got {window}")
    # Oldest first; at most window + 1 marks bound window intervals.
    self._marks = []
    self._window = int(window)

  def mark(self, done, elapsed_seconds):
    """Records that ``done`` units were finished ``elapsed_seconds`` in."""
    self._marks.append((done, float(elapsed_seconds)))
    del self._marks[:-(self._window + 1)]

  def units_per_second(self):
    """Rate over the window; None before two marks (or if none was done)."""
    if len(self._marks) < 2:
      return None
    (first_done, first_seconds), (last_done, last_seconds) = (
        self._marks[0], self._marks[-1])
    if last_done <= first_done:
      return None
    return (last_done - first_done) / max(last_seconds - first_seconds,
                                          1e-9)

  def seconds_left(self, total):
    """Seconds to finish ``total`` units from the last mark; None if
    unknown yet."""
    rate = self.units_per_second()
    if rate is None:
      return None
    return max(0, total - self._marks[-1][0]) / rate

  def eta_text(self, total):
    """``eta_text``'s wording at the last mark, from the steady rate."""
    done, elapsed = self._marks[-1] if self._marks else (0, 0.0)
    return _eta_phrase(elapsed, self.seconds_left(total), done >= total)


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


class CountProgress:
  """Logs "<what>: <done> of <total> <unit>, <rate> <unit>/s, <ETA>" lines
  at INFO, at most one every ``every_seconds``, for a long loop over many
  small pieces (images encoded, trees grown).

  Call ``update(done)`` after each piece.  The rate and time left are the
  ``SteadyRate`` over the recent pieces, which leaves out the first piece
  (its one-off costs, such as tracing the encoder): the time left is
  unknown until a second piece is done.  No line is logged for the last
  piece: the caller logs its own line for the finished loop.
  """

  def __init__(self, what, total, unit, every_seconds=10.0,
               clock=time.monotonic):
    """what: e.g. "code table"; total: int, pieces' units in all; unit:
    plural noun, e.g. "images"; every_seconds: float, least time between
    lines; clock: callable returning seconds."""
    self.what = what
    self.total = int(total)
    self.unit = unit
    self._every_seconds = float(every_seconds)
    self._clock = clock
    self._start = self._last_line = clock()
    self._rate = SteadyRate()

  def update(self, done):
    """Records that ``done`` units of ``total`` are finished; logs a line
    if ``every_seconds`` have passed since the last one.  Returns the line,
    or None."""
    now = self._clock()
    elapsed = now - self._start
    self._rate.mark(done, elapsed)
    if done >= self.total or now - self._last_line < self._every_seconds:
      return None
    self._last_line = now
    rate = self._rate.units_per_second()
    if rate is None:  # one piece so far: its rate, but no time left yet
      rate = done / max(elapsed, 1e-9)
    line = (f"{self.what}: {done:,} of {self.total:,} {self.unit}, "
            f"{rate:,.0f} {self.unit}/s, {self._rate.eta_text(self.total)}")
    logging.info("%s", line)
    return line
