"""scripts/export.py: export a run, versions, --overwrite, --describe."""

import json
import os
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
EXPORT = os.path.join(REPO_ROOT, "scripts", "export.py")


def _run(args):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, EXPORT] + args, capture_output=True,
                        text=True, timeout=300, env=env)


def test_export_overwrite_and_describe(tiny_run, tmp_path):
  common = [f"--model_dir={tiny_run['model_dir']}",
            f"--export_dir={tmp_path}", "--model_name=dsprites"]
  first = _run(common + ["--version=3"])
  assert first.returncode == 0, first.stderr[-2000:]
  assert first.stdout.strip().endswith(os.path.join("dsprites", "3"))
  refused = _run(common + ["--version=3"])
  assert refused.returncode == 2
  assert "already exists" in refused.stderr and "--overwrite" in refused.stderr
  replaced = _run(common + ["--version=3", "--overwrite"])
  assert replaced.returncode == 0, replaced.stderr[-2000:]
  described = _run([f"--describe={tmp_path}/dsprites"])
  assert described.returncode == 0, described.stderr[-2000:]
  description = json.loads(described.stdout)
  assert description["path"].endswith(os.path.join("dsprites", "3"))
  assert description["metadata"]["latent_dim"] == 10
  assert description["metadata"]["training_steps"] == 300
  assert description["metadata"]["model_name"] == "dsprites"


def test_usage_errors(tmp_path):
  for args, message in (
      ([f"--describe={tmp_path}"], "neither a SavedModel"),
      ([f"--model_dir={tmp_path}"], "holds no training run"),
      ([], "give --model_dir"),
      (["--version=0", f"--model_dir={tmp_path}"], "positive integer"),
  ):
    result = _run(args)
    assert result.returncode == 2, (args, result.stderr[-1000:])
    assert message in result.stderr and "Traceback" not in result.stderr
