r"""Runs a study: a numbered list of trainings, each trained, exported and
scored, on this machine, a Ray cluster or a job array, with one report.

  # disentanglement_lib's unsupervised study, part of it, two jobs at once:
  python scripts/study.py --study_dir=studies/dlib --datasets=dsprites \
      --seeds=0,1 --steps=20000 --workers=2
  # the same on a Ray cluster (pip install -e '.[ray]'; ray start --head):
  python scripts/study.py --study_dir=studies/dlib --datasets=dsprites \
      --seeds=0,1 --steps=20000 --engine=ray --ray_address=auto
  # one job, e.g. task N of a SLURM array or a Kubernetes Indexed Job:
  python scripts/study.py --study_dir=studies/dlib --model_num=351
  # a one-method sweep; the jobs of a study; the report of what is done:
  python scripts/study.py --preset=sweep --methods=factor_vae \
      --values=10,20,40 --seeds=0,1 --study_dir=studies/fvae
  python scripts/study.py --datasets=dsprites --seeds=0 --list
  python scripts/study.py --study_dir=studies/dlib --report_only

--preset=unsupervised_study_v1 numbers its 12,600 jobs as
``dlib_reproduce --model_num`` does; --datasets, --methods, --values (with
one method) and --seeds keep part of it, numbered as in the whole.
--preset=weak_study is Locatello et al. 2020's weakly-supervised study
(480 jobs on dsprites; --datasets names its datasets), whose variants k1
and krnd --variants keeps part of:

  python scripts/study.py --preset=weak_study --variants=k1 --list  The
study directory is the study's only state (see docs/studies.md): a rerun
skips done jobs and resumes the others from their checkpoints.  The
program exits 1 when a job failed (the others still run), 2 on a usage
error.  It imports TensorFlow only with --model_num: engines run each job
in a process of its own.
"""

import sys

from absl import flags

from tf_betavae import cli
from tf_betavae.studies import command

# One flag per StudyFlags field, with its default and help.
cli.define_config_flags(command.StudyFlags)

FLAGS = flags.FLAGS
PROGRAM = command.PROGRAM
_parse_flags = cli.flags_parser(PROGRAM)


def main(argv):
  try:
    text, exit_code = command.run(argv, FLAGS)
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  print(text)
  sys.exit(exit_code)


if __name__ == "__main__":
  cli.run(main, PROGRAM, imports_tensorflow=False)
