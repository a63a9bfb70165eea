"""Small file helpers shared by the package: atomic writes, JSON in and out.

Every file another process may read while it is written (run summaries,
metrics, results tables) goes through ``write_text_atomic``, so a reader
sees the old file or the new one, never half of one.
"""

import contextlib
import json
import os
import tempfile

import numpy as np


@contextlib.contextmanager
def atomic_file(path, mode="w", suffix=".tmp"):
  """Yields a file that replaces ``path`` atomically when the block ends.

  What is written goes to a temporary file in the same directory (created
  if missing), is flushed to disk, then renamed over ``path`` (an atomic
  replace on POSIX); if the block raises, the temporary file is removed
  and ``path`` is left as it was.

  Args:
    mode: "w" (text) or "wb" (bytes).
  """
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".tmp-",
                                  suffix=suffix)
  try:
    with os.fdopen(fd, mode, **({"newline": ""} if "b" not in mode
                                 else {})) as f:
      yield f
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp_path, path)
  except BaseException:
    if os.path.exists(tmp_path):
      os.remove(tmp_path)
    raise


def write_text_atomic(path, text, suffix=".tmp"):
  """Writes ``text`` to ``path`` atomically (``atomic_file``); returns
  ``path``."""
  with atomic_file(path, "w", suffix) as f:
    f.write(text)
  return path


def to_jsonable(value):
  """numpy scalars/arrays, tuples and non-string dict keys made JSON-ready.

  Dict keys become strings, tuples and arrays become lists and numpy
  scalars Python numbers; everything else is returned as it is.
  """
  if isinstance(value, dict):
    return {str(k): to_jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [to_jsonable(v) for v in value]
  if isinstance(value, np.ndarray):
    return to_jsonable(value.tolist())
  if isinstance(value, np.generic):
    return value.item()
  return value


def write_json_atomic(path, payload):
  """Writes ``payload`` (made JSON-ready) to ``path`` atomically."""
  text = json.dumps(to_jsonable(payload), indent=2, sort_keys=True) + "\n"
  return write_text_atomic(path, text, suffix=".json")


def read_json(path):
  """The JSON value stored at ``path``."""
  with open(path) as f:
    return json.load(f)


def read_json_if_present(path, default=None):
  """The JSON value at ``path``, or ``default`` when there is no such file."""
  return read_json(path) if os.path.exists(path) else default
