r"""Disentanglement metrics of a SavedModel encoder or of a baseline.

  python scripts/evaluate.py --saved_model exported/run/1 --output results.json
  python scripts/evaluate.py --baseline pca --metrics beta_vae,mig \
      --protocol paper --seed 3

Writes a JSON object mapping each metric name to {"score": ..., details,
"parameters": ...} and prints a short table.  When the SavedModel is an
export of this project (an integer version directory with a
serving_default: images -> latent_mean signature) the results are also
merged into metrics.json beside its saved_model.pb and into its metadata,
by metric (and protocol), under a lock: two evaluations of one export at
once keep both their results.

Usage errors (not a SavedModel, unknown signature or output key, input shape
not matching the dataset, bad flags) print one line and exit with status 2.
"""

import dataclasses

from absl import flags

from tf_betavae import cli

METRIC_NAMES = ("beta_vae", "mig", "factor_vae", "dci", "sap")
# The other metric names (tf_betavae.metrics.REGISTRY), written out for the
# help text: importing the metrics imports TensorFlow.
MORE_METRICS = ("modularity_explicitness", "irs",
                "downstream_task_logistic_regression",
                "downstream_task_boosted_trees", "reduced_downstream_task",
                "strong_downstream_task", "fairness", "unsupervised")

flags.DEFINE_string("saved_model", None, "SavedModel directory to evaluate "
                    "(or a training run directory: its export).")
flags.DEFINE_string("signature", "serving_default", "Signature key.")
flags.DEFINE_string("output_key", "latent_mean", "Output used as the code.")
flags.DEFINE_enum("baseline", None, ["pca", "ica", "pixels", "untrained"],
                  "Evaluate a baseline representation instead.")
flags.DEFINE_integer("baseline_dim", 10,
                     "Components (pca/ica) or latent size (untrained).")
flags.DEFINE_string("dataset", None, "Ground-truth dataset: dsprites "
                    "(the built-in simulator), dsprites_official, shapes3d, "
                    "color_dsprites, noisy_dsprites, scream_dsprites or "
                    "smallnorb. Default: the model's own, read from where "
                    "its run read it (dsprites for a baseline).")
flags.DEFINE_string("data_dir", None, "tensorflow-datasets data_dir of real "
                    "datasets.")
flags.DEFINE_string("dsprites_file", None, "The official dSprites .npz or "
                    ".hdf5, for --dataset=dsprites_official.")
flags.DEFINE_string("scream_image", None, "The picture (JPEG/PNG, at least "
                    "64x64) whose random patches are the backgrounds of "
                    "--dataset=scream_dsprites.")
flags.DEFINE_string("metrics", ",".join(METRIC_NAMES),
                    "Comma-separated metric names (disentanglement_lib's "
                    "config names): " + ", ".join(METRIC_NAMES + MORE_METRICS)
                    + "; or all (every metric of disentanglement_lib's "
                    "unsupervised study, then irs, fairness and the reduced "
                    "and strong downstream tasks).")
flags.DEFINE_enum("representation", "mean", ["mean", "sampled"],
                  "disentanglement_lib's postprocessing: the posterior mean "
                  "(serving_default), or one sample from the posterior per "
                  "image (the export's encode signature).")
flags.DEFINE_enum("protocol", "disentanglement_lib",
                  ["paper", "disentanglement_lib"],
                  "Protocol of the beta_vae metric (the others always use "
                  "disentanglement_lib's definitions and sizes).")
flags.DEFINE_string("paper_factors", "auto",
                    "Factors the beta_vae metric's paper protocol labels: "
                    "auto (on dSprites scale, orientation, pos_x, pos_y, as "
                    "the paper is recalled to have done; elsewhere every "
                    "factor), all, or comma-separated factor names "
                    "(docs/metrics.md).")
flags.DEFINE_integer("num_train", None,
                     "Overrides the training examples/samples of every metric.")
flags.DEFINE_integer("num_eval", None,
                     "Overrides the evaluation/test examples of every metric.")
flags.DEFINE_integer("seed", 0, "Seed; each metric uses RandomState(seed).")
flags.DEFINE_integer("batch_size", 2048, "Images per SavedModel call.")
flags.DEFINE_enum("code_table", "auto", ["auto", "always", "never"],
                  "Encode every distinct image of the dataset once and look "
                  "codes up (scores unchanged; see "
                  "tf_betavae/metrics/code_table.py). auto: when the metrics "
                  "would encode at least as many images as the dataset "
                  "has and the table fits in 2 GiB.")
flags.DEFINE_string("output", None, "Where to write the results JSON.")
flags.DEFINE_bool("write_beside_model", True,
                  "Also write metrics.json beside saved_model.pb of a project "
                  "export.")

FLAGS = flags.FLAGS
PROGRAM = "evaluate.py"
_parse_flags = cli.flags_parser(PROGRAM)


def main(argv):
  if len(argv) > 1:
    cli.usage_error(PROGRAM, f"unexpected arguments: {' '.join(argv[1:])}")
  # Imported here, after the flags are parsed: flag errors come at once.
  from tf_betavae.experiments import standalone  # pylint: disable=g-import-not-at-top
  request = standalone.EvaluationRequest(**{
      field.name: FLAGS[field.name].value
      for field in dataclasses.fields(standalone.EvaluationRequest)})
  try:
    results = standalone.evaluate(request)
  except standalone.UsageError as e:
    cli.usage_error(PROGRAM, str(e))
  print(standalone.results_table(results))


if __name__ == "__main__":
  cli.run(main, PROGRAM)
