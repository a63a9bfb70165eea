r"""Soak: a long default training run, watched for memory growth and disk use.

  python benchmarks/soak.py                               # 20,000 steps
  taskset -c 1 python benchmarks/soak.py --output=/tmp/soak.json
  python benchmarks/soak.py --cpus=1 --steps=20000 --output=/tmp/soak.json

Runs the real ``scripts/train.py --model_dir=<fresh dir> --steps=--steps
--export_dir=`` (checkpoints, log lines and TensorBoard pictures at their
defaults; no export, so nothing is written outside the run directory) in a
subprocess, pinned with ``taskset -c --cpus`` when given, and watches it
from outside:

* every ``--sample_seconds``: the resident memory of the process and its
  descendants (VmRSS from /proc/<pid>/status, summed), the last step
  logged, the run directory's total bytes and file count, the checkpoints
  kept (``*.index`` files in ``<model_dir>/checkpoints``) and the 1-minute
  load average;
* at each "step N/M" log line: the resident memory at that moment (the line
  follows the end of a chunk of steps, so these readings are comparable).

After the warm-up (``--warmup_step``, default the first 10% of the steps),
resident memory must not grow: RSS at the last step's log line is compared
with RSS at the first log line at or after the warm-up step (target: under
5% growth; the maximum of all readings after the warm-up is reported too,
it includes the pictures written at the end). The run directory must stay
bounded: at the end it holds exactly as many checkpoints as the run keeps
(target: 3).

Sizes are bytes in the JSON and MB (1e6 bytes) in the printout; times are
seconds. While the run is going, ``--output`` is rewritten every minute with
``"finished": false`` and the samples so far. The program exits 0 whether the
targets are met or not (see the PASS/FAIL lines), 1 when the training run
fails, 2 on a usage error.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from absl import app
from absl import flags

import memory_benchmark
from tf_betavae import cli
from tf_betavae import io_utils

PROGRAM = "soak.py"
GROWTH_TARGET = 0.05  # RSS growth after warm-up, fraction
CHECKPOINTS_TARGET = 3  # checkpoints a finished run keeps
# Fractions of the run at which the run directory's size is reported.
DIR_POINTS = (0.1, 0.25, 0.5, 0.75, 1.0)
PARTIAL_WRITE_SECONDS = 60.0
# The last line of a finished run (training/command.py).
_DONE_LINE = re.compile(r"done: step (\d+), ([\d.]+) steps/s")

RESULT_KEYS = (
    "finished", "command", "cpus", "cpu_affinity", "steps", "warmup_step",
    "step_reached", "returncode", "seconds", "rss_at_warmup_bytes",
    "rss_warmup_step", "max_rss_after_warmup_bytes", "rss_at_end_bytes",
    "growth_fraction", "max_growth_fraction", "run_dir_bytes_at_steps",
    "run_dir_bytes_max", "run_dir_bytes_final", "run_dir_files_final",
    "run_dir_files_max", "checkpoints_kept_final", "checkpoints_kept_max",
    "steps_per_second", "steps_per_second_after_warmup",
    "train_reported_steps_per_second", "loadavg_start_end", "loadavg_mean",
    "targets", "rss_by_step_bytes", "samples")


def define_flags():
  """Defines the command-line flags (only when run as a script, so that
  importing this module next to other absl programs cannot clash)."""
  flags.DEFINE_integer("steps", 20000, "Training steps of the run.")
  flags.DEFINE_integer("warmup_step", None,
                       "RSS at the first log line at or after this step is "
                       "the baseline of the growth check; default: 10% of "
                       "--steps.")
  flags.DEFINE_string("cpus", None,
                      "Pin the training process to these CPUs (taskset -c "
                      "list, e.g. '1' or '0,1'); default: not pinned.")
  flags.DEFINE_float("sample_seconds", 5.0, "Interval between samples.")
  flags.DEFINE_string("model_dir", None,
                      "Run directory; must be absent or empty (kept "
                      "afterwards). Default: a fresh temporary directory, "
                      "deleted afterwards.")
  flags.DEFINE_integer("log_every", None,
                       "Passed to train.py; default: the run's default.")
  flags.DEFINE_integer("checkpoint_every", None,
                       "Passed to train.py; default: the run's default.")
  flags.DEFINE_integer("image_summary_every", None,
                       "Passed to train.py; default: the run's default.")
  flags.DEFINE_string("output", None, "Write the results as JSON here.")


FLAGS = flags.FLAGS


def descendants(pid):
  """pid and the ids of all its descendant processes (from /proc)."""
  found, pending = [], [pid]
  while pending:
    current = pending.pop()
    found.append(current)
    for children in glob.glob(f"/proc/{current}/task/*/children"):
      try:
        with open(children) as f:
          pending.extend(int(c) for c in f.read().split())
      except (OSError, ValueError):
        pass  # the task ended while being read
  return found


def tree_rss_bytes(pid):
  """(summed VmRSS in bytes of pid and its descendants, process count)."""
  total, count = 0, 0
  for process in descendants(pid):
    rss = memory_benchmark.read_status_bytes(process, "VmRSS")
    if rss is not None:
      total += rss
      count += 1
  return total, count


def directory_usage(path):
  """(total bytes of the regular files under path, their count).

  Files removed while walking (old checkpoints being deleted) are skipped.
  """
  total, count = 0, 0
  for root, _, files in os.walk(path):
    for name in files:
      try:
        total += os.lstat(os.path.join(root, name)).st_size
        count += 1
      except OSError:
        pass
  return total, count


def checkpoints_kept(model_dir):
  """Checkpoints present in the run directory (one .index file each)."""
  return len(glob.glob(os.path.join(model_dir, "checkpoints", "*.index")))


def train_command(model_dir):
  command = [sys.executable,
             os.path.join(memory_benchmark.REPO_ROOT, "scripts", "train.py"),
             f"--model_dir={model_dir}", f"--steps={FLAGS.steps}",
             "--export_dir="]
  for name in ("log_every", "checkpoint_every", "image_summary_every"):
    if FLAGS[name].value is not None:
      command.append(f"--{name}={FLAGS[name].value}")
  if FLAGS.cpus:
    command = ["taskset", "-c", FLAGS.cpus] + command
  return command


class _StderrReader(threading.Thread):
  """Reads the run's stderr: RSS and time at each step line, and a tail."""

  def __init__(self, process, start):
    super().__init__(daemon=True)
    self._process = process
    self._start = start
    self.step = 0
    self.step_lines = []  # (seconds, step, rss bytes)
    self.tail = []
    self.reported_steps_per_second = None
    self.cpu_affinity = None  # of the training process, once it trains

  def run(self):
    for line in self._process.stderr:
      self.tail = (self.tail + [line])[-40:]
      match = memory_benchmark.STEP_LINE.search(line)
      if match:
        rss, _ = tree_rss_bytes(self._process.pid)
        if self.cpu_affinity is None:
          try:
            self.cpu_affinity = sorted(
                os.sched_getaffinity(self._process.pid))
          except OSError:
            pass  # it has just ended
        self.step = int(match.group(1))
        self.step_lines.append(
            (time.perf_counter() - self._start, self.step, rss))
      done = _DONE_LINE.search(line)
      if done:
        self.reported_steps_per_second = float(done.group(2))


def warmup_step():
  """The step ending the warm-up: --warmup_step, or 10% of --steps."""
  if FLAGS.warmup_step is not None:
    return FLAGS.warmup_step
  return FLAGS.steps // 10


def summarize(command, reader, samples, returncode, seconds, loadavg_start,
              finished):
  """The results dict from what was watched so far."""
  warmup = warmup_step()
  after = [(t, s, r) for t, s, r in reader.step_lines if s >= warmup]
  base = after[0] if after else None
  end = reader.step_lines[-1] if reader.step_lines else None
  rss_after = ([r for _, _, r in after] +
               [x["rss_bytes"] for x in samples
                if x["step"] >= warmup and x["rss_bytes"]])
  max_after = max(rss_after) if rss_after else None

  def growth(value):
    if base is None or value is None or not base[2]:
      return None
    return value / base[2] - 1.0

  dir_points = {}
  for fraction in DIR_POINTS:
    target = int(round(fraction * FLAGS.steps))
    reached = [x for x in samples if x["step"] >= target]
    if reached:
      dir_points[str(target)] = reached[0]["run_dir_bytes"]
  final = samples[-1] if samples else None
  steps_per_second = None
  if end and end[0] > 0:
    steps_per_second = end[1] / seconds if finished else end[1] / end[0]
  after_rate = None
  if base and end and end[0] > base[0]:
    after_rate = (end[1] - base[1]) / (end[0] - base[0])
  # While the run goes on (partial results), the growth so far.
  growth_fraction = growth(end[2]) if end else None
  kept = final["checkpoints"] if final and finished else None
  loads = [x["loadavg"] for x in samples]
  return {
      "finished": finished,
      "command": " ".join(command),
      "cpus": FLAGS.cpus,
      "cpu_affinity": reader.cpu_affinity,
      "steps": FLAGS.steps,
      "warmup_step": warmup,
      "step_reached": reader.step,
      "returncode": returncode,
      "seconds": seconds,
      "rss_at_warmup_bytes": base[2] if base else None,
      "rss_warmup_step": base[1] if base else None,
      "max_rss_after_warmup_bytes": max_after,
      "rss_at_end_bytes": end[2] if end else None,
      "growth_fraction": growth_fraction,
      "max_growth_fraction": growth(max_after),
      "run_dir_bytes_at_steps": dir_points,
      "run_dir_bytes_max": max((x["run_dir_bytes"] for x in samples),
                               default=None),
      "run_dir_bytes_final": final["run_dir_bytes"] if final else None,
      "run_dir_files_final": final["run_dir_files"] if final else None,
      "run_dir_files_max": max((x["run_dir_files"] for x in samples),
                               default=None),
      "checkpoints_kept_final": kept,
      "checkpoints_kept_max": max((x["checkpoints"] for x in samples),
                                  default=None),
      "steps_per_second": steps_per_second,
      "steps_per_second_after_warmup": after_rate,
      "train_reported_steps_per_second": reader.reported_steps_per_second,
      "loadavg_start_end": [loadavg_start, os.getloadavg()[0]],
      "loadavg_mean": sum(loads) / len(loads) if loads else None,
      "targets": {
          "growth_under": GROWTH_TARGET,
          "growth_met": (finished and growth_fraction is not None and
                         growth_fraction < GROWTH_TARGET),
          "checkpoints_kept": CHECKPOINTS_TARGET,
          "checkpoints_met": kept == CHECKPOINTS_TARGET,
      },
      "rss_by_step_bytes": {str(s): r for _, s, r in reader.step_lines},
      "samples": samples,
  }


def _sample(process, reader, model_dir, start):
  rss, processes = tree_rss_bytes(process.pid)
  size, files = directory_usage(model_dir)
  return {
      "seconds": round(time.perf_counter() - start, 2),
      "step": reader.step,
      # None once the process has exited (no readable status left).
      "rss_bytes": rss if processes else None,
      "processes": processes,
      "run_dir_bytes": size,
      "run_dir_files": files,
      "checkpoints": checkpoints_kept(model_dir),
      "loadavg": os.getloadavg()[0],
  }


def soak(model_dir):
  """Runs and watches the training process; returns the results dict."""
  command = train_command(model_dir)
  loadavg_start = os.getloadavg()[0]
  start = time.perf_counter()
  process = subprocess.Popen(command, cwd=memory_benchmark.REPO_ROOT,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
  reader = _StderrReader(process, start)
  reader.start()
  samples = []
  last_write = start
  try:
    while process.poll() is None:
      samples.append(_sample(process, reader, model_dir, start))
      latest = samples[-1]
      rss = latest["rss_bytes"]
      print(f"{latest['seconds']:8.0f} s  step {latest['step']:>6}  RSS "
            f"{f'{rss / 1e6:7.1f}' if rss else '    n/a'} MB  run dir "
            f"{latest['run_dir_bytes'] / 1e6:7.1f} MB "
            f"{latest['run_dir_files']:>4} files  checkpoints "
            f"{latest['checkpoints']}", flush=True)
      if FLAGS.output and time.perf_counter() - last_write > (
          PARTIAL_WRITE_SECONDS):
        last_write = time.perf_counter()
        io_utils.write_json_atomic(FLAGS.output, summarize(
            command, reader, samples, None, last_write - start,
            loadavg_start, finished=False))
      try:
        process.wait(timeout=FLAGS.sample_seconds)
      except subprocess.TimeoutExpired:
        pass
  finally:
    if process.poll() is None:  # interrupted: do not leave it training
      process.kill()
      process.wait()
  reader.join()
  seconds = time.perf_counter() - start
  # The finished directory, as a user finds it.
  size, files = directory_usage(model_dir)
  samples.append({
      "seconds": round(seconds, 2), "step": reader.step, "rss_bytes": None,
      "processes": 0, "run_dir_bytes": size, "run_dir_files": files,
      "checkpoints": checkpoints_kept(model_dir),
      "loadavg": os.getloadavg()[0]})
  results = summarize(command, reader, samples, process.returncode, seconds,
                      loadavg_start, finished=process.returncode == 0)
  return results, reader.tail


def print_table(results):
  def mb(value):
    return f"{value / 1e6:.1f} MB" if value is not None else "n/a"

  def pct(value):
    return f"{100 * value:+.2f}%" if value is not None else "n/a"

  targets = results["targets"]
  print()
  print(f"Soak: {results['command']}")
  print(f"training process on CPUs {results['cpu_affinity']}")
  print(f"{results['step_reached']} of {results['steps']} steps in "
        f"{results['seconds']:.0f} s; load average "
        f"{results['loadavg_start_end'][0]:.2f} -> "
        f"{results['loadavg_start_end'][1]:.2f} "
        f"(mean {results['loadavg_mean'] or 0:.2f})")
  rows = [
      ("RSS at end of warm-up (step "
       f"{results['rss_warmup_step']})", mb(results["rss_at_warmup_bytes"])),
      ("max RSS after warm-up", mb(results["max_rss_after_warmup_bytes"])
       + f" ({pct(results['max_growth_fraction'])})"),
      ("RSS at end", mb(results["rss_at_end_bytes"])),
      ("growth", pct(results["growth_fraction"])),
  ]
  for step, size in results["run_dir_bytes_at_steps"].items():
    rows.append((f"run dir at step {step}", mb(size)))
  rows += [
      ("run dir max", mb(results["run_dir_bytes_max"])),
      ("run dir final", f"{mb(results['run_dir_bytes_final'])}, "
       f"{results['run_dir_files_final']} files"),
      ("checkpoints kept at end", str(results["checkpoints_kept_final"])),
      ("steps/s (whole run, with start-up)",
       f"{results['steps_per_second'] or 0:.2f}"),
      ("steps/s after warm-up",
       f"{results['steps_per_second_after_warmup'] or 0:.2f}"),
  ]
  width = max(len(name) for name, _ in rows)
  for name, value in rows:
    print(f"  {name:<{width}}  {value}")
  print(f"{'PASS' if targets['growth_met'] else 'FAIL'}: RSS growth after "
        f"warm-up {pct(results['growth_fraction'])} "
        f"(target < {100 * targets['growth_under']:.0f}%)")
  print(f"{'PASS' if targets['checkpoints_met'] else 'FAIL'}: checkpoints "
        f"kept at end {results['checkpoints_kept_final']} "
        f"(target {targets['checkpoints_kept']})")
  sys.stdout.flush()


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  if FLAGS.steps < 1:
    raise cli.UsageError(f"--steps must be >= 1, got {FLAGS.steps}")
  if not 0 <= warmup_step() < FLAGS.steps:
    raise cli.UsageError(f"--warmup_step must be in [0, --steps), got "
                         f"{warmup_step()}")
  if not FLAGS.sample_seconds > 0:
    raise cli.UsageError(f"--sample_seconds must be > 0, got "
                         f"{FLAGS.sample_seconds}")
  if FLAGS.cpus is not None and not shutil.which("taskset"):
    raise cli.UsageError("--cpus needs the taskset program, not found")
  model_dir = FLAGS.model_dir
  if model_dir and os.path.exists(model_dir) and (
      not os.path.isdir(model_dir) or os.listdir(model_dir)):
    raise cli.UsageError(f"--model_dir={model_dir} is not an empty "
                         "directory; the soak needs a fresh run")
  temporary = not model_dir
  if temporary:
    model_dir = tempfile.mkdtemp(prefix="soak_")
  try:
    results, tail = soak(model_dir)
  finally:
    if temporary:
      shutil.rmtree(model_dir, ignore_errors=True)
  print_table(results)
  if FLAGS.output:
    io_utils.write_json_atomic(FLAGS.output, results)
    print(f"wrote {FLAGS.output}")
  if results["returncode"]:
    sys.stderr.write(f"{PROGRAM}: error: the training run failed (exit "
                     f"{results['returncode']}):\n" + "".join(tail))
    sys.exit(1)


def _guarded(function, argv):
  """Runs function(argv); a UsageError exits 2 with one line."""
  try:
    return function(argv)
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))


if __name__ == "__main__":
  define_flags()
  app.run(lambda argv: _guarded(main, argv),
          flags_parser=cli.flags_parser(PROGRAM))
