"""One writer at a time: advisory file locks on run, work and export dirs.

A lock is ``fcntl.flock`` on a file inside the directory it guards.  The
operating system releases it when its process ends, however it ends (kill
-9 included), so there is never a stale lock to clean up.  The holder
writes who it is (pid, host, start time, command) into the lock file, so a
refused command can say which process holds the directory.

Two uses:

* ``exclusive(directory, what)``: held for a whole command (a training
  run, a sweep, a reproduction); a second command on the same directory is
  refused at once with ``LockHeldError``.
* ``exclusive(directory, what, wait=True)``: a short critical section
  (choosing an export version, updating a shared JSON file); a second
  process waits its turn instead of failing.
"""

import contextlib
import datetime
import fcntl
import json
import os
import socket
import sys
import time

LOCK_FILE = ".lock"
# How long a refused process waits for the holder's record (see
# _holder_record); the holder writes it right after taking the lock.
_RECORD_WAIT_SECONDS = 2.0


class LockHeldError(RuntimeError):
  """Another live process holds the lock; the message names it.

  Attributes:
    path: the lock file.
    holder: dict (pid, host, started, command) the holder wrote, or {}.
  """

  def __init__(self, path, what, holder):
    self.path = path
    self.holder = holder
    if holder:
      who = (f"pid {holder.get('pid')} on {holder.get('host')}, started "
             f"{holder.get('started')}")
    else:
      who = "another process"
    super().__init__(
        f"{what} is in use by {who} (lock {path}); wait for it to finish "
        "or use another directory")


def _read_holder(handle):
  try:
    handle.seek(0)
    return json.loads(handle.read() or "{}")
  except (OSError, ValueError):
    return {}


def _is_live(holder):
  """Whether ``holder`` names a process that may still run (a process on
  another host cannot be checked, so it counts as live)."""
  pid = holder.get("pid")
  if not isinstance(pid, int):
    return False
  if holder.get("host") != socket.gethostname():
    return True
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:  # alive, another user's
    return True
  return True


def _holder_record(handle):
  """The record of the process holding the lock of ``handle``'s file.

  The holder writes its record just after taking the lock, so a process
  refused in between reads an empty file or a killed holder's record: it
  reads again until the record names a live process, for a moment at most.
  """
  deadline = time.monotonic() + _RECORD_WAIT_SECONDS
  while True:
    holder = _read_holder(handle)
    if _is_live(holder) or time.monotonic() > deadline:
      return holder
    time.sleep(0.005)


def _write_holder(handle):
  holder = {
      "pid": os.getpid(),
      "host": socket.gethostname(),
      "started": datetime.datetime.now().astimezone().isoformat(
          timespec="seconds"),
      "command": " ".join(sys.argv),
  }
  handle.seek(0)
  handle.truncate()
  handle.write(json.dumps(holder) + "\n")
  handle.flush()


@contextlib.contextmanager
def exclusive(directory, what=None, wait=False, lock_name=LOCK_FILE):
  """Holds the exclusive lock of ``directory`` for the ``with`` block.

  Args:
    directory: str, the directory guarded (created if missing).
    what: words for error messages, e.g. "run directory runs/a".
    wait: False: fail at once if held (a whole command); True: block until
      the holder releases it (a short critical section).
    lock_name: file name of the lock inside ``directory``.

  Yields:
    the lock file's path.

  Raises:
    LockHeldError: held by another process and ``wait`` is False.
  """
  os.makedirs(directory, exist_ok=True)
  path = os.path.join(directory, lock_name)
  what = what or directory
  handle = open(path, "a+")  # pylint: disable=consider-using-with
  try:
    try:
      fcntl.flock(handle.fileno(),
                  fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      raise LockHeldError(path, what, _holder_record(handle)) from None
    _write_holder(handle)
    try:
      yield path
    finally:
      # A released lock names nobody: the next refused process must not
      # read this record before the next holder has replaced it.
      handle.truncate(0)
      handle.flush()
      fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
  finally:
    handle.close()


def holder_of(directory, lock_name=LOCK_FILE):
  """The holder record of ``directory``'s lock if a live process holds it,
  else None (the lock file of a finished process is not a lock)."""
  path = os.path.join(directory, lock_name)
  if not os.path.exists(path):
    return None
  with open(path, "a+") as handle:
    try:
      fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      return _holder_record(handle)
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return None
