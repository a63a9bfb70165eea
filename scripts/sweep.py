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

A sweep is a one-method study (scripts/study.py, docs/studies.md) in
--sweep_dir: every (value, seed) is a job (jobs/<job_id>/: its run,
export and scores) run one after another with every CPU, each value's
seeds are ranked by UDR (udr/), and the study's report is written
(results.csv, report.md).  The sweep adds <sweep_dir>/sweep.csv (beta
[the run's β, empty for methods without one], seed, steps, metric, score,
reconstruction [held-out nats/image], train_reconstruction, kl [nats],
active_latents, wall_seconds, run_dir, export_path, udr, udr_spearman,
udr_picked, method, hyperparameter, value) and <sweep_dir>/sweep.png
(score and reconstruction error against the value), and prints the value
with the best mean score.  The metric of seed s samples with
RandomState(--metric_seed + s), as in every study.

Resumable: a rerun skips done jobs, and a killed job resumes from its
checkpoint.  Other settings on the same --sweep_dir are refused (exit 2,
naming what differs); give another --sweep_dir.  Usage errors (a bad
value, an unknown method, a setting of another method) exit with code 2
and a one-line message, and nothing is written.  So does a --sweep_dir
another live process is using (the line names it: pid, host, start time).
"""

import sys

from absl import flags

from tf_betavae import cli
from tf_betavae.experiments import sweep_command as command

# One flag per SweepFlags field, with its default and help.
cli.define_config_flags(command.SweepFlags)

FLAGS = flags.FLAGS
PROGRAM = command.PROGRAM
_parse_flags = cli.flags_parser(PROGRAM)


def main(argv):
  try:
    lines = command.run(argv, FLAGS)
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  except command.Failed as e:
    sys.stderr.write(f"{PROGRAM}: {e}\n")
    sys.exit(1)
  print("\n".join(lines))


if __name__ == "__main__":
  cli.run(main, PROGRAM)
