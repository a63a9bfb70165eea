"""The evaluation script's text table (tf_betavae.experiments.standalone)."""

from tf_betavae.experiments import standalone


def _confusion(counts):
  names = ["shape", "scale", "orientation"][:len(counts)]
  return {"factors": names, "counts": counts,
          "accuracy_per_factor": {
              n: (row[i] / sum(row) if sum(row) else None)
              for i, (n, row) in enumerate(zip(names, counts))}}


def test_confusion_line_names_the_most_frequent_mistake():
  line = standalone.confusion_line(
      _confusion([[6, 0, 4], [0, 10, 0], [1, 0, 9]]))
  assert line == ("accuracy per fixed factor: shape 0.60, scale 1.00, "
                  "orientation 0.90; most frequent mistake: shape fixed "
                  "taken for orientation (4 of 10)")


def test_confusion_line_without_mistakes_or_examples():
  assert standalone.confusion_line(_confusion([[3, 0], [0, 0]])) == (
      "accuracy per fixed factor: shape 1.00, scale -")


def test_results_table_adds_the_confusion_under_the_beta_vae_metric():
  table = standalone.results_table({
      "beta_vae": {"score": 0.8, "train_accuracy": 0.9,
                   "eval_confusion": _confusion([[4, 1], [1, 4]])},
      "mig": {"score": 0.3}})
  lines = table.splitlines()
  assert lines[1].startswith("beta_vae") and "train_accuracy=0.9" in lines[1]
  assert lines[2].strip().startswith("accuracy per fixed factor: shape 0.80")
  assert lines[3].startswith("mig")
