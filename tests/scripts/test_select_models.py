"""scripts/select_models.py: ranking JSON, table and usage errors."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "select_models.py")

sys.path.append(os.path.join(ROOT, "tests", "experiments"))  # fake_exports.py
import fake_exports  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.fixture(scope="module")
def models(tmp_path_factory):
  root = tmp_path_factory.mktemp("select_cli")
  path = lambda name: str(root / name / "1")
  out = {
      "a": fake_exports.save_fake_export(path("a")),
      "b": fake_exports.save_fake_export(path("b"), fake_exports.PERMUTED),
      "c_export": fake_exports.save_fake_export(path("c"),
                                                fake_exports.ROTATED),
      "wide": fake_exports.save_fake_export(path("wide"), collapsed=3),
      "rgb": fake_exports.save_fake_export(path("rgb"),
                                           image_shape=(64, 64, 3)),
      "empty": str(root / "empty"),
      "out": str(root / "out"),
  }
  os.makedirs(out["empty"])
  out["c"] = fake_exports.save_run_dir(str(root / "run_c"), out["c_export"])
  return out


def test_usage_error_in_a_real_process(models, one_usage_error):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  done = subprocess.run(
      [sys.executable, SCRIPT, f"--models={models['a']}"],
      capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
  one_usage_error("select_models.py", done.returncode, done.stderr,
                  "at least 2 models")


def test_rankings_and_usage_errors(models, tmp_path, cases_in_one_process,
                                   one_usage_error):
  a, b, c = models["a"], models["b"], models["c"]
  lasso_json = os.path.join(models["out"], "lasso.json")
  spearman_json = os.path.join(models["out"], "spearman.json")
  cases = [
      # --models=a,b,c list syntax.
      [f"--models={c},{a},{b}", "--num_points=1000", "--supervised=none",
       "--pool_sizes=2,3", f"--output={lasso_json}"],
      # --models a b c: the paths after the first arrive as arguments.
      ["--models", a, b, c, "--method=udr_spearman", "--num_points=800",
       "--seed=3", "--supervised_num_train=20", "--supervised_num_eval=10",
       f"--output={spearman_json}"],
      [f"--models={a},{models['wide']}"],
      [f"--models={a},{models['rgb']}"],
      [f"--models={a},{models['empty']}"],
      [f"--models={a},{b}", "--dataset=celeb_a"],
      [f"--models={a},{b}", "--num_points=1"],
      [f"--models={a},{b}", "--method=udr_pearson"],
      [],
      [f"--models={a},{b}", "--pool_sizes=3"],
      [f"--models={a},{b}", "--pool_sizes=two"],
  ]
  outcomes = cases_in_one_process(SCRIPT, cases, tmp_path, with_stdout=True)

  code, stderr, stdout = outcomes[0]
  assert code == 0, stderr[-3000:]
  with open(lasso_json) as f:
    ranking = json.load(f)
  assert ranking["method"] == "udr_lasso"
  assert ranking["dataset"] == "dsprites"
  assert [m["model"] for m in ranking["models"]][2] == c
  assert sorted(m["model"] for m in ranking["models"][:2]) == sorted([a, b])
  assert ranking["models"][0]["udr"] > ranking["models"][2]["udr"] + 0.1
  assert all(m["informative_latents"] == 3 for m in ranking["models"])
  assert ranking["parameters"]["seed"] == 0
  assert ranking["parameters"]["num_points"] == 1000
  assert ranking["parameters"]["kl_filter_threshold"] == 0.01
  assert "supervised" not in ranking["models"][0]
  rows = [line for line in stdout.splitlines() if line.endswith((a, b, c))]
  assert len(rows) == 3 and rows[2].endswith(c)
  assert f"{ranking['models'][0]['udr']:.4f}" in rows[0]
  assert "3/4" in rows[0]
  two, three = ranking["pools"]
  assert (two["pool_size"], two["pools"], three["pools"]) == (2, 3, 1)
  best = ranking["models"][0]["model"]
  assert [p["count"] for p in three["picks"] if p["model"] == best] == [1]
  assert sum(p["count"] for p in two["picks"]) == 3
  assert "pick_mean" not in two  # --supervised=none
  assert f"pools of 3 (1): picked {best} 1.00" in stdout

  code, stderr, stdout = outcomes[1]
  assert code == 0, stderr[-3000:]
  with open(spearman_json) as f:
    ranking = json.load(f)
  assert ranking["method"] == "udr_spearman"
  assert ranking["pairwise_scores"]["models"] == [a, b, c]
  assert ranking["parameters"]["seed"] == 3
  assert ranking["parameters"]["supervised_num_train"] == 20
  for entry in ranking["models"]:
    assert set(entry["supervised"]) == {"beta_vae", "mig"}
  assert "beta_vae" in stdout and "mig" in stdout

  for (code, stderr, _), fragment in zip(outcomes[2:], [
      "different latent sizes", "different images",
      "neither a SavedModel export", "celeb_a", "--num_points must be",
      "udr_pearson", "at least 2 models",
      "--pool_sizes must be integers in [2, 2]",
      "--pool_sizes must be integers in [2, 2] (the number of models), got "
      "'two'"]):
    one_usage_error("select_models.py", code, stderr, fragment)


def test_the_pool_limit_matches_the_metrics():
  # The script checks --pool_sizes before TensorFlow is imported, so its
  # command module keeps its own copy of the limit.
  from tf_betavae.experiments import selection_command  # pylint: disable=g-import-not-at-top
  from tf_betavae.metrics import udr  # pylint: disable=g-import-not-at-top
  assert selection_command.MAX_POOLS == udr.MAX_POOLS
