r"""In-process latency and throughput of an export's serving_default.

  python benchmarks/serving_latency.py                      # default conv model
  python benchmarks/serving_latency.py --saved_model=exported/dsprites/1

Loads the SavedModel with plain tf.saved_model.load (as TF Serving users
and downstream code do) and prints batch-1 latency (p50, p99, ms) and
batch-256 throughput (images/s).  Targets (2 CPU cores, default conv
model): p50 at batch 1 under 3 ms; batch 256 at least 5,000 images/s.
Without --saved_model it exports an untrained default model to a temporary
directory first (weights do not change the cost).
"""

import tempfile
import time

from absl import app
from absl import flags
import numpy as np

from tf_betavae import io_utils


flags.DEFINE_string("saved_model", None, "Export to measure; default an "
                    "untrained default conv model.")
flags.DEFINE_integer("latency_calls", 2000, "Batch-1 calls timed.")
flags.DEFINE_integer("throughput_batches", 40, "Batch-256 calls timed.")
flags.DEFINE_integer("batch_size", 256, "Throughput batch size.")
flags.DEFINE_string("output", None, "Optional JSON file for the numbers.")

FLAGS = flags.FLAGS


def measure(saved_model, latency_calls, throughput_batches, batch_size):
  """Returns a dict of the measured numbers."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  loaded = tf.saved_model.load(saved_model)
  serve = loaded.signatures["serving_default"]
  shape = serve.structured_input_signature[1]["images"].shape[1:]
  rng = np.random.RandomState(0)
  one = tf.constant(rng.uniform(size=(1,) + tuple(shape)), tf.float32)
  batch = tf.constant(rng.uniform(size=(batch_size,) + tuple(shape)),
                      tf.float32)
  for _ in range(50):
    serve(images=one)
  times = []
  for _ in range(latency_calls):
    start = time.perf_counter()
    serve(images=one)["latent_mean"].numpy()
    times.append(time.perf_counter() - start)
  times_ms = np.array(times) * 1000.0
  for _ in range(3):
    serve(images=batch)
  start = time.perf_counter()
  for _ in range(throughput_batches):
    serve(images=batch)["latent_mean"].numpy()
  elapsed = time.perf_counter() - start
  return {
      "saved_model": saved_model,
      "batch1_p50_ms": float(np.percentile(times_ms, 50)),
      "batch1_p99_ms": float(np.percentile(times_ms, 99)),
      "batch1_mean_ms": float(times_ms.mean()),
      "throughput_batch_size": batch_size,
      "throughput_images_per_second": throughput_batches * batch_size / elapsed,
  }


def main(argv):
  del argv
  saved_model = FLAGS.saved_model
  if saved_model is None:
    from tf_betavae import export, training  # pylint: disable=g-import-not-at-top
    model = training.build_model(training.TrainConfig(), (64, 64, 1))
    saved_model = export.export_model(model, tempfile.mkdtemp(),
                                      model_name="untrained",
                                      metadata={"dataset": "dsprites"})
  result = measure(saved_model, FLAGS.latency_calls, FLAGS.throughput_batches,
                   FLAGS.batch_size)
  print(f"serving_default batch 1: p50 {result['batch1_p50_ms']:.2f} ms, "
        f"p99 {result['batch1_p99_ms']:.2f} ms (target p50 < 3 ms)")
  print(f"serving_default batch {result['throughput_batch_size']}: "
        f"{result['throughput_images_per_second']:.0f} images/s "
        "(target >= 5000)")
  if FLAGS.output:
    io_utils.write_json_atomic(FLAGS.output, result)


if __name__ == "__main__":
  app.run(main)
