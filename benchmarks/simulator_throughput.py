r"""Throughput of the procedural dSprites simulator, images/s.

  python benchmarks/simulator_throughput.py
  python benchmarks/simulator_throughput.py --batch_sizes=64,4096 --repeats=5
  python benchmarks/simulator_throughput.py --output=/tmp/simulator.json

Measures, alternating the cases within each repeat so that load from other
processes hits them alike:

* ``stream_graph/B``: the tf.data training stream
  (``dsprites_simulator.training_dataset(B, seed)``), consumed inside one
  tf.function the way ``StepRunner`` consumes it (``next(iterator)`` in a
  ``tf.range`` loop; the consumer only touches one pixel per batch).  This
  is what the training loop sees; the target (>= 50,000 images/s) is
  checked on ``stream_graph/64``, the training batch size.
* ``stream_eager/B``: the same stream iterated from Python (``next(it)``
  per batch), which adds per-batch Python overhead.
* ``numpy_api``: ``DSpritesSimulator.sample_observations_from_factors`` on
  ``--numpy_images`` uniformly sampled factor vectors (returns a float32
  numpy array; as the metrics use it).

Every case runs once untimed first (tracing, pipeline start-up).  Reported:
median and max images/s over ``--repeats``.
"""

import os
import statistics
import sys
import time

from absl import app
from absl import flags

from tf_betavae import io_utils



def define_flags():
  """Defines the command-line flags (only when run as a script, so that
  importing this module next to other absl programs cannot clash)."""
  flags.DEFINE_list("batch_sizes", ["64", "1024", "4096"],
                    "Batch sizes of the tf.data stream.")
  flags.DEFINE_integer("images", 200000,
                       "Images per timed stream measurement (rounded up to "
                       "whole batches).")
  flags.DEFINE_integer("numpy_images", 50000,
                       "Images per timed numpy-API measurement.")
  flags.DEFINE_integer("repeats", 3, "Timed repeats of each case.")
  flags.DEFINE_boolean("eager", True, "Also time Python iteration of the "
                       "stream.")
  flags.DEFINE_string("output", None, "Write the results as JSON here.")


FLAGS = flags.FLAGS

TARGET_IMAGES_PER_SECOND = 50000
TARGET_CASE = "stream_graph/64"
RESULT_KEYS = ("cores", "loadavg_start_end", "settings", "cases", "target")


def _make_cases():
  """{name: (callable running one measurement -> images, description)}."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_betavae.data import dsprites_simulator  # pylint: disable=g-import-not-at-top

  cases = {}
  for batch_size in (int(b) for b in FLAGS.batch_sizes):
    num_batches = -(-FLAGS.images // batch_size)
    iterator = iter(dsprites_simulator.training_dataset(batch_size, seed=0))

    @tf.function
    def consume(iterator, n):
      total = tf.constant(0.0)
      for _ in tf.range(n):
        total += next(iterator)[0, 0, 0, 0]
      return total

    def graph_case(iterator=iterator, num_batches=num_batches,
                   batch_size=batch_size, consume=consume):
      consume(iterator, tf.constant(num_batches, tf.int64)).numpy()
      return num_batches * batch_size

    cases[f"stream_graph/{batch_size}"] = graph_case
    if FLAGS.eager:
      eager_iterator = iter(dsprites_simulator.training_dataset(batch_size,
                                                                seed=1))

      def eager_case(iterator=eager_iterator, num_batches=num_batches,
                     batch_size=batch_size):
        for _ in range(num_batches):
          batch = next(iterator)
        batch.numpy()
        return num_batches * batch_size

      cases[f"stream_eager/{batch_size}"] = eager_case

  simulator = dsprites_simulator.DSpritesSimulator()
  random_state = np.random.RandomState(0)

  def numpy_case():
    factors = simulator.sample_factors(FLAGS.numpy_images, random_state)
    images = simulator.sample_observations_from_factors(factors)
    assert images.shape == (FLAGS.numpy_images, 64, 64, 1)
    return FLAGS.numpy_images

  cases["numpy_api"] = numpy_case
  return cases


def benchmark():
  """Runs all cases interleaved; returns the results dict."""
  loadavg_start = os.getloadavg()[0]
  cases = _make_cases()
  for run in cases.values():  # warm-up: tracing and pipeline start-up
    run()
  samples = {name: [] for name in cases}
  names = list(cases)
  for r in range(FLAGS.repeats):
    order = names[r % len(names):] + names[:r % len(names)]
    for name in order:
      start = time.perf_counter()
      images = cases[name]()
      samples[name].append(images / (time.perf_counter() - start))
      print(f"repeat {r}: {name:<20} {samples[name][-1]:>10.0f} images/s",
            flush=True)
  results = {}
  for name, values in samples.items():
    results[name] = {"images_per_second_median": statistics.median(values),
                     "images_per_second_max": max(values),
                     "images_per_second_all": values}
  target = None
  if TARGET_CASE in results:
    value = results[TARGET_CASE]["images_per_second_median"]
    target = {"case": TARGET_CASE, "images_per_second": value,
              "target": TARGET_IMAGES_PER_SECOND,
              "met": value >= TARGET_IMAGES_PER_SECOND}
  try:
    cores = len(os.sched_getaffinity(0))
  except AttributeError:
    cores = os.cpu_count()
  return {"cores": cores,
          "loadavg_start_end": [loadavg_start, os.getloadavg()[0]],
          "settings": {"images": FLAGS.images,
                       "numpy_images": FLAGS.numpy_images,
                       "repeats": FLAGS.repeats,
                       "batch_sizes": [int(b) for b in FLAGS.batch_sizes]},
          "cases": results, "target": target}


def print_table(results):
  print()
  print(f"dSprites simulator throughput, {results['cores']} cores, "
        f"{results['settings']['repeats']} repeats (load average "
        f"{results['loadavg_start_end'][0]:.1f} -> "
        f"{results['loadavg_start_end'][1]:.1f})")
  print(f"{'case':<22}{'median images/s':>17}{'max images/s':>15}")
  for name, row in results["cases"].items():
    print(f"{name:<22}{row['images_per_second_median']:>17.0f}"
          f"{row['images_per_second_max']:>15.0f}")
  target = results["target"]
  if target:
    print(f"target: {target['case']} >= {target['target']} images/s: "
          f"{target['images_per_second']:.0f} "
          f"({'met' if target['met'] else 'NOT met'})")
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
