"""Long-lived racing worker processes driven through pipes (no TensorFlow).

A race round: the test sends each worker a line "prepare <args>", every
worker does its slow part and answers "ready"; once all have answered, the
test sends "go" to each, back to back, and each does the contended step
and answers one JSON line.  The pipes are the barrier: no sleeps.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Worker program: reads commands, answers one line each.
_WORKER = r"""
import json, os, sys
from tf_betavae import export_files

def fake_saved_model(path, marker):
  os.makedirs(os.path.join(path, "variables"))
  with open(os.path.join(path, "variables", "variables.index"), "w") as f:
    f.write(marker)
  with open(os.path.join(path, "saved_model.pb"), "w") as f:
    f.write(marker)

for line in sys.stdin:
  command = json.loads(line)
  if command["op"] == "export":
    with export_files.staging(command["root"], "m") as (model_root, staging):
      source = os.path.join(staging, "model")
      fake_saved_model(source, command["marker"])
      print("ready", flush=True)
      sys.stdin.readline()  # "go"
      try:
        version, path = export_files.commit(command["root"], model_root,
                                            source)
        answer = {"version": version, "path": path}
      except Exception as e:  # reported to the test, which fails on it
        answer = {"error": repr(e)}
    print(json.dumps(answer), flush=True)
  elif command["op"] == "record":
    print("ready", flush=True)
    sys.stdin.readline()
    try:
      export_files.record_results(command["dir"], command["results"])
      answer = {"ok": True}
    except Exception as e:
      answer = {"error": repr(e)}
    print(json.dumps(answer), flush=True)
"""


class Workers:
  """``count`` worker processes; use as a context manager."""

  def __init__(self, count=2):
    env = dict(os.environ, PYTHONPATH=ROOT)
    self.processes = [
        subprocess.Popen([sys.executable, "-c", _WORKER], env=env, cwd=ROOT,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
        for _ in range(count)]

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    for process in self.processes:
      process.stdin.close()
    for process in self.processes:
      process.wait(timeout=60)

  def race(self, commands):
    """Sends one command to each worker, then "go" to all; returns their
    JSON answers (in worker order)."""
    for process, command in zip(self.processes, commands):
      process.stdin.write(json.dumps(command) + "\n")
      process.stdin.flush()
    for process in self.processes:
      ready = process.stdout.readline()
      assert ready.strip() == "ready", ready
    for process in self.processes:
      process.stdin.write("go\n")
      process.stdin.flush()
    return [json.loads(process.stdout.readline())
            for process in self.processes]
