r"""Chooses a method's hyperparameter (β, γ, ...) by a scored sweep.

The β-VAE paper chooses β this way: train over a range of values, score
each run with a disentanglement metric, weigh it against reconstruction.

  python scripts/sweep.py --betas=1,4,16 --seeds=0,1 --steps=6000
  python scripts/sweep.py --betas=1,4 --steps=2000 --metric=mig \
      --sweep_dir=sweeps/quick --num_train=2000 --num_eval=1000
  python scripts/sweep.py --method=factor_vae --values=10,20,40 \
      --seeds=0,1 --sweep_dir=sweeps/factor_vae
  python scripts/sweep.py --method=dip_vae_ii --study --seeds=0,1,2 \
      --sweep_dir=sweeps/study_dip_vae_ii          # GPU-sized

--method (beta_vae, annealed_vae, factor_vae, dip_vae_i, dip_vae_ii,
beta_tc_vae; docs/methods.md) names the objective; --values the values of
its hyperparameter (beta for beta_vae and beta_tc_vae, capacity_max for
annealed_vae, factor_gamma for factor_vae, lambda_od for the DIP-VAEs).
Without --values a β-VAE sweep trains β = 1, 4, 16 (--betas is its older
name for --values) and any other method its grid in disentanglement_lib's
unsupervised study.  --study sweeps the study grid with the study's
training settings (the train.py preset study: batch 64, Adam 1e-4, 300,000
steps, 10 latents, conv net, Bernoulli likelihood); flags given explicitly
override both.  The method's other settings pass through (--gamma and
--capacity_steps for annealed_vae, --discriminator_learning_rate for
factor_vae, --lambda_d_factor for the DIP-VAEs); a setting of another
method is refused.

Trains every (value, seed) one after another into
<sweep_dir>/beta<β>_seed<seed> for beta_vae and
<sweep_dir>/<method>_<hyperparameter><value>_seed<seed> for the others
(other settings shared and passed through), exports each run, scores its
serving_default with --metric on the dataset's ground truth, and writes
<sweep_dir>/sweep.csv (beta [the run's β, empty for methods without one],
seed, steps, metric, score, reconstruction [held-out nats/image],
train_reconstruction, kl [nats], active_latents, wall_seconds, run_dir,
export_path, udr, udr_spearman, udr_picked, method, hyperparameter, value)
and <sweep_dir>/sweep.png (score and reconstruction error against the
value).  Prints the value with the best mean score.

Resumable: a rerun skips the runs already trained to --steps and scored
with the same metric settings; raising --steps continues every run.
Usage errors (a bad value, an unknown method, a setting of another method)
exit with code 2 and a one-line message, and nothing is written.  So does
a --sweep_dir another live process is using (the line names it: pid, host,
start time), and a run directory under it that another process is
training.
"""

import os
import sys

from absl import flags
from absl import logging

from tf_betavae import cli

METRIC_NAMES = ("beta_vae", "mig", "factor_vae", "dci", "sap")

flags.DEFINE_string("method", "beta_vae",
                    "The method whose hyperparameter is swept: beta_vae, "
                    "annealed_vae, factor_vae, dip_vae_i, dip_vae_ii, "
                    "beta_tc_vae.")
flags.DEFINE_list("values", None,
                  "Values of the method's hyperparameter (comma-separated; "
                  "default: 1,4,16 for beta_vae, else the method's study "
                  "grid).")
flags.DEFINE_list("betas", None, "β values of a beta_vae sweep (the older "
                  "name of --values; default 1,4,16).")
flags.DEFINE_boolean("study", False,
                     "disentanglement_lib's unsupervised study: its grid "
                     "of the method's hyperparameter and its training "
                     "settings (train.py --preset=study); explicit flags "
                     "override them.")
flags.DEFINE_list("seeds", ["0"], "Seeds (comma-separated integers).")
flags.DEFINE_integer("steps", None, "Training steps of each run (default "
                     "6000; 300,000 with --study).")
flags.DEFINE_string("sweep_dir", "sweeps/dsprites",
                    "One run directory per (value, seed), plus sweep.csv "
                    "and sweep.png.")
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
                     "which UDR compares the seeds of each value (with two "
                     "or more seeds; docs/model_selection.md).")
flags.DEFINE_integer("num_reconstruction_images", 512,
                     "Held-out images of the reconstruction error.")
# Training settings shared by every run (see scripts/train.py); unset ones
# take tf_betavae.training.TrainConfig's defaults.
flags.DEFINE_string("dataset", "dsprites",
                    "A dataset with ground-truth factors (the metrics need "
                    "them), e.g. dsprites (the simulator).")
# tf_betavae.models.ARCHITECTURES, written out: importing the models
# imports TensorFlow, whose start-up lines would follow a usage error.
flags.DEFINE_enum("arch", None, ["conv", "mlp", "broadcast"],
                  "Architecture (training default: conv).")
flags.DEFINE_integer("latent_dim", None, "Latents (training default: 10).")
flags.DEFINE_enum("likelihood", None, ["bernoulli", "gaussian"],
                  "Pixel likelihood (training default: bernoulli).")
flags.DEFINE_float("gaussian_stddev", None,
                   "Fixed pixel std of the gaussian likelihood (default 1).")
flags.DEFINE_integer("batch_size", None, "Batch size (default 64).")
flags.DEFINE_float("learning_rate", None,
                   "Adam learning rate (default 5e-4; 1e-4 with --study "
                   "and for --method=annealed_vae).")
flags.DEFINE_integer("log_every", None,
                     "Steps between log lines (default 100, capped at "
                     "--steps).")
flags.DEFINE_integer("checkpoint_every", None,
                     "Steps between checkpoints (default 1000, capped at "
                     "--steps).")
flags.DEFINE_boolean("jit_compile", False, "XLA-compile the training step.")
flags.DEFINE_string("data_dir", None, "Where real datasets live.")
# Settings of one method (see scripts/train.py); unset ones take
# TrainConfig's defaults.
flags.DEFINE_float("gamma", None, "annealed_vae: the weight of |KL - C| "
                   "(default 1000).")
flags.DEFINE_integer("capacity_steps", None, "annealed_vae: steps over "
                     "which C rises to its value (default 100,000).")
flags.DEFINE_float("discriminator_learning_rate", None, "factor_vae: Adam "
                   "learning rate of the discriminator (default 1e-4).")
flags.DEFINE_float("lambda_d_factor", None, "dip_vae_i / dip_vae_ii: the "
                   "diagonal weight is lambda_d_factor * lambda_od (default "
                   "10 for dip_vae_i, 1 for dip_vae_ii).")

_PASS_THROUGH = ("arch", "latent_dim", "likelihood",
                 "gaussian_stddev", "batch_size", "learning_rate", "log_every",
                 "checkpoint_every", "jit_compile", "gamma", "capacity_steps",
                 "discriminator_learning_rate", "lambda_d_factor")

FLAGS = flags.FLAGS
PROGRAM = "sweep.py"
_parse_flags = cli.flags_parser(PROGRAM)


def _numbers(name, convert):
  """The flag's comma-separated numbers, each once; None when not given."""
  if getattr(FLAGS, name) is None:
    return None
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
  if FLAGS.steps is not None and FLAGS.steps < 1:
    cli.usage_error(PROGRAM, f"--steps must be a positive integer, got "
                    f"{FLAGS.steps}")


def main(argv):
  if len(argv) > 1:
    cli.usage_error(PROGRAM, f"unexpected arguments {argv[1:]}; flags take "
                    "the form --name=value")
  logging.set_verbosity(logging.INFO)
  values, betas = _numbers("values", float), _numbers("betas", float)
  seeds = _numbers("seeds", int)
  _check_sizes()
  if not 0 <= FLAGS.metric_seed < 2**32:
    cli.usage_error(PROGRAM, f"--metric_seed must lie in [0, 2**32), got "
                    f"{FLAGS.metric_seed}")
  # Imported here, after the flags are checked: usage errors come at once.
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  from tf_betavae import locking  # pylint: disable=g-import-not-at-top
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import sweep  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import sweep_settings  # pylint: disable=g-import-not-at-top
  try:
    values = sweep_settings.sweep_values(FLAGS.method, values, betas,
                                         FLAGS.study)
    base, ground_truth = sweep_settings.prepare(
        FLAGS.steps, values, FLAGS.dataset, FLAGS.data_dir,
        method=FLAGS.method, study=FLAGS.study,
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
    result = sweep.run_sweep(base, values, seeds, FLAGS.sweep_dir, settings,
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
