r"""Trains a β-VAE and exports its encoder/decoder as a SavedModel.

Default run (no flags): the CPU recipe of the recipe search
(docs/recipe_search.md; --preset=cpu): objective H with β = 8, Adam 1e-3, batch
64, 8 latents, Bernoulli likelihood, the conv encoder with a spatial
broadcast decoder (--arch=broadcast), on the built-in
procedural dSprites simulator, for 10,000 steps; then exports to
exported/dsprites_beta8/<version>.
On dSprites these values are the dataset's defaults (presets.py); other
datasets keep TrainConfig's (β = 4, Adam 5e-4, 6,000 steps).

  python scripts/train.py
  python scripts/train.py --arch=conv --latent_dim=10 --steps=20000  # exported/dsprites/1
  python scripts/train.py --beta=16 --steps=20000 --model_dir=runs/b16
  python scripts/train.py --preset=paper     # paper scale: β = 4, 300,000 steps
  python scripts/train.py --objective=B --gamma=1000 --capacity_max=25

Rerunning with the same --model_dir resumes from its last checkpoint and
continues the step count (and the data stream and capacity schedule);
raising --steps continues a finished run.  Settings that change the model's
shape (dataset, arch, latent_dim, likelihood, objective) must match.

Usage errors (a bad value, an unknown name, missing data) exit with code 2
and a one-line message.  One train.py at a time writes a --model_dir: a
second one started on a directory in use exits 2 at once, with one line
naming the running process (pid, host, start time), and writes nothing.
"""

from absl import flags

from tf_betavae import cli

# Before the imports below load TensorFlow.
cli.import_tensorflow_quietly()

from tf_betavae import training  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.training import command  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.training import presets  # pylint: disable=g-import-not-at-top,wrong-import-position

# Every TrainConfig setting, with its default and help (training/config.py).
cli.define_config_flags(training.TrainConfig)

flags.DEFINE_enum("preset", None, sorted(presets.PRESETS),
                  "Named settings; explicit flags override them. "
                  + presets.describe())
flags.DEFINE_string("model_dir", None,
                    "Checkpoints, TensorBoard logs and run files; default "
                    "runs/<model name>. A rerun resumes from it.")
flags.DEFINE_string("export_dir", "exported",
                    "Export root (TF Serving layout <export_dir>/<name>/"
                    "<version>); empty to skip the export.")
flags.DEFINE_string("export_name", None,
                    "Model name under --export_dir; default from dataset and "
                    "beta, e.g. dsprites_beta4.")
flags.DEFINE_boolean("mixed_precision", False,
                     training.TrainConfig.describe("mixed_precision"))
flags.DEFINE_enum("mixed_precision_policy", "auto",
                  ["auto", "mixed_float16", "mixed_bfloat16"],
                  "Policy used by --mixed_precision; auto picks float16 on "
                  "GPU and bfloat16 otherwise.")
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
_parse_flags = cli.flags_parser(command.PROGRAM)


def main(argv):
  command.main(argv, FLAGS)


if __name__ == "__main__":
  cli.run(main, program=command.PROGRAM)
