"""End-to-end tests of scripts/evaluate.py (run as a subprocess)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "evaluate.py")


def _evaluate(*args):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True,
                        text=True, env=env, cwd=ROOT, timeout=600)


def _save_encoder(path, shape=(None, 64, 64, 1)):
  """A fixed linear 'encoder': 4 latents of pooled pixel statistics."""
  module = tf.Module()
  rs = np.random.RandomState(0)
  module.w = tf.Variable(rs.randn(64, 4).astype(np.float32))

  @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32,
                                              name="images")])
  def serve(images):
    pooled = tf.nn.avg_pool2d(images, 8, 8, "VALID")
    flat = tf.reshape(pooled, [-1, 64])
    return {"latent_mean": flat @ module.w, "latent_log_variance": flat[:, :4]}

  tf.saved_model.save(module, str(path),
                      signatures={"serving_default": serve})


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
  path = tmp_path_factory.mktemp("export") / "run" / "1"
  _save_encoder(path)
  # Marks it as a tf_betavae export, as tf_betavae.export writes them.
  os.makedirs(path / "assets", exist_ok=True)
  (path / "assets" / "tf_betavae_metadata.json").write_text("{}")
  return path


def _one_line_error(result, *fragments):
  assert result.returncode == 2, result.stderr
  assert "Traceback" not in result.stderr
  lines = [l for l in result.stderr.splitlines() if "evaluate.py: error" in l]
  assert len(lines) == 1, result.stderr
  for fragment in fragments:
    assert fragment in lines[0], lines[0]


def test_not_a_saved_model(tmp_path):
  _one_line_error(_evaluate("--saved_model", str(tmp_path)),
                  "not a SavedModel", str(tmp_path))


def test_missing_signature(export_dir):
  _one_line_error(
      _evaluate("--saved_model", str(export_dir), "--signature", "encode"),
      "no signature 'encode'", "['serving_default']")


def test_missing_output_key(export_dir):
  _one_line_error(
      _evaluate("--saved_model", str(export_dir), "--output_key", "z"),
      "no output 'z'", "['latent_log_variance', 'latent_mean']")


def test_input_shape_mismatch(tmp_path):
  _save_encoder(tmp_path / "m", shape=(None, 32, 32, 3))
  _one_line_error(_evaluate("--saved_model", str(tmp_path / "m")),
                  "[None, 32, 32, 3]", "[None, 64, 64, 1]")


def test_evaluates_export_and_writes_beside_it(export_dir, tmp_path):
  out = tmp_path / "results.json"
  result = _evaluate("--saved_model", str(export_dir), "--num_train", "300",
                     "--num_eval", "150", "--seed", "1", "--output", str(out),
                     "--metrics", "beta_vae,mig,factor_vae,sap,dci")
  assert result.returncode == 0, result.stderr
  results = json.loads(out.read_text())
  assert sorted(results) == ["beta_vae", "dci", "factor_vae", "mig", "sap"]
  for name, r in results.items():
    assert 0.0 <= r["score"] <= 1.0, name
    assert "parameters" in r
  assert results["beta_vae"]["protocol"] == "disentanglement_lib"
  assert results["beta_vae"]["parameters"]["num_train"] == 300
  assert results["beta_vae"]["parameters"]["num_pairs"] == 64
  assert results["dci"]["parameters"]["num_test"] == 150
  assert "completeness" in results["dci"]
  beside = json.loads((export_dir / "metrics.json").read_text())
  assert beside == results
  # The scores also go into the export's own metadata asset.
  metadata = json.loads(
      (export_dir / "assets" / "tf_betavae_metadata.json").read_text())
  assert metadata["metrics"]["mig"]["score"] == results["mig"]["score"]
  for name in results:
    assert name in result.stdout  # the printed table
  confusion = results["beta_vae"]["eval_confusion"]
  assert sum(map(sum, confusion["counts"])) == 150
  assert "accuracy per fixed factor: shape" in result.stdout


# A long run (23 s in CI; the paper protocol's choices are tested in tests/metrics/test_beta_vae.py): -m slow.
@pytest.mark.slow
def test_baseline_paper_protocol(tmp_path):
  out = tmp_path / "r.json"
  result = _evaluate("--baseline", "pca", "--metrics", "beta_vae",
                     "--protocol", "paper", "--num_train", "200",
                     "--num_eval", "100", "--output", str(out))
  assert result.returncode == 0, result.stderr
  r = json.loads(out.read_text())["beta_vae"]
  assert r["protocol"] == "paper"
  assert r["parameters"]["optimizer"] == "Adagrad"
  assert r["representation"] == {"baseline": "pca", "dim": 10}
  # The paper's four dSprites factors by default (docs/metrics.md).
  assert r["factors"] == ["scale", "orientation", "pos_x", "pos_y"]
  assert r["chance"] == 0.25
  _one_line_error(_evaluate("--baseline", "pca", "--metrics", "beta_vae",
                            "--protocol", "paper", "--paper_factors",
                            "shape,colour"),
                  "--paper_factors", "unknown factor(s) colour")


def test_flag_errors(tmp_path):
  _one_line_error(_evaluate("--metrics", "mig"), "exactly one of")
  _one_line_error(_evaluate("--baseline", "pixels", "--metrics", "mig,foo"),
                  "--metrics")
  _one_line_error(_evaluate("--baseline", "pixels", "--seed", "x"),
                  "flag --seed=x")


def _official_subset_file(tmp_path):
  """An official-layout dSprites npz of 600 random combinations."""
  import importlib.util  # pylint: disable=g-import-not-at-top
  spec = importlib.util.spec_from_file_location(
      "data_test_utils_eval", os.path.join(ROOT, "tests", "data",
                                           "data_test_utils.py"))
  utils = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(utils)
  rs = np.random.RandomState(5)
  rows = np.stack([rs.randint(n, size=600) for n in (3, 6, 40, 32, 32)], 1)
  rows = np.unique(rows, axis=0)
  path = tmp_path / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
  np.savez_compressed(path, **utils.official_dsprites_subset(rows))
  return str(path)


def test_code_table_gives_the_same_scores(export_dir, tmp_path,
                                         cases_in_one_process):
  data_file = _official_subset_file(tmp_path)
  common = ["--saved_model", str(export_dir), "--dataset",
            "dsprites_official", "--dsprites_file", data_file,
            "--metrics", "mig,sap,dci", "--num_train", "200",
            "--num_eval", "100", "--seed", "2", "--write_beside_model=false"]
  modes = ("always", "never", "auto")
  # One process for the three modes (a TensorFlow start-up each otherwise).
  outcomes = cases_in_one_process(
      SCRIPT, [common + ["--code_table", mode, "--output",
                         str(tmp_path / f"{mode}.json")] for mode in modes],
      tmp_path)
  results = {}
  for mode, (code, stderr) in zip(modes, outcomes):
    assert code == 0, stderr[-3000:]
    results[mode] = json.loads((tmp_path / f"{mode}.json").read_text())
  always, never = results["always"], results["never"]
  assert always["mig"]["code_table"]["used"]
  assert always["mig"]["code_table"]["observations"] > 500
  assert not never["mig"]["code_table"]["used"]
  # MIG 200 + SAP 300 + DCI 300 images > half of the ~600 stored: a table.
  assert results["auto"]["mig"]["code_table"]["used"]
  assert results["auto"]["mig"]["code_table"]["planned_images"] == 800
  for name in ("mig", "sap", "dci"):
    for key in ("score", "completeness", "informativeness_test"):
      if key in never[name]:
        assert always[name][key] == pytest.approx(never[name][key],
                                                  abs=1e-6), (name, key)
  # The β-VAE metric needs pairs that differ in all but one factor, which a
  # subset of the grid does not hold: a usage error, not a traceback.
  _one_line_error(_evaluate(*common[:6], "--metrics", "beta_vae"),
                  "beta_vae", "not in the data")


def test_code_table_too_large_is_a_usage_error():
  # Raw pixels: 737,280 x 4,096 float32 codes would need 11 GiB.
  _one_line_error(_evaluate("--baseline", "pixels", "--metrics", "mig",
                            "--code_table", "always"),
                  "--code_table=always", "MiB")


@pytest.mark.slow  # two evaluate.py processes: over 30 s on 2 shared cores
def test_two_evaluations_at_once_keep_both_results(tmp_path):
  """Two evaluate.py processes beside one export: metrics.json and the
  metadata keep both (merged under the export's lock)."""
  path = tmp_path / "run" / "1"
  _save_encoder(path)
  os.makedirs(path / "assets", exist_ok=True)
  (path / "assets" / "tf_betavae_metadata.json").write_text("{}")
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  processes = [
      subprocess.Popen([sys.executable, SCRIPT, "--saved_model", str(path),
                        "--metrics", metric, "--num_train", "200",
                        "--num_eval", "100", "--code_table", "never"],
                       env=env, cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
      for metric in ("mig", "sap")]
  for process in processes:
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-2000:]
  beside = json.loads((path / "metrics.json").read_text())
  assert sorted(beside) == ["mig", "sap"]
  metadata = json.loads(
      (path / "assets" / "tf_betavae_metadata.json").read_text())
  assert sorted(metadata["metrics"]) == ["mig", "sap"]
  assert metadata["metrics"]["sap"]["score"] == beside["sap"]["score"]


def test_sampled_and_new_metrics_in_one_process(export_dir, tmp_path,
                                                cases_in_one_process,
                                                one_usage_error):
  """disentanglement_lib's other evaluations and its sampled representation,
  through the program: results keyed beside the export, and each bad input
  one line with exit 2."""
  from tests.experiments import fake_exports  # pylint: disable=g-import-not-at-top
  fake = fake_exports.save_fake_export(str(tmp_path / "fake" / "1"))
  out = {name: tmp_path / f"{name}.json" for name in ("mean", "sampled")}
  common = ["--saved_model", fake, "--num_train", "200", "--num_eval", "100",
            "--metrics", "mig,modularity_explicitness,irs,unsupervised"]
  cases = [
      common + ["--output", out["mean"]],
      common + ["--representation", "sampled", "--output", out["sampled"]],
      ["--baseline", "pixels", "--metrics", "mig,nope"],
      ["--saved_model", str(export_dir), "--representation", "sampled",
       "--metrics", "mig"],
      ["--baseline", "pca", "--representation", "sampled", "--metrics",
       "mig"],
      ["--baseline", "pca", "--metrics", "downstream_task_boosted_trees",
       "--num_eval", "800000"],
  ]
  outcomes = cases_in_one_process(SCRIPT, cases, tmp_path)
  for code, stderr in outcomes[:2]:
    assert code == 0, stderr[-3000:]
  mean, sampled = (json.loads(out[k].read_text()) for k in ("mean",
                                                              "sampled"))
  assert set(mean) == set(sampled) == {"mig", "modularity_explicitness",
                                       "irs", "unsupervised"}
  assert "modularity_score" in mean["modularity_explicitness"]
  assert "IRS" in mean["irs"]
  assert sampled["mig"]["postprocessing"] == "sampled"
  assert sampled["mig"]["representation"]["signature"] == "encode"
  # The fake posterior's std is exp(-1): a sample moves the codes, so the
  # scores differ while the metrics' own sampling is the same.
  assert sampled["mig"]["score"] != mean["mig"]["score"]
  beside = json.loads(open(os.path.join(fake, "metrics.json")).read())
  assert beside["mig"] == mean["mig"]
  assert beside["mig:sampled"] == sampled["mig"]
  for (code, stderr), fragment in zip(outcomes[2:], [
      "--metrics: unknown metric 'nope'; give all or",
      "the sampled representation needs an 'encode' signature",
      "--representation=sampled needs a model's posterior",
      "larger than the dataset's 737280 distinct observations"]):
    one_usage_error("evaluate.py", code, stderr, fragment)


def test_all_names_every_metric_and_fairness_needs_two_factors():
  from tf_betavae.experiments import standalone  # pylint: disable=g-import-not-at-top
  from tf_betavae.metrics import registry  # pylint: disable=g-import-not-at-top
  assert standalone.metric_names("all") == list(standalone.ALL_METRICS)
  assert set(standalone.ALL_METRICS) == set(registry.REGISTRY)
  names = _script_constants(SCRIPT, "METRIC_NAMES", "MORE_METRICS")
  assert set(names["METRIC_NAMES"] + names["MORE_METRICS"]) == set(
      registry.REGISTRY)

  class OneFactor:
    factors_num_values = (4,)

  with pytest.raises(standalone.UsageError,
                     match="fairness needs a dataset with at least 2 factors"):
    standalone.check_metric_inputs(["fairness"], OneFactor())
  standalone.check_metric_inputs(["mig"], OneFactor())


def _script_constants(path, *names):
  """Tuple constants of a script, read from its source: importing it would
  define its flags a second time in this process."""
  import ast  # pylint: disable=g-import-not-at-top
  values = {}
  for node in ast.parse(open(path).read()).body:
    if (isinstance(node, ast.Assign) and len(node.targets) == 1
        and getattr(node.targets[0], "id", None) in names):
      values[node.targets[0].id] = ast.literal_eval(node.value)
  return values
