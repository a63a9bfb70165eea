r"""Training images/s of every method beside β-VAE's, interleaved in one run.

  python benchmarks/method_throughput.py
  python benchmarks/method_throughput.py --steps=50 --repeats=3 \
      --methods=beta_vae,factor_vae --output=methods.json

Each method trains the default conv model (batch 64, the simulator's tf.data
stream, the library's StepRunner: what scripts/train.py runs) in its own
spawned worker process. The parent runs --steps steps on each worker in
turn, rotating the order every round, so that load from elsewhere hits all
methods alike, and reports the median images/s over --repeats rounds and
each method's step cost relative to β-VAE's (target: FactorVAE and β-TCVAE
at most 1.5x).  A step of the weakly-supervised methods encodes and decodes
both images of --batch_size pairs: their images/s count both, and their
target is a step at most 2.2x β-VAE's (1.1x per image).
"""

import json
import os
import statistics
import sys

from absl import app
from absl import flags

import throughput_workers

from tf_betavae.models import methods as methods_lib

FLAGS = flags.FLAGS
flags.DEFINE_list("methods", list(methods_lib.METHOD_NAMES),
                  "Methods to time (beta_vae is always included: the "
                  "reference).")
flags.DEFINE_integer("steps", 100, "Steps per method per round.")
flags.DEFINE_integer("warmup_steps", 20, "Steps before timing (tracing).")
flags.DEFINE_integer("repeats", 3, "Rounds.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("tf_threads", 0, "TF intra-op threads (0: default).")
flags.DEFINE_string("output", None, "Write the results as JSON here.")

# The ceilings on a step's cost relative to β-VAE's.
COST_TARGETS = {"factor_vae": 1.5, "beta_tc_vae": 1.5,
                **{name: 2.2 for name in methods_lib.WEAK_METHODS}}


def images_per_step(method, batch_size):
  """Images a step of ``method`` encodes: the batch, or both of each pair."""
  return batch_size * (2 if methods_lib.is_weak(method) else 1)


def _spec(method):
  return {"kind": "tf", "name": method, "method": method, "xla": False,
          "pool": False, "onednn": True, "intra": None, "inter": None,
          "tf_threads": FLAGS.tf_threads, "batch_size": FLAGS.batch_size,
          "warmup_steps": FLAGS.warmup_steps}


def measure(method_names):
  """{method: [images/s per round]} and the rounds' load averages."""
  workers = {}
  rates = {name: [] for name in method_names}
  loads = []
  try:
    for name in method_names:
      print(f"starting worker {name} ...", flush=True)
      workers[name] = throughput_workers.Worker(name, _spec(name))
    for r in range(FLAGS.repeats):
      shift = r % len(method_names)
      order = method_names[shift:] + method_names[:shift]
      loads.append(os.getloadavg()[0])
      for name in order:
        seconds, loss = workers[name].run(FLAGS.steps)
        rate = FLAGS.steps * images_per_step(name, FLAGS.batch_size) / seconds
        rates[name].append(rate)
        print(f"round {r}: {name:<13} {rate:8.1f} images/s  (loss "
              f"{loss:.1f})", flush=True)
  finally:
    for worker in workers.values():
      worker.close()
  return rates, loads


def summarize(rates):
  """Median images/s, and the step and per-image costs relative to
  β-VAE's, per method."""
  reference = statistics.median(rates["beta_vae"])
  summary = {}
  for name, values in rates.items():
    median = statistics.median(values)
    per_image = reference / median
    summary[name] = {
        "images_per_second_median": median, "images_per_second": values,
        "cost_per_image_vs_beta_vae": per_image,
        "cost_vs_beta_vae": per_image * images_per_step(name, 1)}
  return summary


def main(argv):
  del argv
  names = ["beta_vae"] + [m for m in FLAGS.methods if m != "beta_vae"]
  for name in names:
    if name not in methods_lib.METHODS:
      sys.stderr.write(f"method_throughput.py: error: unknown method "
                       f"{name!r}; choose from "
                       f"{', '.join(methods_lib.METHOD_NAMES)}\n")
      sys.exit(2)
  rates, loads = measure(names)
  summary = summarize(rates)
  print(f"\nbatch {FLAGS.batch_size}, {FLAGS.steps} steps x "
        f"{FLAGS.repeats} rounds; load average {min(loads):.1f}-"
        f"{max(loads):.1f}")
  print(f"{'method':<13} {'images/s':>9} {'step cost vs beta_vae':>22} "
        f"{'per image':>10}")
  for name in names:
    entry = summary[name]
    note = ""
    if name in COST_TARGETS:
      target = COST_TARGETS[name]
      met = entry["cost_vs_beta_vae"] <= target
      note = f"  target <= {target}x: {'met' if met else 'MISSED'}"
    print(f"{name:<13} {entry['images_per_second_median']:9.1f} "
          f"{entry['cost_vs_beta_vae']:21.2f}x "
          f"{entry['cost_per_image_vs_beta_vae']:9.2f}x{note}")
  if FLAGS.output:
    with open(FLAGS.output, "w") as f:
      json.dump({"batch_size": FLAGS.batch_size, "steps": FLAGS.steps,
                 "repeats": FLAGS.repeats, "loadavg": loads,
                 "summary": summary}, f, indent=2)


if __name__ == "__main__":
  app.run(main)
