r"""Training throughput: tf_betavae vs an equivalent PyTorch model, one run.

Measures images/s of training steps of the default conv β-VAE (batch 64,
10 latents, Bernoulli likelihood, β = 4, Adam lr 5e-4) in TensorFlow, fed by
the real input pipeline (the dSprites simulator rendering inside tf.data),
and of the same architecture and loss written in PyTorch below.

  python benchmarks/train_throughput.py                   # TF vs PyTorch
  python benchmarks/train_throughput.py --end_to_end      # + scripts/train.py
  python benchmarks/train_throughput.py \
      --tf_variants=tf,tf+xla,tf+pool,tf+noonednn,tf+intra=2+inter=1
  python benchmarks/train_throughput.py --output=/tmp/throughput.json

Fairness and method:

* Each side runs in its own spawned worker process (a fresh interpreter that
  loads TF or PyTorch itself: own thread pools, no shared oneDNN/OpenMP
  state).  The parent alternates the sides within one run:
  every round runs ``--steps`` timed steps on each side in turn (the order
  rotates each round), so load from other processes hits both sides alike.
  An idle worker blocks on a pipe and uses no CPU.
* PyTorch gets **pre-rendered** data: ``--torch_pool_batches`` batches of
  simulator images rendered once by TF (the same generator as the TF
  stream), held as torch tensors and cycled.  That is the favourable case
  for PyTorch (its input pipeline costs nothing); TF pays for rendering on
  the fly in tf.data, as in ``scripts/train.py``.
* PyTorch runs with its defaults and ``torch.set_num_threads`` = the core
  count, and (by default) also as a second worker with 1 thread; the ratio
  is taken against the faster PyTorch worker of each round.  (When other
  processes load the cores, PyTorch's spin-waiting OpenMP threads slow down
  several-fold with 2 threads, and 1 thread is then faster; taking the best
  keeps that effect from flattering TF.)  TF uses its defaults (all cores)
  unless ``--tf_threads`` is set.
* Both models have the same layers and the same parameter count (checked).
  Weight initialisers differ (Keras Glorot-uniform, PyTorch Kaiming-uniform),
  which does not change the cost of a step.  The TF step also updates the
  library's loss/KL trackers (per-latent KL via TFP), as in real training.

TF variants (``--tf_variants``, comma separated; the ratio target uses the
first one): ``tf`` is the library as used by scripts/train.py (real pipeline,
no XLA).  Modifiers joined with ``+``: ``xla`` (StepRunner jit_compile=True),
``pool`` (feed a pre-rendered pool through tf.data, like PyTorch: isolates
the input pipeline's cost), ``noonednn`` (TF_ENABLE_ONEDNN_OPTS=0),
``intra=N`` / ``inter=N`` (TF op thread pools).

``--end_to_end`` also runs ``scripts/train.py --steps=--e2e_steps`` (logging
every 100 steps and checkpoints every 1000, its defaults; no export) in a
subprocess between two PyTorch rounds and compares its steps/s (from its
train_summary.json: steps of this run / training seconds, which include the
input pipeline, logging, checkpoints and the first trace) with the mean
PyTorch steps/s of the two adjacent rounds.

Output: a table on stdout and, with ``--output``, a JSON file (keys listed in
``RESULT_KEYS``).
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

from tf_betavae import io_utils
# Sibling module (benchmarks/ is the script's directory).
import throughput_workers  # pylint: disable=g-bad-import-order
from throughput_workers import build_torch_model  # pylint: disable=unused-import
from throughput_workers import tf_parameter_count  # pylint: disable=unused-import
from throughput_workers import torch_parameter_count  # pylint: disable=unused-import

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def define_flags():
  """Defines the command-line flags (only when run as a script, so that
  importing this module next to other absl programs cannot clash)."""
  flags.DEFINE_integer("steps", 200,
                       "Timed training steps per side per round.")
  flags.DEFINE_integer("warmup_steps", 20,
                       "Untimed steps per worker before the first round (the "
                       "TF trace happens here).")
  flags.DEFINE_integer("repeats", 3,
                       "Rounds (each side runs --steps per round).")
  flags.DEFINE_integer("batch_size", 64, "Images per step.")
  flags.DEFINE_integer("tf_threads", 0,
                       "TF intra-op threads; 0 = TF's default (all cores).")
  flags.DEFINE_list("torch_threads", ["0", "1"],
                    "PyTorch configurations: torch.set_num_threads values, one "
                    "worker each; 0 = all cores of this process.  The ratio "
                    "target is taken against the fastest one in each round "
                    "(the conservative comparison: with all cores, PyTorch's "
                    "spinning OpenMP threads collapse when other processes "
                    "load the machine, see README).")
  flags.DEFINE_boolean("torch_omp_passive", False,
                       "Run the PyTorch workers with OMP_WAIT_POLICY=PASSIVE "
                       "(not PyTorch's default; helps it under external "
                       "load).")
  flags.DEFINE_list("tf_variants", ["tf"],
                    "TF configurations to time; see the module docstring.")
  flags.DEFINE_integer("torch_pool_batches", 32,
                       "Pre-rendered simulator batches fed to PyTorch "
                       "(cycled).")
  flags.DEFINE_boolean("torch", True,
                       "Also time PyTorch (skipped with a message when torch "
                       "is not installed).")
  flags.DEFINE_boolean("end_to_end", False,
                       "Also run scripts/train.py in a subprocess.")
  flags.DEFINE_integer("e2e_steps", 1000, "Steps of the --end_to_end run.")
  flags.DEFINE_integer("e2e_repeats", 1, "Number of --end_to_end runs.")
  flags.DEFINE_string("train_script", os.path.join(REPO_ROOT, "scripts",
                                                   "train.py"),
                      "The end-to-end training script; if it does not exist, "
                      "tf_betavae.training.train is run in a subprocess.")
  flags.DEFINE_string("output", None, "Write the results as JSON here.")


FLAGS = flags.FLAGS

TARGET_RATIO = 1.2
RESULT_KEYS = ("machine", "settings", "torch_data", "parameter_count",
               "variants", "rounds", "summary", "end_to_end")

TORCH_DATA_NOTE = (
    "PyTorch is fed a pre-rendered pool of simulator batches (rendered once "
    "by the TF simulator, held as torch tensors and cycled): the favourable "
    "case for PyTorch, which pays nothing for its input pipeline; TF renders "
    "every batch on the fly in tf.data.")


def num_cores():
  """CPU cores this process may run on (int)."""
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:
    return os.cpu_count() or 1


# ---------------------------------------------------------------------------
# End to end: scripts/train.py in a subprocess.
# ---------------------------------------------------------------------------

_LIBRARY_TRAIN = """
from absl import logging
from tf_betavae import training
logging.set_verbosity(logging.INFO)
training.train(training.TrainConfig(steps={steps}), {model_dir!r})
"""


def run_train_script(steps, model_dir, train_script=None, extra_flags=()):
  """Runs a default training run in a subprocess; returns its summary dict.

  Uses ``train_script`` (scripts/train.py) when it exists, else
  ``tf_betavae.training.train``.  Adds 'launcher' and 'process_seconds'.
  """
  if train_script and os.path.exists(train_script):
    command = [sys.executable, train_script, f"--model_dir={model_dir}",
               f"--steps={steps}", "--export_dir="] + list(extra_flags)
    launcher = os.path.relpath(train_script, REPO_ROOT)
  else:
    command = [sys.executable, "-c", _LIBRARY_TRAIN.format(
        steps=steps, model_dir=model_dir)]
    launcher = "tf_betavae.training.train"
  start = time.perf_counter()
  completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True,
                             text=True, check=False)
  process_seconds = time.perf_counter() - start
  if completed.returncode:
    raise RuntimeError(f"{' '.join(command)} failed "
                       f"({completed.returncode}):\n{completed.stderr[-3000:]}")
  summary = io_utils.read_json(os.path.join(model_dir, "train_summary.json"))
  summary["launcher"] = launcher
  summary["process_seconds"] = process_seconds
  return summary


# ---------------------------------------------------------------------------
# The benchmark.
# ---------------------------------------------------------------------------

def _torch_available():
  try:
    import torch  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    return False
  return True


def _median(values):
  return statistics.median(values) if values else None


def _start_workers(workers, variants, use_torch, base, pool_path, cores):
  """Starts the TF variant workers, then the PyTorch ones, into ``workers``
  ({name: Worker}, in start order; filled as they start, so that the caller
  can close the started ones if a later one fails).

  Returns:
    names of the PyTorch workers.
  """
  need_pool = use_torch or any(v["pool"] for v in variants)
  for i, variant in enumerate(variants):
    spec = dict(base, kind="tf", **variant)
    if i == 0 and need_pool:
      spec["pool_path_out"] = pool_path
    if variant["pool"] and i != 0:
      assert os.path.exists(pool_path)
    print(f"starting worker {variant['name']} ...", flush=True)
    workers[variant["name"]] = throughput_workers.Worker(variant["name"],
                                                         spec)
  torch_names = []
  if use_torch:
    for threads in dict.fromkeys(int(t) or cores
                                 for t in FLAGS.torch_threads):
      name = "torch" if threads == cores else f"torch_{threads}t"
      print(f"starting worker {name} ...", flush=True)
      workers[name] = throughput_workers.Worker(name, dict(
          base, kind="torch", torch_threads=threads,
          omp_passive=FLAGS.torch_omp_passive))
      torch_names.append(name)
  return torch_names


def _run_rounds(workers, torch_names, batch):
  """``--repeats`` rounds of ``--steps`` steps per worker, order rotating."""
  names = list(workers)
  rounds = []
  for r in range(FLAGS.repeats):
    order = names[r % len(names):] + names[:r % len(names)]
    entry = {"round": r, "order": order, "loadavg_before": os.getloadavg()[0]}
    for name in order:
      seconds, loss = workers[name].run(FLAGS.steps)
      entry[name] = {"seconds": seconds, "loss": loss,
                     "images_per_second": FLAGS.steps * batch / seconds}
      print(f"round {r}: {name:<24} {FLAGS.steps * batch / seconds:8.1f} "
            f"images/s  (loss {loss:.1f})", flush=True)
    entry["loadavg_after"] = os.getloadavg()[0]
    if torch_names:
      best = max(torch_names, key=lambda n: entry[n]["images_per_second"])
      entry["torch_best"] = dict(entry[best], worker=best)
    rounds.append(entry)
  return rounds


def _summarize(rounds, names, torch_names, variants, batch):
  """Medians over rounds per worker, and ratios to the fastest PyTorch."""
  summary = {}
  for name in names + (["torch_best"] if torch_names else []):
    ips = [e[name]["images_per_second"] for e in rounds]
    summary[name] = {"images_per_second_median": _median(ips),
                     "images_per_second_max": max(ips),
                     "steps_per_second_median": _median(ips) / batch}
    if torch_names and not name.startswith("torch"):
      ratios = [e[name]["images_per_second"] /
                e["torch_best"]["images_per_second"] for e in rounds]
      summary[name]["ratio_to_torch_per_round"] = ratios
      summary[name]["ratio_to_torch_median"] = _median(ratios)
  if torch_names:
    main = summary[variants[0]["name"]]
    summary["target_ratio"] = TARGET_RATIO
    summary["target_met"] = main["ratio_to_torch_median"] >= TARGET_RATIO
  return summary


def _end_to_end(workers, torch_names, workdir):
  """``--e2e_repeats`` runs of scripts/train.py between PyTorch rounds."""
  end_to_end = []
  for r in range(FLAGS.e2e_repeats):
    before = [workers[n].run(FLAGS.steps)[0] for n in torch_names]
    model_dir = os.path.join(workdir, f"e2e_{r}")
    print(f"end to end: training {FLAGS.e2e_steps} steps ...", flush=True)
    result = run_train_script(FLAGS.e2e_steps, model_dir, FLAGS.train_script)
    after = [workers[n].run(FLAGS.steps)[0] for n in torch_names]
    item = {"launcher": result["launcher"],
            "steps": result["steps_this_run"],
            "steps_per_second": result["steps_per_second"],
            "train_seconds": result["train_seconds"],
            "wall_seconds": result["wall_seconds"],
            "process_seconds": result["process_seconds"]}
    if torch_names:
      # Per PyTorch worker, the mean of the rounds just before and after;
      # compare with the fastest worker.
      torch_sps = {n: statistics.mean([FLAGS.steps / b, FLAGS.steps / a])
                   for n, b, a in zip(torch_names, before, after)}
      item["torch_steps_per_second_adjacent"] = torch_sps
      item["torch_steps_per_second"] = max(torch_sps.values())
      item["ratio_to_torch"] = (item["steps_per_second"] /
                                item["torch_steps_per_second"])
      item["target_met"] = item["ratio_to_torch"] >= 1.0
    end_to_end.append(item)
  return end_to_end


def benchmark():
  """Runs the interleaved benchmark; returns the results dict."""
  cores = num_cores()
  loadavg_start = os.getloadavg()[0]
  batch = FLAGS.batch_size
  variants = [throughput_workers.parse_variant(v) for v in FLAGS.tf_variants]
  use_torch = FLAGS.torch and _torch_available()
  torch_message = None
  if FLAGS.torch and not use_torch:
    torch_message = ("PyTorch is not installed (pip install torch, or the "
                     "'bench' extra): measuring TF only.")
    print(torch_message, flush=True)
  workdir = tempfile.mkdtemp(prefix="train_throughput_")
  pool_path = os.path.join(workdir, "pool.npy")
  base = {"batch_size": batch, "warmup_steps": FLAGS.warmup_steps,
          "tf_threads": FLAGS.tf_threads, "pool_path": pool_path,
          "pool_batches": FLAGS.torch_pool_batches}
  workers = {}
  try:
    torch_names = _start_workers(workers, variants, use_torch, base,
                                 pool_path, cores)
    counts = {name: w.info["parameter_count"] for name, w in workers.items()}
    if len(set(counts.values())) != 1:
      raise AssertionError(f"parameter counts differ: {counts}")
    rounds = _run_rounds(workers, torch_names, batch)
    summary = _summarize(rounds, list(workers), torch_names, variants, batch)
    end_to_end = (_end_to_end(workers, torch_names, workdir)
                  if FLAGS.end_to_end else None)
  finally:
    for worker in workers.values():
      worker.close()

  return {
      "machine": {"cores": cores, "python": sys.version.split()[0],
                  "loadavg_start_end": [loadavg_start, os.getloadavg()[0]],
                  "torch": workers[torch_names[0]].info["version"]
                           if torch_names else None,
                  "torch_threads": {n: workers[n].info["threads"]
                                    for n in torch_names},
                  "tf_threads": {n: (w.info["intra_op_threads"],
                                     w.info["inter_op_threads"])
                                 for n, w in workers.items()
                                 if n not in torch_names}},
      "settings": {"steps": FLAGS.steps, "warmup_steps": FLAGS.warmup_steps,
                   "repeats": FLAGS.repeats, "batch_size": batch,
                   "tf_variants": FLAGS.tf_variants,
                   "torch_message": torch_message,
                   "torch_omp_passive": FLAGS.torch_omp_passive},
      "torch_data": TORCH_DATA_NOTE if use_torch else None,
      "parameter_count": counts,
      "variants": variants,
      "rounds": rounds,
      "summary": summary,
      "end_to_end": end_to_end,
  }


def print_table(results):
  """The human-readable summary of benchmark() results."""
  summary = results["summary"]
  threads = results["machine"]["torch_threads"]
  print()
  print(f"Training throughput, conv β-VAE, batch "
        f"{results['settings']['batch_size']}, "
        f"{results['machine']['cores']} cores, median of "
        f"{results['settings']['repeats']} interleaved rounds of "
        f"{results['settings']['steps']} steps")
  print(f"parameters: {results['parameter_count']}")
  print(f"{'side':<34}{'images/s':>10}{'steps/s':>9}{'vs torch':>10}")
  for name, row in summary.items():
    if not isinstance(row, dict):
      continue
    if name == "torch_best":
      label = "PyTorch, fastest of the above"
    elif name.startswith("torch"):
      label = f"PyTorch {threads[name]} thr (pre-rendered)"
    elif "pool" in name:
      label = f"TF {name} (pre-rendered pool)"
    else:
      label = f"TF {name} (tf.data pipeline)"
    ratio = row.get("ratio_to_torch_median")
    print(f"{label:<34}{row['images_per_second_median']:>10.1f}"
          f"{row['steps_per_second_median']:>9.2f}"
          f"{(f'{ratio:.2f}x' if ratio else '-'):>10}")
  if threads:
    first = results["settings"]["tf_variants"][0]
    ratio = summary[first]["ratio_to_torch_median"]
    print(f"ratio TF/PyTorch images/s ({first} vs the fastest PyTorch worker "
          f"of each round, median): {ratio:.2f}x "
          f"(target >= {TARGET_RATIO}x: "
          f"{'met' if summary['target_met'] else 'NOT met'})")
    print("note: " + results["torch_data"])
  for item in results["end_to_end"] or []:
    line = (f"end to end {item['launcher']}: {item['steps_per_second']:.2f} "
            f"steps/s over {item['steps']} steps")
    if "torch_steps_per_second" in item:
      line += (f" vs PyTorch {item['torch_steps_per_second']:.2f} steps/s: "
               f"{item['ratio_to_torch']:.2f}x (target >= 1.0x: "
               f"{'met' if item['target_met'] else 'NOT met'})")
    print(line)
  sys.stdout.flush()


def main(argv):
  del argv
  results = benchmark()
  print_table(results)
  if FLAGS.output:
    io_utils.write_json_atomic(FLAGS.output, results)
    print(f"wrote {FLAGS.output}")


if __name__ == "__main__":
  define_flags()
  app.run(main)
