r"""Input pipeline vs training throughput for CelebA-style data, on this CPU.

Checks that training on real image data is never input-bound: the
CelebA-style pipeline (JPEG decode of the 148 x 148 centre crop + resize to
64 x 64, tf.data with parallel decoding, seeded shuffle, prefetch) must
deliver at least ``--target_ratio`` (3x) the images/s that the conv β-VAE
trains at (CelebA settings: 64 x 64 x 3, 32 latents, Gaussian likelihood,
batch 64) on the same machine.

  python benchmarks/input_pipeline.py
  python benchmarks/input_pipeline.py --num_images=2000 --rounds=3 \
      --output=/tmp/input_pipeline.json

Method:

* ``--num_images`` JPEGs of the real CelebA size (218 x 178 x 3, quality
  90) are generated: smooth random colour fields with mild noise, which
  encode to about the size of real aligned faces (~10 KB, not noise-sized).
* ``pipeline/records``: the JPEG bytes held as records in memory, as tfds
  serves them, through ``pipeline.record_batches`` with
  ``celeb_a.preprocess`` (the exact code of ``--dataset=celeb_a``,
  streaming mode).  ``pipeline/folder``: the same images as files through
  ``--dataset=folder:PATH`` with the 148 crop, streaming mode (file reads
  included).
* ``train``: ``training.StepRunner`` (the loop of scripts/train.py) on a
  pool of pre-made batches, so only the model's step is timed.
* Each round times every side in turn after a warm-up; the ratio is the
  median over rounds of (pipeline rate / training rate) within a round.  Other processes on the machine slow all sides.
"""

import json
import os
import statistics
import tempfile
import time

from absl import app
from absl import flags

from tf_betavae import io_utils


flags.DEFINE_integer("num_images", 1024, "Generated JPEGs (218 x 178 x 3).")
flags.DEFINE_integer("batch_size", 64, "Images per batch / training step.")
flags.DEFINE_integer("pipeline_batches", 40, "Timed batches per round.")
flags.DEFINE_integer("train_steps", 20, "Timed training steps per round.")
flags.DEFINE_integer("rounds", 3, "Rounds (median taken).")
flags.DEFINE_float("target_ratio", 3.0,
                   "Required pipeline images/s over training images/s.")
flags.DEFINE_boolean("folder", True, "Also time the folder: pipeline.")
flags.DEFINE_string("output", None, "Write the results as JSON here.")

FLAGS = flags.FLAGS


def make_jpegs(num_images, seed=0):
  """CelebA-sized JPEG bytes: smooth random colour fields + mild noise.

  Returns:
    list of bytes, each a 218 x 178 x 3 JPEG (quality 90).
  """
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  rng = np.random.RandomState(seed)
  out = []
  for _ in range(num_images):
    low = rng.uniform(0, 255, (1, 7, 6, 3)).astype(np.float32)
    image = tf.image.resize(low, [218, 178], method="bicubic")[0].numpy()
    image += rng.normal(0, 6, image.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    out.append(tf.io.encode_jpeg(image, quality=90).numpy())
  return out


def time_dataset(dataset, num_batches, batch_size, warmup=5):
  """images/s of iterating a batched dataset (after ``warmup`` batches)."""
  iterator = iter(dataset)
  for _ in range(warmup):
    next(iterator)
  start = time.perf_counter()
  for _ in range(num_batches):
    next(iterator)
  return num_batches * batch_size / (time.perf_counter() - start)


def training_rate_fn(batch_size):
  """A closure timing CelebA-settings conv training steps (images/s)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  config = training.TrainConfig(dataset="celeb_a", likelihood="gaussian",
                                latent_dim=32, beta=250.0,
                                batch_size=batch_size)
  model = training.build_compiled_model(config)
  pool = tf.random.stateless_uniform([8, batch_size, 64, 64, 3], seed=[1, 2])
  dataset = tf.data.Dataset.from_tensor_slices(pool).repeat()
  iterator = iter(dataset)
  runner = training.StepRunner(model, tf.distribute.get_strategy(), False)
  runner.run(iterator, tf.constant(3, tf.int64))  # trace + warm up

  def rate(steps):
    start = time.perf_counter()
    runner.run(iterator, tf.constant(steps, tf.int64))
    float(model.metrics[0].result() if model.metrics else 0.0)
    return steps * batch_size / (time.perf_counter() - start)

  return rate


def main(argv):
  del argv
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_betavae.data import celeb_a  # pylint: disable=g-import-not-at-top
  from tf_betavae.data import image_folder  # pylint: disable=g-import-not-at-top
  from tf_betavae.data import pipeline  # pylint: disable=g-import-not-at-top

  b = FLAGS.batch_size
  jpegs = make_jpegs(FLAGS.num_images)
  mean_kb = sum(len(j) for j in jpegs) / len(jpegs) / 1024
  records = tf.data.Dataset.from_tensor_slices(tf.constant(jpegs))
  sides = {
      "pipeline/records": lambda: pipeline.record_batches(
          records, len(jpegs), celeb_a.preprocess, b, seed=0),
  }
  tmp = None
  if FLAGS.folder:
    tmp = tempfile.TemporaryDirectory()
    for i, contents in enumerate(jpegs):
      with open(os.path.join(tmp.name, f"{i:06d}.jpg"), "wb") as f:
        f.write(contents)
    sides["pipeline/folder"] = lambda: image_folder.training_dataset(
        tmp.name, b, seed=0, crop=celeb_a.CROP, cache_limit_bytes=0)
  datasets = {name: make() for name, make in sides.items()}
  train_rate = training_rate_fn(b)

  rates = {name: [] for name in list(datasets) + ["train"]}
  for _ in range(FLAGS.rounds):
    for name, dataset in datasets.items():
      rates[name].append(time_dataset(dataset, FLAGS.pipeline_batches, b))
    rates["train"].append(train_rate(FLAGS.train_steps))
  medians = {name: statistics.median(v) for name, v in rates.items()}
  results = {
      "cores": os.cpu_count(),
      "batch_size": b,
      "num_images": len(jpegs),
      "mean_jpeg_kb": round(mean_kb, 1),
      "images_per_second": {k: round(v, 1) for k, v in medians.items()},
      "rounds": {k: [round(x, 1) for x in v] for k, v in rates.items()},
  }
  for name in datasets:
    # Median over rounds of the ratio of adjacent measurements (load from
    # other processes changes between rounds more than within one).
    results[f"ratio/{name}"] = round(statistics.median(
        p / t for p, t in zip(rates[name], rates["train"])), 2)
  results["target_ratio"] = FLAGS.target_ratio
  results["meets_target"] = all(
      results[f"ratio/{n}"] >= FLAGS.target_ratio for n in datasets)
  text = json.dumps(results, indent=2)
  print(text)
  if FLAGS.output:
    io_utils.write_text_atomic(FLAGS.output, text + "\n")
  if tmp is not None:
    tmp.cleanup()


if __name__ == "__main__":
  app.run(main)
