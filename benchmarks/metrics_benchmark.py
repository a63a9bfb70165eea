r"""Benchmark of the metrics on the dSprites simulator and a SavedModel.

Uses --saved_model (default the shipped conv encoder exported/dsprites/1;
empty: an untrained ConvEncoder exported here) and prints:

1. encoding throughput of that SavedModel per batch size, and the time to
   encode the β-VAE metric's 1.92 million images (15,000 x 64 x 2) alone at
   the best batch size (measured on --encode_fraction of them, extrapolated);
2. the β-VAE metric, disentanglement_lib protocol, at full size, as
   scripts/evaluate.py runs it (a code table: each of the 737,280 distinct
   images encoded once), its ratio to (1), and (--streamed) the same
   without the table;
3. disentanglement_lib's per-example loop (render and encode 64 images per
   call), timed on --dl_loop_examples examples and extrapolated to 15,000;
4. MIG, FactorVAE, DCI and SAP at their standard sizes, each alone (code
   table where evaluate.py would use one), and (--dci_sklearn) DCI with
   scikit-learn's GradientBoostingClassifier for time and score.

  python benchmarks/metrics_benchmark.py [--metrics beta_vae,mig,...]
"""

import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
import numpy as np

from tf_betavae import metrics
from tf_betavae.data import dsprites_simulator
from tf_betavae.metrics import dci
from tf_betavae.metrics import representation

flags.DEFINE_string("metrics", "beta_vae,mig,factor_vae,dci,sap",
                    "Metrics to time.")
flags.DEFINE_float("encode_fraction", 0.125,
                   "Fraction of the 1.92M images encoded for the "
                   "encoding-alone time (extrapolated linearly).")
flags.DEFINE_integer("dl_loop_examples", 100,
                     "Examples timed with disentanglement_lib's loop.")
flags.DEFINE_integer("seed", 0, "Seed.")
flags.DEFINE_string("saved_model", "exported/dsprites/1",
                    "SavedModel to encode with (empty: an untrained "
                    "ConvEncoder).")
flags.DEFINE_bool("streamed", True, "Also time the β-VAE metric without the "
                  "code table.")
flags.DEFINE_bool("dci_sklearn", False, "Also time DCI with scikit-learn's "
                  "GradientBoostingClassifier and compare the scores.")
FLAGS = flags.FLAGS

NUM_IMAGES = (10000 + 5000) * 64 * 2


def _export_untrained_encoder(path):
  import keras
  import tensorflow as tf
  from tf_betavae.models import ConvEncoder
  keras.utils.set_random_seed(0)
  encoder = ConvEncoder(latent_dim=10)
  encoder(tf.zeros((1, 64, 64, 1)))
  module = tf.Module()
  module.encoder = encoder

  @tf.function(input_signature=[
      tf.TensorSpec([None, 64, 64, 1], tf.float32, name="images")])
  def serve(images):
    mean, log_variance = encoder(images)
    return {"latent_mean": mean, "latent_log_variance": log_variance}

  tf.saved_model.save(module, path, signatures={"serving_default": serve})


def _dl_loop(gt, fn, num_examples, rs):
  """disentanglement_lib's loop: per example two calls of 64 images."""
  for _ in range(num_examples):
    y = rs.randint(gt.num_factors)
    f1 = gt.sample_factors(64, rs)
    f2 = gt.sample_factors(64, rs)
    f2[:, y] = f1[:, y]
    z1 = fn(gt.sample_observations_from_factors(f1, rs))
    z2 = fn(gt.sample_observations_from_factors(f2, rs))
    np.mean(np.abs(z1 - z2), axis=0)


def _timed(fn):
  start = time.time()
  result = fn()
  return result, time.time() - start


def _best_encoder(path, buffer):
  """The representation at the fastest batch size on ``buffer``."""
  best = (0.0, None)
  for batch_size in (64, 256, 1024, 2048, 4096):
    fn = representation.saved_model_representation(path,
                                                   batch_size=batch_size)
    fn(buffer[:batch_size])
    t = time.time()
    fn(buffer)
    rate = len(buffer) / (time.time() - t)
    print(f"encoding, batch {batch_size}: {rate:.0f} images/s")
    best = max(best, (rate, batch_size))
  batch_size = best[1]
  return representation.saved_model_representation(
      path, batch_size=batch_size), batch_size


def _beta_vae(gt, fn, path, buffer, batch_size):
  """Encoding alone, the β-VAE metric with and without a table, and
  disentanglement_lib's loop."""
  count = max(1, int(NUM_IMAGES * FLAGS.encode_fraction) // len(buffer))
  t = time.time()
  for _ in range(count):
    fn(buffer)
  encode_alone = (time.time() - t) * NUM_IMAGES / (count * len(buffer))
  print(f"encoding {NUM_IMAGES} images alone at batch {batch_size}: "
        f"{encode_alone:.1f} s (measured on {count * len(buffer)} images, "
        "extrapolated)", flush=True)

  def with_table():
    prepared, info = metrics.prepare_representation(gt, fn, ["beta_vae"])
    return metrics.compute_beta_vae(
        gt, prepared, np.random.RandomState(FLAGS.seed)), info

  (r, info), ours = _timed(with_table)
  table = ("built in %.1f s" % info["build_seconds"] if info["used"]
           else "not used")
  print(f"beta_vae (disentanglement_lib protocol, full size, code table "
        f"{table}): {ours:.1f} s, score {r['score']:.4f}, ratio to encoding "
        f"alone {ours / encode_alone:.2f}", flush=True)
  if FLAGS.streamed:
    r2, streamed = _timed(lambda: metrics.compute_beta_vae(
        gt, fn, np.random.RandomState(FLAGS.seed)))
    print(f"beta_vae without the code table (render + encode every "
          f"sampled image): {streamed:.1f} s, score {r2['score']:.4f}, "
          f"ratio to encoding alone {streamed / encode_alone:.2f}",
          flush=True)
  fn64 = representation.saved_model_representation(path, batch_size=64)
  t = time.time()
  _dl_loop(gt, fn64, FLAGS.dl_loop_examples, np.random.RandomState(0))
  dl_time = (time.time() - t) * 15000 / FLAGS.dl_loop_examples
  print(f"disentanglement_lib loop (64 images per call): {dl_time:.1f} s "
        f"for 15000 examples (extrapolated from {FLAGS.dl_loop_examples})",
        flush=True)


def _other_metric(gt, fn, name):
  """One of MIG, FactorVAE, DCI, SAP at its standard sizes."""

  def run():
    prepared, info = metrics.prepare_representation(gt, fn, [name])
    return metrics.run_metric(name, gt, prepared,
                              np.random.RandomState(FLAGS.seed)), info

  (r, info), seconds = _timed(run)
  print(f"{name} (standard sizes, code table "
        f"{'used' if info['used'] else 'not used'}): {seconds:.1f} s, "
        f"score {r['score']:.4f}", flush=True)
  if name == "dci" and FLAGS.dci_sklearn:
    r2, seconds = _timed(lambda: dci.compute_dci(
        gt, fn, np.random.RandomState(FLAGS.seed), classifier="sklearn"))
    print(f"dci with sklearn's GradientBoostingClassifier: {seconds:.1f} s; "
          + ", ".join(f"{k} {r2[k]:.4f} (ours {r[k]:.4f})" for k in (
              "disentanglement", "completeness", "informativeness_train",
              "informativeness_test")), flush=True)


def main(argv):
  del argv
  names = FLAGS.metrics.split(",")
  gt = dsprites_simulator.DSpritesSimulator()
  path = FLAGS.saved_model
  if not path:
    path = os.path.join(tempfile.mkdtemp(), "1")
    _export_untrained_encoder(path)
  print(f"encoder: {path}")
  rs = np.random.RandomState(FLAGS.seed)
  buffer = gt.sample_observations_from_factors(gt.sample_factors(8192, rs))
  t = time.time()
  gt.sample_observations_from_factors(gt.sample_factors(65536, rs))
  print(f"rendering: {65536 / (time.time() - t):.0f} images/s")
  fn, batch_size = _best_encoder(path, buffer)
  if "beta_vae" in names:
    _beta_vae(gt, fn, path, buffer, batch_size)
  for name in ("mig", "factor_vae", "dci", "sap"):
    if name in names:
      _other_metric(gt, fn, name)


if __name__ == "__main__":
  app.run(main)
