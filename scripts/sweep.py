r"""Chooses β the way the paper does: a sweep scored by a disentanglement metric.

  python scripts/sweep.py --betas=1,4,16 --seeds=0,1 --steps=6000
  python scripts/sweep.py --betas=1,4 --steps=2000 --metric=mig \
      --sweep_dir=sweeps/quick --num_train=2000 --num_eval=1000

Trains every (β, seed) one after another into
<sweep_dir>/beta<β>_seed<seed> (objective H, other settings shared and
passed through), exports each run, scores its serving_default with --metric
on the dSprites simulator, and writes <sweep_dir>/sweep.csv (beta, seed,
steps, metric, score, reconstruction [held-out nats/image],
train_reconstruction, kl [nats], active_latents, wall_seconds, run_dir,
export_path) and <sweep_dir>/sweep.png (score and reconstruction error
against β).  Prints the β with the best mean score.

Resumable: a rerun skips the runs already trained to --steps and scored
with the same metric settings; raising --steps continues every run.
Usage errors exit with code 2 and a one-line message.  So does a
--sweep_dir another live process is using (the line names it: pid, host,
start time; nothing is written), and a run directory under it that another
process is training.
"""

import os
import sys

from absl import flags
from absl import logging

from tf_betavae import cli

METRIC_NAMES = ("beta_vae", "mig", "factor_vae", "dci", "sap")

flags.DEFINE_list("betas", ["1", "4", "16"], "β values (comma-separated).")
flags.DEFINE_list("seeds", ["0"], "Seeds (comma-separated integers).")
flags.DEFINE_integer("steps", 6000, "Training steps of each run.")
flags.DEFINE_string("sweep_dir", "sweeps/dsprites",
                    "One run directory per (β, seed), plus sweep.csv and "
                    "sweep.png.")
flags.DEFINE_enum("metric", "beta_vae", list(METRIC_NAMES),
                  "Disentanglement metric that scores each run.")
flags.DEFINE_enum("protocol", "disentanglement_lib",
                  ["disentanglement_lib", "paper"],
                  "Protocol of the beta_vae metric.")
flags.DEFINE_integer("num_train", None,
                     "Overrides the metric's training examples/samples.")
flags.DEFINE_integer("num_eval", None,
                     "Overrides the metric's evaluation examples/samples.")
flags.DEFINE_integer("metric_seed", 0, "Seed of the metric's sampling.")
flags.DEFINE_integer("udr_num_points", 10000, "Images of the shared sample on "
                     "which UDR compares the seeds of each β (with two or "
                     "more seeds; docs/model_selection.md).")
flags.DEFINE_integer("num_reconstruction_images", 512,
                     "Held-out images of the reconstruction error.")
# Training settings shared by every run (see scripts/train.py); unset ones
# take tf_betavae.training.TrainConfig's defaults.
flags.DEFINE_string("dataset", "dsprites",
                    "A dataset with ground-truth factors (the metrics need "
                    "them), e.g. dsprites (the simulator).")
flags.DEFINE_enum("arch", None, ["conv", "mlp"],
                  "Architecture (training default: conv).")
flags.DEFINE_integer("latent_dim", None, "Latents (training default: 10).")
flags.DEFINE_enum("likelihood", None, ["bernoulli", "gaussian"],
                  "Pixel likelihood (training default: bernoulli).")
flags.DEFINE_float("gaussian_stddev", None,
                   "Fixed pixel std of the gaussian likelihood (default 1).")
flags.DEFINE_integer("batch_size", None, "Batch size (default 64).")
flags.DEFINE_float("learning_rate", None,
                   "Adam learning rate (default 5e-4).")
flags.DEFINE_integer("log_every", None,
                     "Steps between log lines (default 100, capped at "
                     "--steps).")
flags.DEFINE_integer("checkpoint_every", None,
                     "Steps between checkpoints (default 1000, capped at "
                     "--steps).")
flags.DEFINE_boolean("jit_compile", False, "XLA-compile the training step.")
flags.DEFINE_string("data_dir", None, "Where real datasets live.")

_PASS_THROUGH = ("arch", "latent_dim", "likelihood",
                 "gaussian_stddev", "batch_size", "learning_rate", "log_every",
                 "checkpoint_every", "jit_compile")

FLAGS = flags.FLAGS
PROGRAM = "sweep.py"
_parse_flags = cli.flags_parser(PROGRAM)


def _numbers(name, convert):
  values = []
  for text in getattr(FLAGS, name):
    try:
      value = convert(text.strip())
    except ValueError:
      cli.usage_error(PROGRAM, f"--{name} must be a comma-separated list of "
                      f"{'integers' if convert is int else 'numbers'}, got "
                      f"{text!r}")
    if value not in values:
      values.append(value)
  if not values:
    cli.usage_error(PROGRAM, f"--{name} is empty")
  return values


def _check_sizes():
  for name in ("num_train", "num_eval"):
    if getattr(FLAGS, name) is not None and getattr(FLAGS, name) < 2:
      cli.usage_error(PROGRAM, f"--{name} must be at least 2")
  if FLAGS.udr_num_points < 10:
    cli.usage_error(PROGRAM, f"--udr_num_points must be at least 10, got "
                    f"{FLAGS.udr_num_points}")
  if FLAGS.num_reconstruction_images < 1:
    cli.usage_error(PROGRAM, "--num_reconstruction_images must be at least 1")
  if FLAGS.steps < 1:
    cli.usage_error(PROGRAM, f"--steps must be a positive integer, got "
                    f"{FLAGS.steps}")


def main(argv):
  if len(argv) > 1:
    cli.usage_error(PROGRAM, f"unexpected arguments {argv[1:]}; flags take "
                    "the form --name=value")
  logging.set_verbosity(logging.INFO)
  betas, seeds = _numbers("betas", float), _numbers("seeds", int)
  _check_sizes()
  if not 0 <= FLAGS.metric_seed < 2**32:
    cli.usage_error(PROGRAM, f"--metric_seed must lie in [0, 2**32), got "
                    f"{FLAGS.metric_seed}")
  # Imported here, after the flags are checked: usage errors come at once.
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  from tf_betavae import locking  # pylint: disable=g-import-not-at-top
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import sweep  # pylint: disable=g-import-not-at-top
  try:
    base, ground_truth = sweep.prepare(
        FLAGS.steps, betas, FLAGS.dataset, FLAGS.data_dir,
        **{name: FLAGS[name].value for name in _PASS_THROUGH})
    os.makedirs(FLAGS.sweep_dir, exist_ok=True)
  except sweep.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  except OSError as e:
    cli.usage_error(PROGRAM, f"cannot create --sweep_dir {FLAGS.sweep_dir}: "
                    f"{e.strerror}")
  settings = sweep.MetricSettings(
      metric=FLAGS.metric, protocol=FLAGS.protocol, num_train=FLAGS.num_train,
      num_eval=FLAGS.num_eval, seed=FLAGS.metric_seed,
      num_reconstruction_images=FLAGS.num_reconstruction_images)
  try:
    result = sweep.run_sweep(base, betas, seeds, FLAGS.sweep_dir, settings,
                             ground_truth, FLAGS.udr_num_points)
  except (training.ConfigError, data.DatasetUnavailableError,
          locking.LockHeldError) as e:
    cli.usage_error(PROGRAM, str(e))
  except training.NonFiniteLossError as e:
    sys.stderr.write(f"{PROGRAM}: {e}\n")
    sys.exit(1)
  print("\n".join(sweep.summary_lines(result, settings.metric)))


if __name__ == "__main__":
  cli.run(main, PROGRAM)
