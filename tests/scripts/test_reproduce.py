"""scripts/reproduce.py end to end: a tiny reproduction, its rerun, errors.

The fast tests run the quick preset with 1 seed, 20 training steps, metric
sizes 100 / 50 and four cheap metrics (β-VAE metric, paper protocol with
4 and 5 factors; MIG;
FactorVAE).  The slow test runs every metric (DCI and SAP on raw pixels,
and the disentanglement_lib β-VAE metric's lbfgs on 4,096 pixel features,
cost minutes on 2 cores).
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "reproduce.py")
TINY = ["--preset=quick", "--num_seeds=1", "--steps=20", "--num_train=100",
        "--num_eval=50", "--baseline_num_fit=100"]
# The β-VAE on two seeds (UDR compares them), the VAE and baselines on one.
TWO_SEEDS = [("--num_seeds=2" if a == "--num_seeds=1" else a) for a in TINY] + [
    "--reference_num_seeds=1", "--udr_num_points=200"]
FAST_METRICS = "--metrics=beta_vae_paper,beta_vae_paper_all,mig,factor_vae"
ROWS = ("β-VAE", "VAE (β = 1)", "PCA", "ICA", "raw pixels",
        "untrained encoder")


def _reproduce(*args):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True,
                        text=True, env=env, cwd=ROOT, timeout=1200)


def _table_rows(markdown):
  """Rows of the first table (the scores), by model label."""
  lines = markdown.splitlines()
  start = next(i for i, l in enumerate(lines) if l.startswith("| model"))
  rows = {}
  for line in lines[start + 2:]:
    if not line.startswith("| "):
      break
    rows[line.split("|")[1].strip()] = [c.strip()
                                        for c in line.split("|")[2:-1]]
  return rows


def _files(work_dir, suffix):
  out = {}
  for root, _, names in os.walk(work_dir):
    for name in names:
      if name.endswith(suffix) and name != "udr.json":
        path = os.path.join(root, name)
        out[path] = os.stat(path).st_mtime_ns
  return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  """One tiny reproduction, trained and evaluated 2 at a time in pinned
  processes, without a code table (both non-default, so the flags are
  checked from the command line to the results)."""
  root = tmp_path_factory.mktemp("reproduce")
  # Hand-written notes beside the generated file must survive a run.
  (root / "docs").mkdir()
  (root / "docs" / "recipe_search.md").write_text("notes\n")
  (root / "docs" / "results.md").write_text("an older table\n")
  args = [f"--work_dir={root / 'work'}",
          f"--output_md={root / 'docs' / 'results.md'}", *TWO_SEEDS,
          FAST_METRICS]
  result = _reproduce(*args, "--parallel_runs=2", "--code_table=never")
  md, js = root / "docs" / "results.md", root / "docs" / "results.json"
  # What this command wrote (the rerun test writes the files again).
  return {"root": root, "args": args, "result": result, "md": md,
          "json": js, "work": str(root / "work"),
          "markdown": md.read_text() if md.exists() else "",
          "results": json.loads(js.read_text()) if js.exists() else {}}


def test_writes_table_with_every_row_and_paper_column(tiny):
  result = tiny["result"]
  assert result.returncode == 0, result.stderr[-3000:]
  markdown = tiny["markdown"]
  header = next(l for l in markdown.splitlines() if l.startswith("| model"))
  assert "paper (Table 1)" in header
  assert (tiny["root"] / "docs" / "recipe_search.md").read_text() == (
      "notes\n")
  assert "an older table" not in markdown
  assert "[recipe_search.md](recipe_search.md)" in markdown
  for column in ("β-VAE metric (paper protocol, 4 factors: no shape)",
                 "β-VAE metric (disentanglement_lib)", "MIG", "FactorVAE",
                 "DCI disentanglement", "SAP"):
    assert column in header
  rows = _table_rows(markdown)
  for row in ROWS + ("DC-IGN", "InfoGAN"):
    assert row in rows, row
  assert rows["β-VAE"][0] == "99.23%" and rows["VAE (β = 1)"][0] == "61.58%"
  assert rows["PCA"][0] == "84.90%" and rows["ICA"][0] == "42.03%"
  assert rows["DC-IGN"][0] == "99.30%" and rows["InfoGAN"][0] == "73.50%"
  for row in ROWS:
    # β-VAE metric, paper protocol with 4 and 5 factors
    assert "±" in rows[row][1] and "±" in rows[row][2], rows[row]
    assert "±" in rows[row][4] and "±" in rows[row][5]  # MIG, FactorVAE
    assert rows[row][6] == "not run"  # DCI was not selected
  assert "## The gap to the paper's 99.23%" in markdown
  assert "are the protocol's factor set" in markdown
  assert "FAIL" in rows["β-VAE"][-1] or "PASS" in rows["β-VAE"][-1]
  assert "tensorflow" in markdown.lower() and "CPUs" in markdown
  # The JSON names the command that wrote it, as the markdown does.
  command = tiny["results"]["command"]
  assert command.startswith("python ") and "--parallel_runs=2" in command
  assert f"```\n{command}\n```" in markdown
  assert "scripts/reproduce.py" in markdown and "--steps=20" in markdown
  assert "tf_betavae 0." in markdown
  assert "- β-VAE: seed 0: z" in markdown  # latent -> factor line
  # The checks are printed at the end.
  for fragment in ("β-VAE metric (disentanglement_lib) mean ≥ 0.85",
                   "MIG mean ≥ 0.30", "beats VAE (β = 1)", "beats PCA"):
    assert fragment in result.stdout


def test_json_has_raw_results_and_factors(tiny):
  results = tiny["results"]
  assert set(results["models"]) == {"beta_vae", "vae", "pca", "ica",
                                    "pixels", "untrained"}
  beta = results["models"]["beta_vae"]
  assert beta["paper"] == pytest.approx(0.9923)
  entry = beta["seeds"]["0"]
  assert entry["training"]["step"] == 20
  assert entry["training"]["config"]["beta"] == 8.0
  assert results["models"]["vae"]["seeds"]["0"]["training"]["config"][
      "beta"] == 1.0
  assert set(entry["scores"]) == {"beta_vae_paper", "beta_vae_paper_all",
                                  "mig", "factor_vae"}
  assert entry["metric_parameters"]["beta_vae_paper"]["factors"] == [
      "scale", "orientation", "pos_x", "pos_y"]
  assert len(entry["metric_parameters"]["beta_vae_paper_all"]["factors"]) == 5
  summary = beta["summary"]["beta_vae_paper"]
  assert summary["n"] == 2 and summary["better_half_n"] == 1
  assert summary["better_half_mean"] == max(
      e["scores"]["beta_vae_paper"] for e in beta["seeds"].values())
  # UDR compares the two β-VAE seeds; the VAE has one seed, so none.
  udr = beta["udr"]
  assert set(udr["per_seed"]) == {"0", "1"}
  assert udr["picked_seed"] == max(
      (0, 1), key=lambda s: (udr["per_seed"][str(s)]["udr_lasso"], -s))
  assert udr["parameters"]["udr_lasso"]["num_points"] == 200
  assert "udr" not in results["models"]["vae"]
  assert set(results["models"]["vae"]["seeds"]) == {"0"}
  assert "## Choosing without labels (UDR)" in tiny["markdown"]
  assert entry["metric_parameters"]["mig"]["num_train"] == 100
  latents = entry["factors"]["latents"]
  assert latents and all(l["factor"] in results["factor_names"]
                         for l in latents)
  assert all(0.0 <= l["nmi"] <= 1.0 for l in latents)
  pixels = results["models"]["pixels"]["seeds"]["0"]["factors"]
  assert pixels["num_latents"] == 4096 and len(pixels["latents"]) == 10
  assert results["settings"]["steps"] == 20
  assert results["machine"]["cpu_count"] >= 1
  assert [c["passed"] for c in results["checks"]][:1] == [False]
  assert results["checks"][0]["detail"] == "not evaluated"


def test_parallel_runs_train_in_pinned_workers(tiny):
  result = tiny["result"]
  assert result.returncode == 0, result.stderr[-3000:]
  # The trained models are the paper study's jobs, on its local engine;
  # the four baselines are evaluated 2 at a time too.
  assert "3 jobs: 0 done already, 3 to run on the local engine" in (
      result.stderr)
  assert "evaluating 4 models, 2 at a time" in result.stderr
  results = tiny["results"]
  assert results["settings"]["parallel_runs"] == 2
  assert len(results["trained"]) == 3
  for model in ("beta_vae", "vae"):
    training = results["models"][model]["seeds"]["0"]["training"]
    assert training["step"] == 20 and not training["reused"]
    assert training["train_seconds"] > 0
  assert "3 run(s), 2 at a time" in tiny["markdown"]


def test_code_table_flag_reaches_every_evaluation(tiny):
  assert tiny["result"].returncode == 0
  assert tiny["results"]["settings"]["code_table"] == "never"
  assert "code table: never" in tiny["markdown"]
  infos = []
  # The baselines' evaluations (a study job tabulates when it pays).
  for root, _, names in os.walk(os.path.join(tiny["work"], "evaluations")):
    for name in names:
      with open(os.path.join(root, name)) as f:
        infos.append(json.load(f)["result"]["code_table"])
  assert len(infos) == 4 * 4
  assert all(info["used"] is False and info["reason"] == "disabled"
             for info in infos), infos


def test_rerun_trains_and_evaluates_nothing(tiny):
  assert tiny["result"].returncode == 0
  summaries = _files(tiny["work"], "train_summary.json")
  evaluations = _files(tiny["work"], ".json")
  assert len(summaries) == 3
  udr_file = os.path.join(tiny["work"], "study", "udr",
                          "dsprites__beta_vae__8.json")
  assert udr_file in evaluations
  # Whether codes were tabulated is not part of what is computed: a rerun
  # with the default code table reuses every job, score and UDR.
  rerun = _reproduce(*tiny["args"], "--parallel_runs=2")
  assert rerun.returncode == 0, rerun.stderr[-3000:]
  assert "trained 0 run(s); evaluations computed 0, reused 28" in rerun.stdout
  assert "3 jobs: 3 done already, 0 to run" in rerun.stderr
  changed = {path for path, mtime in _files(tiny["work"], ".json").items()
             if evaluations.get(path) != mtime}
  # Only the study's report is written again.
  assert changed == {os.path.join(tiny["work"], "study", "results.json")}
  def scores(models):
    return {m: {s: e["scores"] for s, e in v["seeds"].items()}
            for m, v in models.items()}
  again = json.loads(tiny["json"].read_text())
  assert scores(again["models"]) == scores(tiny["results"]["models"])
  assert again["settings"]["code_table"] == "auto"
  # Other threads per job are another study: refused, naming the field.
  other = _reproduce(*tiny["args"], "--parallel_runs=1")
  assert other.returncode == 2
  assert "threads_per_job" in other.stderr and "--work_dir" in other.stderr


def test_beta_warmup_makes_other_beta_jobs_and_leaves_the_vae_alone(
    tmp_path):
  from tf_betavae.experiments import paper_study  # pylint: disable=g-import-not-at-top
  from tf_betavae.experiments import settings  # pylint: disable=g-import-not-at-top
  from tf_betavae.studies import spec as spec_lib  # pylint: disable=g-import-not-at-top

  def job_id(settings_, value, seed):
    return spec_lib.job_id(paper_study.job_of_group(
        paper_study.paper_spec(settings_), "beta_vae", value, seed))

  plain = settings.settings_from_preset("cpu", str(tmp_path))
  ramped = settings.settings_from_preset(
      "cpu", str(tmp_path),
      recipe_values={"beta_hold_steps": 8000, "beta_warmup_steps": 4000})
  beta_config = settings.train_config(ramped, 8.0, 0)
  assert (beta_config.beta_hold_steps, beta_config.beta_warmup_steps) == (
      8000, 4000)
  held = settings.settings_from_preset(
      "cpu", str(tmp_path), recipe_values={"beta_hold_steps": 8000})
  assert len({job_id(s, 8.0, 0) for s in (plain, ramped, held)}) == 3
  # A ramp from 1 to 1 is no ramp: the VAE's jobs are the plain recipe's.
  vae_config = settings.train_config(ramped, 1.0, 2)
  assert (vae_config.beta_hold_steps, vae_config.beta_warmup_steps) == (0, 0)
  assert job_id(ramped, 1.0, 2) == job_id(plain, 1.0, 2)
  # Other methods' rows do not inherit the β-VAE's warm-up.
  factor = settings.method_train_config(ramped, "factor_vae", 35.0, 0)
  assert (factor.beta_hold_steps, factor.beta_warmup_steps) == (0, 0)
  factor.validate()
  # With objective B the warm-up is refused, not dropped in silence.
  with pytest.raises(settings.UsageError, match="annealed_vae has none"):
    settings.validate(settings.settings_from_preset(
        "cpu", str(tmp_path),
        recipe_values={"beta_warmup_steps": 500, "objective": "B"}))


def test_recipe_line_names_the_beta_warmup():
  from tf_betavae.experiments import report  # pylint: disable=g-import-not-at-top
  recipe = dict(beta=8.0, objective="H", learning_rate=1e-3, batch_size=64,
                arch="broadcast", latent_dim=8, likelihood="bernoulli")
  assert "β = 8, objective H" in report._recipe_line(recipe)  # pylint: disable=protected-access
  recipe["beta_warmup_steps"] = 5000
  assert ("β = 8 after a 5000-step linear rise from 1, objective H"
          in report._recipe_line(recipe))  # pylint: disable=protected-access
  recipe["beta_hold_steps"] = 8000
  assert ("β = 8 after 8000 steps at 1 and a 5000-step linear rise from 1,"
          in report._recipe_line(recipe))  # pylint: disable=protected-access


def test_settings_line_names_the_schedule():
  from tf_betavae.experiments import report  # pylint: disable=g-import-not-at-top
  words = report.schedule_words
  assert words({"lr_warmup_steps": 0, "lr_decay": "constant"}) == ""
  assert words({}) == ""  # results written before schedules existed
  assert words({"lr_warmup_steps": 2000, "lr_decay": "cosine"}) == (
      " (2000-step linear warm-up, then cosine decay to 0 at the last step)")
  assert words({"lr_warmup_steps": 0, "lr_decay": "cosine"}) == (
      " (cosine decay to 0 at the last step)")


USAGE_ERRORS = [
    (["--preset=huge"], "preset"),
    (["--lr_decay=cosine", "--lr_warmup_steps=30", "--preset=quick",
      "--steps=30"], "--lr_decay=cosine needs --lr_warmup_steps (30) < "
                     "--steps (30)"),
    (["--seeds=0,x"], "--seeds must be comma-separated integers"),
    (["--metrics=mig,nope"], "--metrics must be a comma-separated subset"),
    (["--beta=-1"], "--beta must be >= 0"),
    # Recipe flags reach the runs' settings: each is refused there.
    (["--objective=B", "--beta_warmup_steps=500"],
     "--method=annealed_vae has none"),
    (["--preset=quick", "--beta_hold_steps=200", "--beta_warmup_steps=100"],
     "--beta_hold_steps + --beta_warmup_steps (300) must be < --steps (300)"),
    (["--latent_dim=0"], "--latent_dim must be a positive integer, got 0"),
    (["--parallel_runs=0"], "--parallel_runs must be a positive integer"),
    (["--code_table=always"], "flag --code_table=always"),
    (["--dsprites_file=/nonexistent/dsprites.npz"], "does not exist"),
    (["extra"], "unexpected arguments"),
]


def _case_args(root, index, args):
  return [f"--work_dir={root}/case{index}/w",
          f"--output_md={root}/case{index}/r.md", *args]


@pytest.fixture(scope="module")
def usage_outcomes(tmp_path_factory, cases_in_one_process):
  root = tmp_path_factory.mktemp("usage")
  cases = [_case_args(root, i, args)
           for i, (args, _) in enumerate(USAGE_ERRORS)]
  return root, cases_in_one_process(SCRIPT, cases, root)


@pytest.mark.parametrize("index", range(len(USAGE_ERRORS)))
def test_usage_errors_exit_2_with_one_line(usage_outcomes, index,
                                           one_usage_error):
  root, outcomes = usage_outcomes
  code, stderr = outcomes[index]
  one_usage_error("reproduce.py", code, stderr, USAGE_ERRORS[index][1])
  assert not os.path.exists(f"{root}/case{index}/r.md")


def test_usage_error_in_a_real_process(tmp_path, one_usage_error):
  result = _reproduce(*_case_args(tmp_path, 0, ["--seeds=0,x"]))
  one_usage_error("reproduce.py", result.returncode, result.stderr,
                  "--seeds must be comma-separated integers")
  assert not os.path.exists(f"{tmp_path}/case0/r.md")


@pytest.mark.slow
def test_every_metric_on_every_model(tmp_path):
  result = _reproduce(f"--work_dir={tmp_path}/w",
                      f"--output_md={tmp_path}/r.md", *TINY)
  assert result.returncode == 0, result.stderr[-3000:]
  rows = _table_rows(open(f"{tmp_path}/r.md").read())
  for row in ROWS:
    assert all("±" in cell for cell in rows[row][1:7]), rows[row]
  results = json.load(open(f"{tmp_path}/r.json"))
  checks = results["checks"]
  assert len(checks) == 5 and all(c["detail"] != "not evaluated"
                                  for c in checks)


def _factors_entry(pairs):
  """latent_factors-like entry from (factor, nmi) pairs."""
  return {"latents": [{"latent": i, "factor": f, "nmi": n}
                      for i, (f, n) in enumerate(pairs)]}


def test_coverage_check_needs_a_factor_beyond_position_and_scale():
  from tf_betavae.experiments import analysis  # pylint: disable=g-import-not-at-top
  position_scale = _factors_entry([("pos_x", 0.8), ("pos_y", 0.8),
                                   ("scale", 0.6), ("shape", 0.1)])
  with_shape = _factors_entry([("pos_x", 0.8), ("shape", 0.3)])
  assert analysis.captured_factors(position_scale) == ["pos_x", "pos_y",
                                                        "scale"]
  assert analysis.captured_factors(with_shape) == ["pos_x", "shape"]

  def check(*entries):
    beta = {"seeds": {str(i): {"factors": e} for i, e in enumerate(entries)}}
    return analysis.coverage_check(beta)

  assert check(with_shape, with_shape)["passed"]
  failed = check(with_shape, position_scale)
  assert not failed["passed"]
  assert failed["detail"] == ("seed 0: pos_x, shape; seed 1: pos_x, pos_y, "
                              "scale")
  assert check(with_shape, None)["detail"] == "not evaluated"


def test_a_work_dir_in_use_exits_2_and_writes_nothing(
    dir_snapshot, tmp_path, one_usage_error):
  from tf_betavae import locking  # pylint: disable=g-import-not-at-top
  work_dir = tmp_path / "case0" / "w"
  with locking.exclusive(str(work_dir), "held by the test"):
    before = dir_snapshot(work_dir)
    result = _reproduce(*_case_args(tmp_path, 0,
                                    ["--preset=quick", "--steps=2"]))
    assert dir_snapshot(work_dir) == before
  one_usage_error("reproduce.py", result.returncode, result.stderr,
                  f"work dir {work_dir} is in use by pid {os.getpid()} on ")
  assert result.stderr.count("\n") == 1, result.stderr
  assert not os.path.exists(f"{tmp_path}/case0/r.md")
