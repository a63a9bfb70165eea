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
--parallel_runs override the preset (the cpu preset trains and scores 2
models at a time, each in a process pinned to one core; docs/recipe_search.md
has the speeds).

The trained models are the jobs of a study (scripts/study.py
--preset=paper is the cpu preset's; docs/studies.md) in
<work_dir>/study: each job trains, exports and scores one model and seed,
the study ranks each model's seeds by UDR and writes its own report there.
The baselines' evaluations are kept in <work_dir>/evaluations.  A rerun
with the same settings trains and evaluates nothing; a killed job resumes
from its checkpoint; other settings on the same --work_dir (another
preset, seeds, steps, sizes or --parallel_runs, which sets each job's
threads) are refused with exit 2, naming what differs.  Usage errors
exit with status 2 and one line.  So does a --work_dir another live
process is using (the line names it: pid, host, start time; nothing is
written).  Exit status 1 if a job fails (its error is printed); 0 whether
or not the targets pass (--strict: 3 when a target fails).
"""

import sys

from absl import flags

from tf_betavae import cli
from tf_betavae.experiments import reproduce_command as command

# One flag per ReproduceFlags field, with its default and help.
cli.define_config_flags(command.ReproduceFlags)

FLAGS = flags.FLAGS
PROGRAM = command.PROGRAM
_parse_flags = cli.flags_parser(PROGRAM)


def main(argv):
  try:
    lines, status = command.run(argv, FLAGS, sys.argv)
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  except command.Failed as e:
    sys.stderr.write(f"{PROGRAM}: {e}\n")
    sys.exit(1)
  print("\n".join(lines))
  if status:
    sys.exit(status)


if __name__ == "__main__":
  cli.run(main, PROGRAM)
