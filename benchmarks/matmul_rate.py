r"""This machine's TensorFlow float32 matrix-multiply rate, GFLOP/s.

  python benchmarks/matmul_rate.py
  python benchmarks/matmul_rate.py --size=2048 --repeats=5

One number to compare machines by: training speed scales with it (the
README gives the default run's steps/s beside the rates of the machines it
was measured on, so a run can be checked against its machine).  Multiplies
two random ``size`` x ``size`` float32 matrices on TensorFlow's default
device, ``--repeats`` timed rounds of ``--multiplies`` products each after
one untimed round, and prints the best and median rate (2·size³ flops per
product) and the load average before and after.
"""

import os
import statistics
import time

from absl import app
from absl import flags


def define_flags():
  """Defines the flags (only when run as a script, so that importing this
  module next to other absl programs cannot clash)."""
  flags.DEFINE_integer("size", 2048, "Rows (= columns) of each matrix.")
  flags.DEFINE_integer("multiplies", 10, "Products per timed round.")
  flags.DEFINE_integer("repeats", 5, "Timed rounds.")


FLAGS = flags.FLAGS


def matmul_rates(size, multiplies, repeats):
  """GFLOP/s of each timed round of ``multiplies`` size×size products."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  # A chain of products, each using the last: identical products would be
  # merged into one by TensorFlow's graph optimiser, and constant inputs
  # folded.  Scaling by 1/sqrt(size) keeps the values' magnitude steady.
  start_matrix = tf.random.normal((size, size), seed=0)
  factor = tf.random.normal((size, size), seed=1) / size ** 0.5

  def products():
    current = start_matrix
    for _ in range(multiplies):
      current = tf.matmul(current, factor)
    return float(current[0, 0])  # waits for the last product

  products()  # untimed: thread-pool and kernel start-up
  rates = []
  for _ in range(repeats):
    start = time.perf_counter()
    products()
    seconds = time.perf_counter() - start
    rates.append(2.0 * size ** 3 * multiplies / seconds / 1e9)
  return rates


def main(argv):
  del argv
  load_before = os.getloadavg()
  rates = matmul_rates(FLAGS.size, FLAGS.multiplies, FLAGS.repeats)
  load_after = os.getloadavg()
  print(f"float32 {FLAGS.size}x{FLAGS.size} matmul: best "
        f"{max(rates):.0f} GFLOP/s, median {statistics.median(rates):.0f} "
        f"GFLOP/s over {FLAGS.repeats} rounds of {FLAGS.multiplies}")
  print("rounds: " + ", ".join(f"{rate:.0f}" for rate in rates))
  print("load average (1/5/15 min) before: "
        + " / ".join(f"{x:.2f}" for x in load_before) + "; after: "
        + " / ".join(f"{x:.2f}" for x in load_after))


if __name__ == "__main__":
  define_flags()
  from tf_betavae import cli  # pylint: disable=g-import-not-at-top
  cli.run(main)
