r"""Issue 61's comparison: Ada-GVAE against the β-VAE, docs/weak_supervision.md.

  python scripts/weak_supervision.py --work_dir=weak_runs      # hours, CPU
  python scripts/weak_supervision.py --work_dir=/tmp/w --steps=2 \
      --ada_seeds=0 --other_seeds=0 --methods=ada_gvae,beta_vae \
      --num_train=50 --num_eval=50 --output_md=/tmp/w/weak.md   # a smoke run

Trains the weakly-supervised methods (--methods; ada_gvae on --ada_seeds,
the others on --other_seeds) at --beta with pairs that redraw --k factors
(-1: k random) and the β-VAE at β = 8, all with the CPU recipe (broadcast
decoder, 8 latents, Adam 1e-3, batch 64; --arch, --latent_dim and
--learning_rate change it for every job) for --steps; scores each with
disentanglement_lib's β-VAE metric and MIG (full sizes unless
--num_train/--num_eval); writes --output_md (settings, a row per job and
per method, the target's checks, the shipped exported/dsprites/2 beside
them) and <work_dir>/weak_supervision.json.  The jobs are a study in
<work_dir>/study (tf_betavae.experiments.weak_comparison): a rerun trains
only what is unfinished, a killed job resumes from its checkpoint; other
settings on the same --work_dir exit 2.  --parallel_runs trains that many
jobs at once, each with its share of the CPUs.  Nothing is shipped: the
last line names the best ada_gvae seed's export for a person to ship.
Exit status 1 if a job failed (the report holds the finished ones).
"""

import os
import sys

from absl import flags

from tf_betavae import cli

PROGRAM = "weak_supervision.py"
flags.DEFINE_string("work_dir", None, "Directory of the comparison's study "
                    "(required; a rerun reuses its finished jobs).")
flags.DEFINE_string("output_md", "docs/weak_supervision.md",
                    "The generated report.")
flags.DEFINE_integer("steps", 20000, "Training steps of every job.")
flags.DEFINE_float("beta", 8.0, "β of the weakly-supervised methods (the "
                   "β-VAE trains at the CPU recipe's 8).")
flags.DEFINE_integer("k", -1, "Factors a pair's second observation redraws "
                     "(1..4 on dSprites; -1: k random per pair).")
flags.DEFINE_list("ada_seeds", ["0", "1", "2", "3", "4"], "ada_gvae's seeds.")
flags.DEFINE_list("other_seeds", ["0", "1", "2"], "The other methods' seeds.")
flags.DEFINE_list("methods", ["ada_gvae", "ada_ml_vae", "group_vae",
                              "beta_vae"], "Methods (ada_gvae among them).")
flags.DEFINE_string("arch", None, "Architecture of every job, checked "
                    "against tf_betavae.models (default: broadcast).")
flags.DEFINE_integer("latent_dim", None, "Latents of every job (default: "
                     "the CPU recipe's 8).")
flags.DEFINE_float("learning_rate", None, "Adam's learning rate of every "
                   "job (default: the CPU recipe's 1e-3).")
flags.DEFINE_integer("parallel_runs", 1, "Jobs trained at once.")
flags.DEFINE_integer("num_train", None, "Metric size override (tests).")
flags.DEFINE_integer("num_eval", None, "Metric size override (tests).")
FLAGS = flags.FLAGS
_parse_flags = cli.flags_parser(PROGRAM)


def _seeds(flag):
  try:
    return tuple(int(s) for s in FLAGS[flag].value)
  except ValueError:
    raise cli.UsageError(f"--{flag} must be integers, got "
                         f"{','.join(FLAGS[flag].value)}") from None


def _spec(comparison):
  sizes = None
  if FLAGS.num_train is not None or FLAGS.num_eval is not None:
    sizes = {m: (FLAGS.num_train, FLAGS.num_eval)
             for m in comparison.METRICS}
  recipe = {name: FLAGS[name].value for name in comparison.RECIPE_OVERRIDES
            if FLAGS[name].value is not None}
  try:
    return comparison.comparison_spec(
        steps=FLAGS.steps, ada_seeds=_seeds("ada_seeds"),
        other_seeds=_seeds("other_seeds"), beta=FLAGS.beta, k=FLAGS.k,
        parallel_runs=FLAGS.parallel_runs, methods=FLAGS.methods,
        metric_sizes=sizes, recipe=recipe)
  except ValueError as e:
    raise cli.UsageError(str(e)) from None


def _main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  if not FLAGS.work_dir:
    raise cli.UsageError("--work_dir is required")
  cli.check_output_dir("work_dir", FLAGS.work_dir)
  cli.check_output_file("output_md", FLAGS.output_md)
  # Imported after the flags are checked: a usage error costs no
  # TensorFlow start.
  from tf_betavae.experiments import weak_comparison as comparison  # pylint: disable=g-import-not-at-top
  spec = _spec(comparison)
  try:
    run = comparison.run_study(FLAGS.work_dir, spec, FLAGS.parallel_runs)
  except comparison.StudyError as e:  # other settings in work_dir
    raise cli.UsageError(f"{e}; give another --work_dir") from None
  command = " ".join(["python", "scripts/weak_supervision.py"] + sys.argv[1:])
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  report = comparison.write_report(FLAGS.work_dir, spec, FLAGS.output_md,
                                   command, comparison.hardware_line(),
                                   root=root)
  print("\n".join(comparison.result_lines(report, FLAGS.output_md)))
  if run.failed:
    error = next(o["error"] for o in run.outcomes if o["state"] == "failed")
    sys.stderr.write(f"{PROGRAM}: {run.failed} job(s) failed: {error}\n")
    sys.exit(1)


def main(argv):
  try:
    _main(argv)
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))


if __name__ == "__main__":
  cli.run(main, PROGRAM)
