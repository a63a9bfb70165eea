r"""Lists the jobs of a study (issue 59, first layer: no job runs yet).

  python scripts/study.py --preset=unsupervised_study_v1 --list
  python scripts/study.py --preset=unsupervised_study_v1 --datasets=dsprites \
      --seeds=0 --list
  python scripts/study.py --datasets=dsprites --methods=factor_vae \
      --values=20,30 --study_dir=studies/dlib --list
  python scripts/study.py --model_num=351 --list

A study is a numbered list of trainings: disentanglement_lib's
unsupervised study (--preset=unsupervised_study_v1, 12,600 jobs) numbers
them as ``dlib_reproduce --model_num`` does.  --datasets, --methods,
--values (with one method) and --seeds keep part of it, numbered as in the
whole; --steps sets every job's training steps.  --list prints one line per
job (model_num, job_id, dataset, method, value, seed, state); with
--study_dir it also writes the study's study.json there, or refuses a
directory that holds another study, and reads each job's state from
<study_dir>/jobs/<job_id>/ (see docs/studies.md).

Running jobs is not built yet: without --list the program says so and
exits 2.  Usage errors print one line and exit 2.  The program never
imports TensorFlow.
"""

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
    text = command.run(argv, FLAGS)
  except cli.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  print(text)


if __name__ == "__main__":
  cli.run(main, PROGRAM, imports_tensorflow=False)
