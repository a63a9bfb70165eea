r"""Resident memory of a default training run, and whether it grows.

  python benchmarks/memory_benchmark.py                  # 2,000 steps
  python benchmarks/memory_benchmark.py --output=/tmp/memory.json

Starts a default training run (``scripts/train.py --model_dir=<tmp>
--steps=--steps --export_dir=``, i.e. the default conv model, batch 64, the
tf.data simulator stream, logging every 100 steps and checkpoints every
1,000; or ``tf_betavae.training.train`` when the script is missing or
``--launcher=library``) in a subprocess and watches it from outside:

* the child's resident set size (VmRSS from /proc/<pid>/status) at the
  moment each "step N/M" log line appears (the log line follows the end of
  the chunk of steps), so RSS at step ``--early_step`` (200) and at the last
  step (2,000) can be compared: the run must not leak (target: the last
  within 10% of the early one);
* the peak resident memory: the kernel's high-water mark (VmHWM, polled
  every ``--poll_seconds``) and, after exit, ``getrusage(RUSAGE_CHILDREN)``
  ru_maxrss; the larger is reported (target: under 3 GB = 3e9 bytes).

Sizes are bytes in the JSON and MB (1e6 bytes) in the printout.
"""

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from absl import app
from absl import flags

from tf_betavae import io_utils

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def define_flags():
  """Defines the command-line flags (only when run as a script, so that
  importing this module next to other absl programs cannot clash)."""
  flags.DEFINE_integer("steps", 2000, "Training steps of the run.")
  flags.DEFINE_integer("early_step", 200,
                       "Step whose RSS is the baseline of the leak check (a "
                       "multiple of --log_every).")
  flags.DEFINE_integer("log_every", 100, "Steps between log lines (run flag).")
  flags.DEFINE_integer("checkpoint_every", 1000,
                       "Steps between checkpoints (run flag).")
  flags.DEFINE_enum("launcher", "auto", ["auto", "script", "library"],
                    "script: scripts/train.py; library: "
                    "tf_betavae.training.train; auto: the script if present.")
  flags.DEFINE_float("poll_seconds", 0.1, "Interval of VmRSS/VmHWM polling.")
  flags.DEFINE_string("output", None, "Write the results as JSON here.")


FLAGS = flags.FLAGS

PEAK_TARGET_BYTES = 3e9
LEAK_TOLERANCE = 0.10
RESULT_KEYS = ("launcher", "steps", "early_step", "peak_rss_bytes",
               "rss_at_early_step_bytes", "rss_at_final_step_bytes",
               "growth_fraction", "rss_by_step_bytes", "targets",
               "loadavg_start_end", "seconds")

# The step log line of a training run, "step N/M ..." (also read by soak.py).
STEP_LINE = re.compile(r"step (\d+)/(\d+)")

_LIBRARY_TRAIN = """
from absl import logging
from tf_betavae import training
logging.set_verbosity(logging.INFO)
training.train(training.TrainConfig(steps={steps}, log_every={log_every},
                                    checkpoint_every={checkpoint_every}),
               {model_dir!r})
"""


def read_status_bytes(pid, field):
  """A memory field of /proc/<pid>/status (e.g. 'VmRSS') in bytes, or None."""
  try:
    with open(f"/proc/{pid}/status") as f:
      for line in f:
        if line.startswith(field + ":"):
          return int(line.split()[1]) * 1024  # the kernel reports kB
  except (OSError, ValueError):
    pass
  return None


def _command(model_dir):
  script = os.path.join(REPO_ROOT, "scripts", "train.py")
  use_script = (FLAGS.launcher == "script" or
                (FLAGS.launcher == "auto" and os.path.exists(script)))
  if use_script:
    return "scripts/train.py", [
        sys.executable, script, f"--model_dir={model_dir}",
        f"--steps={FLAGS.steps}", f"--log_every={FLAGS.log_every}",
        f"--checkpoint_every={FLAGS.checkpoint_every}", "--export_dir="]
  return "tf_betavae.training.train", [
      sys.executable, "-c", _LIBRARY_TRAIN.format(
          steps=FLAGS.steps, log_every=FLAGS.log_every,
          checkpoint_every=FLAGS.checkpoint_every, model_dir=model_dir)]


def _watch(process):
  """Follows a training process until it exits.

  Returns:
    (returncode, {step: VmRSS bytes at its log line}, peak VmHWM bytes,
     peak VmRSS bytes, the last 40 stderr lines).
  """
  rss_by_step = {}
  stderr_tail = []
  peak = {"hwm": 0, "rss": 0}
  done = threading.Event()

  def poll():
    while not done.is_set():
      for field in ("VmHWM", "VmRSS"):
        value = read_status_bytes(process.pid, field)
        if value:
          key = "hwm" if field == "VmHWM" else "rss"
          peak[key] = max(peak[key], value)
      done.wait(FLAGS.poll_seconds)

  poller = threading.Thread(target=poll, daemon=True)
  poller.start()
  for line in process.stderr:
    match = STEP_LINE.search(line)
    if match:
      rss = read_status_bytes(process.pid, "VmRSS")
      step = int(match.group(1))
      if rss is not None and step not in rss_by_step:
        rss_by_step[step] = rss
        print(f"step {step:>6}: RSS {rss / 1e6:8.1f} MB", flush=True)
    stderr_tail = (stderr_tail + [line])[-40:]
  returncode = process.wait()
  done.set()
  poller.join()
  return returncode, rss_by_step, peak["hwm"], peak["rss"], stderr_tail


def benchmark():
  """Runs the training subprocess and watches its memory; returns a dict."""
  loadavg_start = os.getloadavg()[0]
  model_dir = tempfile.mkdtemp(prefix="memory_benchmark_")
  launcher, command = _command(model_dir)
  start = time.perf_counter()
  process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
  returncode, rss_by_step, peak_hwm, peak_rss, stderr_tail = _watch(process)
  seconds = time.perf_counter() - start
  shutil.rmtree(model_dir, ignore_errors=True)
  if returncode:
    raise RuntimeError(f"training run failed ({returncode}):\n"
                       + "".join(stderr_tail))
  children_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
  peak_bytes = max(peak_hwm, peak_rss, children_maxrss * 1024)

  early = rss_by_step.get(FLAGS.early_step)
  final = rss_by_step.get(FLAGS.steps)
  growth = (final / early - 1.0) if early and final else None
  return {
      "launcher": launcher,
      "steps": FLAGS.steps,
      "early_step": FLAGS.early_step,
      "peak_rss_bytes": peak_bytes,
      "rss_at_early_step_bytes": early,
      "rss_at_final_step_bytes": final,
      "growth_fraction": growth,
      "rss_by_step_bytes": {str(k): v for k, v in sorted(rss_by_step.items())},
      "targets": {
          "peak_under_bytes": PEAK_TARGET_BYTES,
          "peak_met": peak_bytes < PEAK_TARGET_BYTES,
          "growth_at_most": LEAK_TOLERANCE,
          "growth_met": (growth is not None and growth <= LEAK_TOLERANCE),
      },
      "loadavg_start_end": [loadavg_start, os.getloadavg()[0]],
      "seconds": seconds,
  }


def print_table(results):
  def mb(value):
    return f"{value / 1e6:.1f} MB" if value else "n/a"

  targets = results["targets"]
  print()
  print(f"Memory of a default training run ({results['launcher']}, "
        f"{results['steps']} steps, {results['seconds']:.0f} s)")
  print(f"peak RSS:                  {mb(results['peak_rss_bytes'])} "
        f"(target < {targets['peak_under_bytes'] / 1e9:.0f} GB: "
        f"{'met' if targets['peak_met'] else 'NOT met'})")
  print(f"RSS at step {results['early_step']:<6}:        "
        f"{mb(results['rss_at_early_step_bytes'])}")
  print(f"RSS at step {results['steps']:<6}:        "
        f"{mb(results['rss_at_final_step_bytes'])}")
  growth = results["growth_fraction"]
  print(f"growth:                    "
        f"{f'{100 * growth:+.1f}%' if growth is not None else 'n/a'} "
        f"(target <= +{100 * targets['growth_at_most']:.0f}%: "
        f"{'met' if targets['growth_met'] else 'NOT met'})")
  sys.stdout.flush()


def main(argv):
  del argv
  if FLAGS.steps % FLAGS.log_every or FLAGS.early_step % FLAGS.log_every:
    raise app.UsageError("--steps and --early_step must be multiples of "
                         "--log_every (RSS is read at log lines)")
  results = benchmark()
  print_table(results)
  if FLAGS.output:
    io_utils.write_json_atomic(FLAGS.output, results)
    print(f"wrote {FLAGS.output}")


if __name__ == "__main__":
  define_flags()
  app.run(main)
