"""Small file helpers: atomic JSON writes."""

import json
import os
import tempfile


def write_json_atomic(path, payload):
  """Writes ``payload`` as JSON to ``path`` so readers never see half a file.

  The text goes to a temporary file in the same directory, is flushed to
  disk, then renamed over ``path`` (an atomic replace on POSIX).
  """
  directory = os.path.dirname(os.path.abspath(path))
  fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".tmp-",
                                  suffix=".json")
  try:
    with os.fdopen(fd, "w") as f:
      json.dump(payload, f, indent=2, sort_keys=True)
      f.write("\n")
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp_path, path)
  except BaseException:
    if os.path.exists(tmp_path):
      os.remove(tmp_path)
    raise


def read_json(path):
  with open(path) as f:
    return json.load(f)
