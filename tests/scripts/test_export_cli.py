"""scripts/export.py: export a run, versions, --overwrite, --describe."""

import json
import os
import shutil
import subprocess
import sys

from tf_betavae import training

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
EXPORT = os.path.join(REPO_ROOT, "scripts", "export.py")


def _run(args):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, EXPORT] + args, capture_output=True,
                        text=True, timeout=300, env=env)


def _pick_results(tmp_path, picked_run):
  """results.json of a reproduction whose UDR picked seed 1, picked_run."""
  seeds = {str(s): {"scores": {"mig": 0.1 * (s + 1)},
                    "training": {"run_dir": d}}
           for s, d in enumerate([str(tmp_path / "seed0"), picked_run])}
  results = {"settings": {"preset": "select", "steps": 300},
             "models": {"factor_vae": {
                 "label": "FactorVAE (γ = 35)", "kind": "trained",
                 "seeds": seeds,
                 "udr": {"picked_seed": 1, "per_seed": {
                     s: {"udr_lasso": 0.2 + int(s), "udr_spearman": 0.1,
                         "informative_latents": 3} for s in seeds}}}}}
  path = tmp_path / "results.json"
  path.write_text(json.dumps(results))
  return path


def test_export_overwrite_describe_and_selection_record(
    tiny_run, tmp_path, cases_in_one_process, one_usage_error):
  # A copy of the run, resumed once with another β (as far as its settings
  # history says): the export's metadata must carry that history.
  model_dir = tmp_path / "run"
  shutil.copytree(tiny_run["model_dir"], model_dir)
  history = [{"step": 100, "changes": {"beta": [4.0, 1.0]}}]
  (model_dir / training.SETTINGS_HISTORY_FILE).write_text(json.dumps(history))
  common = [f"--model_dir={model_dir}",
            f"--export_dir={tmp_path}", "--model_name=dsprites"]
  # The first export as a user runs it; the rest through export.py's own
  # parser and main, one after another in one process.
  first = _run(common + ["--version=3"])
  assert first.returncode == 0, first.stderr[-2000:]
  assert first.stdout.strip().endswith(os.path.join("dsprites", "3"))
  # A UDR pick's export carries its selection record; exporting another
  # run with the same results is refused.
  picked = [f"--export_dir={tmp_path}/exported", "--model_name=picked",
            f"--selection_results={_pick_results(tmp_path, str(model_dir))}",
            "--selection_model=factor_vae"]
  refused, replaced, described, shipped, not_picked = cases_in_one_process(
      EXPORT, [common + ["--version=3"],
               common + ["--version=3", "--overwrite"],
               [f"--describe={tmp_path}/dsprites"],
               picked + [f"--model_dir={model_dir}"],
               picked + [f"--model_dir={tiny_run['model_dir']}"]],
      tmp_path, with_stdout=True)
  assert refused[0] == 2
  assert "already exists" in refused[1] and "--overwrite" in refused[1]
  assert replaced[0] == 0, replaced[1][-2000:]
  assert replaced[2].strip().endswith(os.path.join("dsprites", "3"))
  assert os.listdir(tmp_path / "dsprites") == ["3"]
  assert described[0] == 0, described[1][-2000:]
  description = json.loads(described[2])
  assert description["path"].endswith(os.path.join("dsprites", "3"))
  assert description["metadata"]["latent_dim"] == 10
  assert description["metadata"]["training_steps"] == 300
  assert description["metadata"]["model_name"] == "dsprites"
  assert description["metadata"]["settings_changes"] == history
  assert shipped[0] == 0, shipped[1][-2000:]
  metadata = json.loads((tmp_path / "exported" / "picked" / "1" / "assets" /
                         "tf_betavae_metadata.json").read_text())
  record = metadata["selection"]
  assert record["picked_seed"] == 1 and record["udr_lasso"] == 1.2
  assert record["spread"]["mig"]["max"] == 0.2
  assert metadata["training_steps"] == 300  # the training metadata stays
  one_usage_error("export.py", not_picked[0], not_picked[1],
                  "is not the run UDR picked for 'factor_vae': that is seed 1")


_USAGE_ERRORS = (
    (["--describe={tmp}"], "neither a SavedModel"),
    (["--model_dir={tmp}"], "holds no training run"),
    ([], "give --model_dir"),
    (["--version=0", "--model_dir={tmp}"], "positive integer"),
    (["--model_dir={tmp}", "--selection_results={tmp}/none.json"],
     "--selection_results {tmp}/none.json does not exist"),
    (["--model_dir={tmp}", "--selection_results={tmp}/list.json"],
     "is not the JSON of scripts/reproduce.py"),
    (["--model_dir={tmp}", "--selection_model=factor_vae"],
     "--selection_model needs --selection_results"),
)


def test_usage_errors(tmp_path, cases_in_one_process, one_usage_error):
  empty = tmp_path / "empty"
  empty.mkdir()
  (empty / "list.json").write_text("[1, 2]")
  cases = [[a.format(tmp=empty) for a in args] for args, _ in _USAGE_ERRORS]
  outcomes = cases_in_one_process(EXPORT, cases, tmp_path)
  for (code, stderr), (_, message) in zip(outcomes, _USAGE_ERRORS):
    one_usage_error("export.py", code, stderr, message.format(tmp=empty))


def test_usage_error_in_a_real_process(tmp_path, one_usage_error):
  result = _run([f"--model_dir={tmp_path}"])
  one_usage_error("export.py", result.returncode, result.stderr,
                  "holds no training run")
