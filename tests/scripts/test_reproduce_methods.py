"""scripts/reproduce.py --methods: a row per other method, trained like
the β-VAE, scored with the same metrics and ranked by UDR over its seeds;
and its usage errors.

The tiny run: the quick preset with 2 seeds (the VAE and baselines on 1),
5 training steps, MIG alone at 100 samples.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "reproduce.py")
TINY = ["--preset=quick", "--num_seeds=2", "--reference_num_seeds=1",
        "--steps=5", "--num_train=100", "--num_eval=50",
        "--baseline_num_fit=100", "--udr_num_points=200", "--metrics=mig",
        "--parallel_runs=2"]
METHODS = ["--methods=factor_vae,beta_tc_vae", "--method_values=factor_vae:20"]
ROWS = ("β-VAE", "VAE (β = 1)", "FactorVAE (γ = 20)", "β-TCVAE (β = 6)",
        "PCA", "ICA", "raw pixels", "untrained encoder")


def _reproduce(*args):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True,
                        text=True, env=env, cwd=ROOT, timeout=1200)


@pytest.fixture(scope="module")
def with_methods(tmp_path_factory):
  root = tmp_path_factory.mktemp("reproduce_methods")
  result = _reproduce(f"--work_dir={root / 'work'}",
                      f"--output_md={root / 'results.md'}", *TINY, *METHODS)
  md, js = root / "results.md", root / "results.json"
  return {"result": result, "work": root / "work",
          "markdown": md.read_text() if md.exists() else "",
          "results": json.loads(js.read_text()) if js.exists() else {}}


def _table(markdown):
  """(label, cells) of the score table's rows, in order."""
  lines = markdown.splitlines()
  start = next(i for i, l in enumerate(lines) if l.startswith("| model"))
  rows = []
  for line in lines[start + 2:]:
    if not line.startswith("| "):
      break
    cells = [c.strip() for c in line.split("|")[1:-1]]
    rows.append((cells[0], cells[1:]))
  return rows


@pytest.mark.slow  # shares a 90 s reproduction (tests/experiments has the logic)
def test_a_row_per_method_with_the_same_metrics(with_methods):
  result = with_methods["result"]
  assert result.returncode == 0, result.stderr[-3000:]
  rows = _table(with_methods["markdown"])
  assert [label for label, _ in rows] == list(ROWS) + ["DC-IGN", "InfoGAN"]
  header = next(l for l in with_methods["markdown"].splitlines()
                if l.startswith("| model"))
  column = [c.strip() for c in header.split("|")[2:-1]].index("MIG")
  for label, cells in rows[:len(ROWS)]:
    assert "±" in cells[column], (label, cells)
  for label, cells in rows[2:4]:
    assert cells[0] == "—"  # no paper value
    assert cells[-1] == ""  # the targets are the β-VAE's
  assert "- Other methods: FactorVAE (γ = 20), β-TCVAE (β = 6)" in (
      with_methods["markdown"])


@pytest.mark.slow  # shares a 90 s reproduction (tests/experiments has the logic)
def test_methods_train_with_the_beta_vae_seeds_and_steps(with_methods):
  assert with_methods["result"].returncode == 0
  results = with_methods["results"]
  assert results["settings"]["methods"] == {"factor_vae": 20.0,
                                            "beta_tc_vae": 6.0}
  beta_seeds = results["models"]["beta_vae"]["seeds"]
  for model, hyperparameter, value in (("factor_vae", "factor_gamma", 20.0),
                                       ("beta_tc_vae", "beta", 6.0)):
    entry = results["models"][model]
    assert entry["method"] == {"name": model,
                               "hyperparameter": hyperparameter,
                               "value": value}
    assert set(entry["seeds"]) == set(beta_seeds) == {"0", "1"}
    for seed, seed_entry in entry["seeds"].items():
      config = seed_entry["training"]["config"]
      beta_config = beta_seeds[seed]["training"]["config"]
      assert config["method"] == model and config[hyperparameter] == value
      for name in ("steps", "seed", "learning_rate", "batch_size",
                   "latent_dim", "arch"):
        assert config[name] == beta_config[name], name
      assert seed_entry["training"]["step"] == 5
      assert set(seed_entry["scores"]) == {"mig"}
      assert os.path.basename(os.path.dirname(
          seed_entry["training"]["run_dir"])).startswith(
              f"{model}-{hyperparameter}{value:g}-lr0.001-")
  # 2 β-VAE + 1 VAE + 2 + 2 method runs; 8 models' evaluations.
  assert len(results["trained"]) == 7
  assert results["evaluations_computed"] == 2 + 1 + 2 + 2 + 4


@pytest.mark.slow  # shares a 90 s reproduction (tests/experiments has the logic)
def test_each_method_is_ranked_by_udr_over_its_seeds(with_methods):
  assert with_methods["result"].returncode == 0
  results = with_methods["results"]
  for model, label in (("factor_vae", "FactorVAE (γ = 20)"),
                       ("beta_tc_vae", "β-TCVAE (β = 6)")):
    udr = results["models"][model]["udr"]
    assert set(udr["per_seed"]) == {"0", "1"}
    assert udr["picked_seed"] == max(
        (0, 1), key=lambda s: (udr["per_seed"][str(s)]["udr_lasso"], -s))
    assert os.path.exists(with_methods["work"] / "evaluations" / model /
                          "udr.json")
    assert (f"- {label}: UDR picks seed {udr['picked_seed']}" in
            with_methods["markdown"])
    assert f"| {label} | 1 | " in with_methods["markdown"]  # UDR table
  # The rank correlation pools every trained model with a UDR.
  assert results["udr_rank_correlations"]["mig"]["n"] == 6


USAGE_ERRORS = [
    (["--methods=nope"], "--methods: unknown method 'nope'"),
    (["--methods=beta_vae"], "the β-VAE row is always in the table"),
    (["--method_values=factor_vae:20"],
     "not a method of --methods (none given)"),
    (["--methods=factor_vae", "--method_values=factor_vae=20"],
     "--method_values takes method:value pairs"),
    (["--methods=factor_vae", "--method_values=factor_vae:-1"],
     "--method_values factor_vae:-1: --factor_gamma must be a finite number "
     ">= 0"),
    (["--methods=annealed_vae", "--method_values=annealed_vae:nan"],
     "--capacity_max must be a finite number"),
    (["--methods=dip_vae_i,dip_vae_i"], "--methods has duplicates"),
]


@pytest.fixture(scope="module")
def usage_outcomes(tmp_path_factory, cases_in_one_process):
  root = tmp_path_factory.mktemp("usage")
  cases = [[f"--work_dir={root}/case{i}/w", f"--output_md={root}/case{i}/r.md",
            *args] for i, (args, _) in enumerate(USAGE_ERRORS)]
  return root, cases_in_one_process(SCRIPT, cases, root)


@pytest.mark.parametrize("index", range(len(USAGE_ERRORS)))
def test_bad_methods_exit_2_and_write_nothing(usage_outcomes, index,
                                              one_usage_error):
  root, outcomes = usage_outcomes
  one_usage_error("reproduce.py", *outcomes[index], USAGE_ERRORS[index][1])
  assert not os.path.exists(f"{root}/case{index}")
