r"""Reproduces the β-VAE paper's 2D-shapes table and writes docs/results.md.

  python scripts/reproduce.py                      # --preset=cpu, < 2 h
  python scripts/reproduce.py --preset=select      # 5 seeds, UDR picks one
  python scripts/reproduce.py --preset=select_factor_vae   # ships version 2
  python scripts/reproduce.py --preset=quick --output_md=/tmp/r/results.md
  python scripts/reproduce.py --preset=gpu --dsprites_file=dsprites.npz
  python scripts/reproduce.py --methods=factor_vae,beta_tc_vae \
      --method_values=factor_vae:20

Trains the β-VAE recipe (--beta, --learning_rate, --objective,
--batch_size, --arch, --latent_dim; by default the CPU recipe,
tf_betavae.experiments.settings.Recipe, which reads
tf_betavae/training/presets.py CPU_RECIPE; a preset's recipe overrides
it, and a flag given overrides both)
and the plain VAE (β = 1, otherwise the same) for every seed on the
dSprites simulator (or the official file, --dsprites_file); scores both and
the PCA, ICA, raw-pixel and untrained-encoder baselines with the β-VAE
metric (paper and disentanglement_lib protocols), MIG, FactorVAE, DCI and
SAP; writes --output_md (one table, mean ± std over seeds, beside the
paper's Table 1) and the raw results as JSON beside it (results.md ->
results.json); prints the pass/fail checks of the β-VAE targets.  With
two or more seeds it ranks each trained model's seeds by UDR
(tf_betavae.metrics.udr) and reports the seed UDR picks and how UDR ranks
against every supervised metric.

--methods adds a row per other method (annealed_vae, factor_vae,
dip_vae_i, dip_vae_ii, beta_tc_vae; see docs/methods.md), trained with the
β-VAE's seeds, steps, sizes and learning rate at one value of its
hyperparameter: --method_values=method:value, or the default of
tf_betavae.experiments.settings.METHOD_VALUES (the method paper's dSprites
value); scored with the same metrics and ranked by UDR over its seeds.
Without --methods the table is the β-VAE paper's.

Presets: see tf_betavae/experiments/settings.py.  --steps,
--seeds/--num_seeds, --num_train, --num_eval, --baseline_num_fit and
--parallel_runs override the preset (the cpu preset trains, then evaluates,
2 at a time, each in a process pinned to one core; docs/recipe_search.md
has the speeds).  Runs and evaluations are kept under --work_dir; a rerun with
the same settings trains and evaluates nothing.  Usage errors exit with
status 2 and one line.  So does a --work_dir another live process is
using (the line names it: pid, host, start time; nothing is written), and
a run directory under it that another process is training.  Exit status 0
whether or not the targets pass (--strict: 3 when a target fails).
"""

import dataclasses
import os
import shlex
import sys

from absl import flags
from absl import logging

from tf_betavae import cli

flags.DEFINE_enum("preset", "cpu", ["cpu", "select", "select_factor_vae",
                                     "quick", "gpu"],
                  "Sizes: cpu (< 2 h on 2 cores), select (the cpu recipe "
                  "on 5 seeds, the VAE and baselines on 3; UDR picks a "
                  "β-VAE, scored at full sizes), select_factor_vae "
                  "(FactorVAE, 8 latents, on 7 seeds, the β-VAE, VAE and "
                  "baselines on 1; UDR (Spearman) picks a FactorVAE seed, "
                  "scored at full sizes; < 3 h on 2 cores), quick "
                  "(minutes), gpu (paper-scale steps, full metric sizes).")
flags.DEFINE_enum("udr_criterion", None, ["udr_lasso", "udr_spearman"],
                  "The UDR whose best seed is picked (default: the "
                  "preset's; Lasso except for select_factor_vae).")
flags.DEFINE_integer("reference_num_seeds", None, "The VAE and the "
                     "baselines (and, for select_factor_vae, the β-VAE) use "
                     "the first this many seeds (default: the preset's; "
                     "every seed for cpu, 3 for select, 1 for "
                     "select_factor_vae).")
flags.DEFINE_integer("udr_num_points", None, "Images of the shared sample "
                     "UDR compares seeds on (default: the preset's, "
                     "10,000).")
flags.DEFINE_string("output_md", "docs/results.md",
                    "Markdown output; the JSON goes beside it (.json).")
flags.DEFINE_string("work_dir", "reproduce_runs",
                    "Runs and cached evaluations.")
flags.DEFINE_string("dsprites_file", None, "The official dSprites .npz or "
                    ".hdf5; default the built-in simulator.")
# The recipe flags default to None: unset, the preset's recipe or else
# tf_betavae.experiments.settings.Recipe (the CPU recipe) decides, so their
# defaults live in one place.
_RECIPE_DEFAULT = (" Default: the preset's, else the CPU recipe's "
                   "(tf_betavae/experiments/settings.py Recipe).")
flags.DEFINE_float("beta", None,
                   "β of the β-VAE runs (objective H)." + _RECIPE_DEFAULT)
flags.DEFINE_integer("beta_hold_steps", None,
                     "Steps the β-VAE trains at KL weight 1 before its "
                     "warm-up (0 = none); see scripts/train.py."
                     + _RECIPE_DEFAULT)
flags.DEFINE_integer("beta_warmup_steps", None,
                     "Steps over which the β-VAE's KL weight then rises "
                     "linearly from 1 to --beta (0 = none); see "
                     "scripts/train.py." + _RECIPE_DEFAULT)
flags.DEFINE_float("learning_rate", None,
                   "Adam learning rate." + _RECIPE_DEFAULT)
flags.DEFINE_integer("lr_warmup_steps", None,
                     "Steps of a linear learning-rate warm-up (0 = none); "
                     "see scripts/train.py." + _RECIPE_DEFAULT)
flags.DEFINE_enum("lr_decay", None, ["constant", "cosine"],
                  "Learning rate after the warm-up: constant, or cosine "
                  "decay to 0 at the last step." + _RECIPE_DEFAULT)
flags.DEFINE_enum("objective", None, ["H", "B"],
                  "β-VAE objective." + _RECIPE_DEFAULT)
flags.DEFINE_integer("batch_size", None, "Batch size." + _RECIPE_DEFAULT)
# tf_betavae.models.ARCHITECTURES, written out: importing the models
# imports TensorFlow, whose start-up lines would follow a usage error.
flags.DEFINE_enum("arch", None, ["conv", "mlp", "broadcast"],
                  "Architecture." + _RECIPE_DEFAULT)
flags.DEFINE_integer("latent_dim", None,
                     "Latents, also the PCA/ICA and untrained-encoder "
                     "dimension." + _RECIPE_DEFAULT)
flags.DEFINE_float("gamma", None, "γ of objective B and of the "
                   "annealed_vae row of --methods." + _RECIPE_DEFAULT)
flags.DEFINE_float("capacity_max", None, "Final capacity (nats), "
                   "objective B." + _RECIPE_DEFAULT)
flags.DEFINE_integer("capacity_steps", None,
                     "Capacity ramp steps, objective B and the annealed_vae "
                     "row of --methods." + _RECIPE_DEFAULT)
flags.DEFINE_list("methods", [], "Other methods, a row each, trained like "
                  "the β-VAE: annealed_vae, factor_vae, dip_vae_i, "
                  "dip_vae_ii, beta_tc_vae.")
flags.DEFINE_list("method_values", [], "method:value pairs, e.g. "
                  "factor_vae:20: the value of the hyperparameter of a "
                  "method of --methods (capacity_max, factor_gamma, "
                  "lambda_od or beta); default the method paper's dSprites "
                  "value (tf_betavae.experiments.settings.METHOD_VALUES).")
flags.DEFINE_integer("steps", None, "Training steps (default: the preset's).")
flags.DEFINE_list("seeds", None, "Seeds (default: 0..num_seeds-1).")
flags.DEFINE_integer("num_seeds", None, "Number of seeds (default: the "
                     "preset's, 3 for cpu and gpu).")
flags.DEFINE_integer("num_train", None, "Training examples/samples of every "
                     "metric (default: the preset's).")
flags.DEFINE_integer("num_eval", None, "Evaluation examples/samples of every "
                     "metric (default: the preset's).")
flags.DEFINE_integer("baseline_num_fit", None, "Images PCA/ICA are fitted on "
                     "(default: the preset's).")
flags.DEFINE_integer("metric_seed", 0, "Metrics of seed s use "
                     "RandomState(metric_seed + s).")
flags.DEFINE_list("metrics", None, "Metric keys to evaluate (default all: "
                  "beta_vae_paper (paper protocol, dSprites' four factors "
                  "without shape), beta_vae_paper_all (all five), "
                  "beta_vae_dl, mig, factor_vae, dci, sap).")
flags.DEFINE_integer("parallel_runs", None, "Trainings (then evaluations) "
                     "run at once, each in a worker process pinned to its "
                     "share of the CPUs (default: the preset's; 1 runs "
                     "everything in this process).")
flags.DEFINE_enum("code_table", "auto", ["auto", "never"],
                  "auto: a model whose metrics would encode more images "
                  "than the dataset's distinct observations encodes "
                  "each observation once and looks codes up (scores do not "
                  "change); never: always encode the sampled images.")
flags.DEFINE_bool("strict", False, "Exit with status 3 if a target fails.")

FLAGS = flags.FLAGS
PROGRAM = "reproduce.py"
_parse_flags = cli.flags_parser(PROGRAM)


def _seeds():
  if FLAGS.seeds is None:
    return None
  try:
    seeds = [int(s) for s in FLAGS.seeds]
  except ValueError:
    cli.usage_error(PROGRAM, f"--seeds must be comma-separated integers, got "
                    f"{','.join(FLAGS.seeds)!r}")
  if FLAGS.num_seeds is not None:
    cli.usage_error(PROGRAM, "give --seeds or --num_seeds, not both")
  return seeds


def _settings(settings_lib):
  """Settings of the flags (raises settings_lib.UsageError)."""
  seeds = _seeds()
  if FLAGS.steps is not None and FLAGS.steps < 1:
    raise settings_lib.UsageError(f"--steps must be positive, got "
                                  f"{FLAGS.steps}")
  if FLAGS.dsprites_file and not os.path.exists(FLAGS.dsprites_file):
    raise settings_lib.UsageError(f"--dsprites_file {FLAGS.dsprites_file} "
                                  "does not exist")
  # Only the recipe flags given override the preset's recipe
  # (select_factor_vae sets latent_dim), which overrides Recipe's defaults.
  # Every Recipe field with a flag of its name is a recipe flag, so a new
  # field gets through once its flag is defined.
  recipe_values = {
      field.name: FLAGS[field.name].value
      for field in dataclasses.fields(settings_lib.Recipe)
      if field.name in FLAGS and FLAGS[field.name].value is not None}
  return settings_lib.settings_from_preset(
      FLAGS.preset, FLAGS.work_dir, recipe_values=recipe_values,
      udr_criterion=FLAGS.udr_criterion, steps=FLAGS.steps,
      seeds=seeds, num_seeds=FLAGS.num_seeds, num_train=FLAGS.num_train,
      num_eval=FLAGS.num_eval, baseline_num_fit=FLAGS.baseline_num_fit,
      metric_seed=FLAGS.metric_seed, parallel_runs=FLAGS.parallel_runs,
      code_table=FLAGS.code_table, udr_num_points=FLAGS.udr_num_points,
      reference_num_seeds=FLAGS.reference_num_seeds,
      methods=settings_lib.parse_methods(FLAGS.methods, FLAGS.method_values),
      metrics=([m.strip() for m in FLAGS.metrics if m.strip()]
               if FLAGS.metrics is not None else None),
      dsprites_file=(os.path.abspath(FLAGS.dsprites_file)
                     if FLAGS.dsprites_file else None))


def main(argv):
  if len(argv) > 1:
    cli.usage_error(PROGRAM, f"unexpected arguments {argv[1:]}; flags take "
                    "the form --name=value")
  logging.set_verbosity(logging.INFO)
  # Imported here, not at the top: pinned worker processes import this
  # module before they are pinned, and must not load TensorFlow then.
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  from tf_betavae import locking  # pylint: disable=g-import-not-at-top
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import report  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import reproduce  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import settings as settings_lib  # pylint: disable=g-import-not-at-top
  command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
  try:
    cli.check_output_dir("work_dir", FLAGS.work_dir)
    cli.check_output_file("output_md", FLAGS.output_md)
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  try:
    results = reproduce.reproduce(_settings(settings_lib))
  except (settings_lib.UsageError, training.ConfigError,
          data.UnknownDatasetError, data.DatasetUnavailableError,
          locking.LockHeldError) as e:
    cli.usage_error(PROGRAM,
                    str(e).splitlines()[0] if str(e) else type(e).__name__)
  except training.NonFiniteLossError as e:
    sys.stderr.write(f"{PROGRAM}: {e}\n")
    sys.exit(1)
  results["command"] = command  # so the JSON says what made it, too
  md_path = report.write_markdown(results, FLAGS.output_md, command)
  json_path = report.write_json(results, report.json_path_for(FLAGS.output_md))
  print("\n".join(report.summary_lines(results, md_path, json_path)))
  if FLAGS.strict and not results["passed"]:
    sys.exit(3)


if __name__ == "__main__":
  cli.run(main, PROGRAM)
