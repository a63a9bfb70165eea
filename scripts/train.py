r"""Trains a β-VAE and exports its encoder/decoder as a SavedModel.

Default run (no flags): the CPU recipe of the recipe search
(docs/recipe_search.md; --preset=cpu): objective H with β = 8, Adam 1e-3, batch
64, 10 latents, Bernoulli likelihood, conv architecture, on the built-in
procedural dSprites simulator, for 10,000 steps, which takes about 8
minutes on a 2-core CPU; then exports to exported/dsprites_beta8/<version>.
On dSprites these values are the dataset's defaults (presets.py); other
datasets keep TrainConfig's (β = 4, Adam 5e-4, 6,000 steps).

  python scripts/train.py
  python scripts/train.py --steps=20000      # the shipped exported/dsprites/1
  python scripts/train.py --beta=16 --steps=20000 --model_dir=runs/b16
  python scripts/train.py --preset=paper     # paper scale: β = 4, 300,000 steps
  python scripts/train.py --objective=B --gamma=1000 --capacity_max=25

Rerunning with the same --model_dir resumes from its last checkpoint and
continues the step count (and the data stream and capacity schedule);
raising --steps continues a finished run.  Settings that change the model's
shape (dataset, arch, latent_dim, likelihood, objective) must match.

Usage errors (a bad value, an unknown name, missing data) exit with code 2
and a one-line message.
"""

import os
import sys

from absl import app
from absl import flags
from absl import logging

# scripts/_cli.py: the usage-error convention shared by these programs.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # pylint: disable=g-import-not-at-top,wrong-import-position

# The library lives next to this script when run from a checkout.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tf_betavae import data as data_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import export as export_lib  # pylint: disable=wrong-import-position
from tf_betavae import presets  # pylint: disable=wrong-import-position
from tf_betavae import training  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position,wrong-import-order

_DEFAULTS = training.TrainConfig()

flags.DEFINE_enum("preset", None, sorted(presets.PRESETS),
                  "Named settings; explicit flags override them. "
                  + presets.describe())
flags.DEFINE_string("dataset", _DEFAULTS.dataset,
                    "Training data: " + ", ".join(data_lib.DATASETS)
                    + " ('dsprites' is the built-in simulator).")
flags.DEFINE_float("beta", _DEFAULTS.beta,
                   "KL weight of objective H (paper: 4 for 2D shapes, 250 "
                   "for CelebA; 1 = plain VAE). Default on dsprites: 8 (the "
                   "CPU recipe, --preset=cpu).")
flags.DEFINE_enum("objective", _DEFAULTS.objective, ["H", "B"],
                  "H: recon + beta*KL (Higgins et al. 2017); B: recon + "
                  "gamma*|KL - C| (Burgess et al. 2018).")
flags.DEFINE_float("gamma", _DEFAULTS.gamma,
                   "Weight of objective B (Burgess et al.: 1000).")
flags.DEFINE_float("capacity_max", _DEFAULTS.capacity_max,
                   "Final capacity C of objective B, nats (Burgess: 25).")
flags.DEFINE_integer("capacity_steps", _DEFAULTS.capacity_steps,
                     "Steps over which C rises linearly from 0 to "
                     "--capacity_max.")
flags.DEFINE_integer("latent_dim", _DEFAULTS.latent_dim,
                     "Number of latents (paper: 10 for 2D shapes).")
flags.DEFINE_enum("arch", _DEFAULTS.arch, ["conv", "mlp"],
                  "conv: Burgess et al. conv net for 64x64 images; mlp: the "
                  "paper's 2D-shapes MLP (1200-1200 / 1200-1200-1200).")
flags.DEFINE_enum("likelihood", _DEFAULTS.likelihood,
                  ["bernoulli", "gaussian"],
                  "Pixel likelihood: bernoulli (binary images, the paper's "
                  "choice for dSprites) or gaussian (RGB data).")
flags.DEFINE_float("gaussian_stddev", _DEFAULTS.gaussian_stddev,
                   "Fixed pixel std of the gaussian likelihood.")
flags.DEFINE_integer("batch_size", _DEFAULTS.batch_size,
                     "Global batch size (paper: 64).")
flags.DEFINE_float("learning_rate", _DEFAULTS.learning_rate,
                   "Adam learning rate. Default on dsprites: 1e-3 (the CPU "
                   "recipe). The peak rate when a schedule is on.")
flags.DEFINE_integer("lr_warmup_steps", _DEFAULTS.lr_warmup_steps,
                     "Steps of a linear learning-rate warm-up from "
                     "learning_rate/N to learning_rate (0 = none).")
flags.DEFINE_enum("lr_decay", _DEFAULTS.lr_decay, ["constant", "cosine"],
                  "Learning rate after the warm-up: constant, or a cosine "
                  "decay that reaches 0 at --steps.")
flags.DEFINE_integer("steps", _DEFAULTS.steps,
                     "Total optimizer steps. Default 6000 (on dsprites "
                     "10,000: about 8 minutes on a 2-core CPU). "
                     "--preset=paper gives 300,000.")
flags.DEFINE_integer("seed", _DEFAULTS.seed,
                     "Seeds weights, data stream and latent samples.")
flags.DEFINE_string("model_dir", None,
                    "Checkpoints, TensorBoard logs and run files; default "
                    "runs/<model name>. A rerun resumes from it.")
flags.DEFINE_string("export_dir", "exported",
                    "Export root (TF Serving layout <export_dir>/<name>/"
                    "<version>); empty to skip the export.")
flags.DEFINE_string("export_name", None,
                    "Model name under --export_dir; default from dataset and "
                    "beta, e.g. dsprites_beta4.")
flags.DEFINE_string("data_dir", None,
                    "Where real datasets live (tensorflow-datasets data_dir; "
                    "default $TFDS_DATA_DIR or ~/tensorflow_datasets). Nothing "
                    "is downloaded.")
flags.DEFINE_string("dsprites_file", None,
                    "The official dSprites file (dsprites_ndarray_co1sh3sc6or"
                    "40x32y32_64x64.npz or .hdf5) for --dataset="
                    "dsprites_official (implied when --dataset is not given).")
flags.DEFINE_integer("checkpoint_every", _DEFAULTS.checkpoint_every,
                     "Steps between checkpoints.")
flags.DEFINE_integer("log_every", _DEFAULTS.log_every,
                     "Steps between log lines and TensorBoard scalars.")
flags.DEFINE_integer("image_summary_every", _DEFAULTS.image_summary_every,
                     "Steps between TensorBoard image summaries (latent "
                     "traversal, reconstructions, KL per latent); 0 = off. "
                     "The pictures are also written into --model_dir at the "
                     "end of training.")
flags.DEFINE_boolean("mixed_precision", False,
                     "Mixed precision: float16 compute with loss scaling on "
                     "GPU, bfloat16 on CPU (see --mixed_precision_policy).")
flags.DEFINE_enum("mixed_precision_policy", "auto",
                  ["auto", "mixed_float16", "mixed_bfloat16"],
                  "Policy used by --mixed_precision; auto picks float16 on "
                  "GPU and bfloat16 otherwise.")
flags.DEFINE_boolean("jit_compile", False,
                     "XLA-compile the training step (exports stay plain). "
                     "Measured slower on CPU; meant for GPUs.")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored",
                                          "multi_worker"],
                  "default: one device; mirrored: MirroredStrategy over all "
                  "local GPUs (or --devices); multi_worker: "
                  "MultiWorkerMirroredStrategy configured by TF_CONFIG "
                  "(only the chief writes checkpoints, logs and exports).")
flags.DEFINE_list("devices", None, "Devices for --strategy=mirrored, e.g. "
                  "/gpu:0,/gpu:1; default all local GPUs.")
flags.DEFINE_integer("collective_timeout", 300,
                     "Seconds after which a multi-worker collective fails "
                     "(e.g. a dead peer) instead of hanging.")

FLAGS = flags.FLAGS

_CONFIG_FLAGS = ("dataset", "arch", "latent_dim", "likelihood",
                 "gaussian_stddev", "objective", "beta", "gamma",
                 "capacity_max", "capacity_steps", "batch_size",
                 "learning_rate", "lr_warmup_steps", "lr_decay", "steps",
                 "seed", "checkpoint_every",
                 "log_every", "image_summary_every", "jit_compile",
                 "data_dir")


def _usage_error(message):
  _cli.usage_error("train.py", message)


_parse_flags = _cli.flags_parser("train.py")


def _mixed_precision_policy():
  if not FLAGS.mixed_precision:
    return False
  if FLAGS.mixed_precision_policy != "auto":
    return FLAGS.mixed_precision_policy
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return ("mixed_float16" if tf.config.list_physical_devices("GPU")
          else "mixed_bfloat16")


def config_from_flags():
  """TrainConfig from the preset (if any), dataset defaults and the flags.

  Precedence: explicit flags > the preset > the dataset's defaults
  (presets.DATASET_DEFAULTS, e.g. Gaussian likelihood and 32 latents for
  celeb_a) > TrainConfig's defaults.  --dsprites_file selects
  dsprites_official.  When the settings
  are valid, the dataset's data must be there: otherwise this exits with
  code 2 and a one-line message saying where it looked and how to get it.
  """
  values = {}
  if FLAGS.preset:
    values.update(presets.PRESETS[FLAGS.preset])
  from_preset = set(values)
  for name in _CONFIG_FLAGS:
    if FLAGS[name].present or name not in values:
      values[name] = FLAGS[name].value
  if FLAGS.dsprites_file:
    if not FLAGS["dataset"].present and "dataset" not in from_preset:
      values["dataset"] = "dsprites_official"
    if values["dataset"] != "dsprites_official":
      _usage_error(f"--dsprites_file is read only with --dataset="
                   f"dsprites_official, not --dataset={values['dataset']}")
    values["dsprites_file"] = FLAGS.dsprites_file
  for name, value in presets.dataset_defaults(values["dataset"]).items():
    if not FLAGS[name].present and name not in from_preset:
      values[name] = value
  values["mixed_precision"] = _mixed_precision_policy()
  config = training.TrainConfig(**values)
  try:
    config.validate()
  except training.ConfigError:
    return config  # main() reports it
  try:
    data_lib.check_available(config.dataset, data_dir=config.data_dir,
                             dsprites_file=config.dsprites_file)
  except data_lib.DatasetUnavailableError as e:
    _usage_error(" ".join(str(e).split()))
  return config


def main(argv):
  if len(argv) > 1:
    _usage_error(f"unexpected arguments {argv[1:]}; flags take the form "
                 "--name=value")
  logging.set_verbosity(logging.INFO)
  config = config_from_flags()
  try:
    config.validate()
    data_lib.check_available(config.dataset, data_dir=config.data_dir,
                             dsprites_file=config.dsprites_file)
    # multi_worker requires the strategy before any other TensorFlow work.
    strategy = training.make_strategy(FLAGS.strategy, FLAGS.devices,
                                      FLAGS.collective_timeout)
  except (training.ConfigError, data_lib.DatasetUnavailableError) as e:
    _usage_error(str(e))
  name = FLAGS.export_name or export_lib.default_model_name(
      config.dataset, config.objective, config.beta, config.capacity_max)
  model_dir = FLAGS.model_dir or os.path.join("runs", name)
  logging.info("training %s into %s", name, model_dir)
  try:
    summary = training.train(config, model_dir,
                             export_dir=FLAGS.export_dir or None,
                             export_name=name, strategy=strategy)
  except (training.ConfigError, data_lib.UnknownDatasetError,
          data_lib.DatasetUnavailableError, export_lib.ExportError) as e:
    _usage_error(str(e))
  except (training.NonFiniteLossError, training.CheckpointError) as e:
    sys.stderr.write(f"train.py: error: {e}\n")
    sys.exit(1)
  except tf.errors.OpError as e:
    # E.g. a peer worker died (multi_worker) or the disk filled up: one
    # clear line, and the last complete checkpoint stays the resume point.
    first_line = (e.message or str(e)).strip().splitlines()[0]
    sys.stderr.write(f"train.py: error: training stopped: "
                     f"{type(e).__name__}: {first_line}; rerun the same "
                     "command to resume from the last checkpoint\n")
    sys.exit(1)
  logging.info("done: step %d, %.1f steps/s, %.0f s; checkpoint %s; export %s",
               summary["step"], summary["steps_per_second"],
               summary["wall_seconds"], summary["checkpoint"],
               summary["export_path"])


if __name__ == "__main__":
  app.run(main, flags_parser=_parse_flags)
