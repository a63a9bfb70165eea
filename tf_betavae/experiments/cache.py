"""Result files that carry the key they were computed for.

Every cached result of an experiment (one metric entry, one UDR) is a JSON
file ``{"key": ..., <field>: ...}``; it is reused only while the key it
records equals the current one, so a changed setting recomputes it.
"""

from tf_betavae import io_utils


def load(path, key, field="result"):
  """The cached ``field`` at ``path`` if its recorded key equals ``key``,
  else None."""
  cached = io_utils.read_json_if_present(path)
  if cached and cached.get("key") == key:
    return cached[field]
  return None


def store(path, key, value, field="result"):
  """Writes ``{"key": key, field: value}`` to ``path`` atomically."""
  io_utils.write_json_atomic(path, {"key": key, field: value})
