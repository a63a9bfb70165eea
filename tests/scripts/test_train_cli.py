"""scripts/train.py end to end, in subprocesses as a user runs it."""

import glob
import json
import os
import signal
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TRAIN = os.path.join(REPO_ROOT, "scripts", "train.py")


def _env():
  # The checkout under test, whatever the working directory.
  return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO_ROOT)


def _run(args, cwd=None, timeout=300):
  env = _env()
  return subprocess.run([sys.executable, TRAIN] + args, cwd=cwd, env=env,
                        capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def train_script():
  """scripts/train.py imported once (absl flags are process-global)."""
  import importlib.util  # pylint: disable=g-import-not-at-top
  # One module object per process, shared with tests/data (same name).
  if "train_script" in sys.modules:
    return sys.modules["train_script"]
  spec = importlib.util.spec_from_file_location("train_script", TRAIN)
  module = importlib.util.module_from_spec(spec)
  sys.modules["train_script"] = module
  spec.loader.exec_module(module)
  return module


def _run_in_process(train_script, args, capsys):
  """Parses and runs like the CLI; returns (exit code, stderr)."""
  train_script.FLAGS.unparse_flags()
  code = 0
  try:
    argv = train_script._parse_flags(["train.py"] + args)  # pylint: disable=protected-access
    train_script.main(argv)
  except SystemExit as e:
    code = e.code
  finally:
    train_script.FLAGS.unparse_flags()
  return code, capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--beta=abc"], "flag --beta=abc"),
    (["--beta=250", "--dataset=celeb_a"], "tensorflow-datasets"),
])
def test_usage_errors_in_a_real_process(args, message, tmp_path):
  result = _run(args + [f"--model_dir={tmp_path}/m"], cwd=tmp_path)
  assert result.returncode == 2, result.stderr
  lines = [l for l in result.stderr.splitlines() if l.startswith("train.py")]
  assert len(lines) == 1 and message in lines[0], result.stderr
  assert "Traceback" not in result.stderr
  assert not os.path.exists(tmp_path / "m")


@pytest.mark.parametrize("args, message", [
    (["--beta=-1"], "--beta must be >= 0"),
    (["--beta=abc"], "flag --beta=abc"),
    (["--objective=B", "--gamma=-5"], "--gamma must be >= 0"),
    (["--method=factor_vae", "--factor_gamma=-1"],
     "--factor_gamma must be a finite number >= 0, got -1.0"),
    (["--method=factor_vae", "--discriminator_learning_rate=0"],
     "--discriminator_learning_rate must be > 0"),
    (["--method=dip_vae_ii", "--lambda_d_factor=-1"],
     "--lambda_d_factor must be a finite number >= 0"),
    (["--method=dip_vae_i", "--lambda_od=nan"],
     "--lambda_od must be a finite number >= 0"),
    (["--method=dip_vae_i", "--beta=4"],
     "--beta is a setting of --method=beta_vae/beta_tc_vae/group_vae/"
     "ml_vae/ada_gvae/ada_ml_vae, not of --method=dip_vae_i; its settings: "
     "--lambda_od, --lambda_d_factor"),
    (["--factor_gamma=20"], "not of --method=beta_vae"),
    (["--objective=B", "--lambda_od=3"], "not of --method=annealed_vae"),
    (["--objective=B", "--method=factor_vae"],
     "--objective=B is --method=annealed_vae; it contradicts "
     "--method=factor_vae"),
    (["--method=vqvae"], "flag --method=vqvae"),
    (["--scream_image=x.png"],
     "--scream_image is read only with --dataset=scream_dsprites"),
    (["--dataset=scream_dsprites"], "--scream_image"),
    (["--learning_rate=0"], "--learning_rate must be > 0"),
    (["--latent_dim=0"], "--latent_dim must be a positive integer"),
    (["--batch_size=0"], "--batch_size must be a positive integer"),
    (["--steps=-1"], "--steps must be a positive integer"),
    (["--dataset=mnist"], "unknown --dataset 'mnist'; valid names:"),
    (["--arch=resnet"], "flag --arch=resnet"),
    (["--lr_decay=step"], "flag --lr_decay=step"),
    (["--lr_decay=cosine", "--lr_warmup_steps=10", "--steps=10"],
     "--lr_decay=cosine needs --lr_warmup_steps (10) < --steps (10)"),
    (["--beta_hold_steps=4", "--beta_warmup_steps=6", "--steps=10"],
     "--beta_hold_steps + --beta_warmup_steps (10) must be < --steps (10)"),
    (["--method=dip_vae_i", "--beta_warmup_steps=5"],
     "--method=dip_vae_i has none"),
    (["--beta=250", "--dataset=celeb_a"], "tensorflow-datasets"),
    (["positional"], "unexpected arguments"),
])
def test_usage_errors_exit_2_with_one_line(train_script, args, message,
                                          tmp_path, capsys):
  code, stderr = _run_in_process(
      train_script, args + [f"--model_dir={tmp_path}/m"], capsys)
  assert code == 2, stderr
  lines = [l for l in stderr.splitlines() if l.startswith("train.py")]
  assert len(lines) == 1 and message in lines[0], stderr
  assert not os.path.exists(tmp_path / "m")


# Slow (about 70 s): the CLI's resume; test_loop resumes in process.
@pytest.mark.slow
def test_train_resume_and_export(tmp_path):
  common = ["--log_every=10", "--checkpoint_every=10",
            f"--model_dir={tmp_path}/run", f"--export_dir={tmp_path}/exp"]
  first = _run(["--steps=20"] + common, cwd=tmp_path)
  assert first.returncode == 0, first.stderr[-3000:]
  assert "steps/s" in first.stderr
  summary = json.load(open(tmp_path / "run" / "train_summary.json"))
  assert summary["step"] == 20
  # On dsprites the default run is the CPU recipe (β = 8, Adam 1e-3, the
  # broadcast decoder, 8 latents).
  config = json.load(open(tmp_path / "run" / "run_config.json"))
  assert config["beta"] == 8.0 and config["learning_rate"] == 1e-3
  assert config["arch"] == "broadcast" and config["latent_dim"] == 8
  assert os.path.exists(tmp_path / "exp" / "dsprites_beta8" / "1" /
                        "saved_model.pb")
  assert glob.glob(str(tmp_path / "run" / "train" / "events.out.tfevents.*"))
  second = _run(["--steps=30"] + common, cwd=tmp_path)
  assert second.returncode == 0, second.stderr[-3000:]
  assert "resumed from" in second.stderr and "ckpt-20" in second.stderr
  summary = json.load(open(tmp_path / "run" / "train_summary.json"))
  assert summary["step"] == 30 and summary["steps_this_run"] == 10
  assert sorted(os.listdir(tmp_path / "exp" / "dsprites_beta8")) == ["1", "2"]


# A long run (a training of another method, 27 s in CI): -m slow.
@pytest.mark.slow
def test_train_another_method_names_its_export(tmp_path):
  result = _run(["--method=beta_tc_vae", "--beta=6", "--steps=4",
                 "--log_every=2", "--checkpoint_every=2",
                 f"--model_dir={tmp_path}/run", f"--export_dir={tmp_path}/exp"],
                cwd=tmp_path)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "total_correlation" in result.stderr  # the method's tracker is logged
  config = json.load(open(tmp_path / "run" / "run_config.json"))
  assert config["method"] == "beta_tc_vae" and config["beta"] == 6.0
  metadata = json.load(open(tmp_path / "exp" / "dsprites_beta_tc_vae_beta6" /
                            "1" / "assets" / "tf_betavae_metadata.json"))
  assert metadata["method"] == "beta_tc_vae"


# A long run (a 10-step training through --preset=paper, 29 s in CI): -m slow.
@pytest.mark.slow
def test_flagfile_and_preset(tmp_path):
  flagfile = tmp_path / "flags.txt"
  flagfile.write_text("--steps=10\n--log_every=5\n--latent_dim=3\n")
  result = _run([f"--flagfile={flagfile}", "--preset=paper",
                 f"--model_dir={tmp_path}/run", "--export_dir="],
                cwd=tmp_path)
  assert result.returncode == 0, result.stderr[-3000:]
  config = json.load(open(tmp_path / "run" / "run_config.json"))
  # Explicit flags win over the preset; the preset fills the rest.
  assert config["steps"] == 10 and config["latent_dim"] == 3
  assert config["checkpoint_every"] == 5000


def test_help_states_the_default_run_length():
  result = subprocess.run([sys.executable, TRAIN, "--helpfull"],
                          capture_output=True, text=True, timeout=120)
  assert "Default 6000" in result.stdout and "--preset" in result.stdout
  assert "on dsprites and its variants 10,000" in " ".join(
      result.stdout.split())


def test_a_run_dir_in_use_exits_2_naming_the_holder(
    dir_snapshot, train_script, tmp_path, capsys):
  from tf_betavae import locking  # pylint: disable=g-import-not-at-top
  run, exported = tmp_path / "run", tmp_path / "exp"
  with locking.exclusive(str(run), "held by the test"):
    before = dir_snapshot(run)
    code, stderr = _run_in_process(
        train_script, ["--steps=2", f"--model_dir={run}",
                       f"--export_dir={exported}"], capsys)
    assert dir_snapshot(run) == before
  assert code == 2, stderr
  assert stderr.count("\n") == 1, stderr
  assert stderr.startswith(f"train.py: error: run directory {run} is in use "
                           f"by pid {os.getpid()} on "), stderr
  assert not exported.exists()


# Slow (about 30 s): two trainings; tests/test_locking.py covers the lock.
@pytest.mark.slow
def test_two_train_commands_on_one_run_dir(dir_snapshot, tmp_path):
  """A second train.py on a run another one is training exits 2 at once
  and writes nothing; the first finishes with one export."""
  from tf_betavae import locking  # pylint: disable=g-import-not-at-top
  run, exported = tmp_path / "run", tmp_path / "exp"
  args = ["--steps=4", "--log_every=2", "--checkpoint_every=2",
          "--batch_size=8", "--image_summary_every=0", f"--model_dir={run}",
          f"--export_dir={exported}"]
  first = subprocess.Popen([sys.executable, TRAIN] + args, cwd=tmp_path,
                           env=_env(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
  try:
    # The first logs "training into <run>" once it holds the lock; it is
    # then stopped (SIGSTOP), so it still holds the lock and writes nothing
    # while the second runs.
    lines = []
    for line in first.stderr:
      lines.append(line)
      if f"training into {run}" in line:
        break
    first.send_signal(signal.SIGSTOP)
    assert locking.holder_of(str(run))["pid"] == first.pid, "".join(lines)
    before = dir_snapshot(run), dir_snapshot(exported)
    second = _run(args, cwd=tmp_path)
    assert (dir_snapshot(run), dir_snapshot(exported)) == before
    first.send_signal(signal.SIGCONT)
    _, rest = first.communicate(timeout=300)
  finally:
    if first.poll() is None:
      first.send_signal(signal.SIGCONT)
      first.kill()
      first.wait()
  assert second.returncode == 2, second.stderr
  assert second.stderr.count("\n") == 1, second.stderr
  assert second.stderr.startswith(
      f"train.py: error: run directory {run} is in use by pid {first.pid} "
      "on "), second.stderr
  assert first.returncode == 0, ("".join(lines) + rest)[-3000:]
  assert os.listdir(exported / "dsprites_beta8") == ["1"]
  summary = json.load(open(run / "train_summary.json"))
  assert summary["step"] == 4 and summary["steps_this_run"] == 4
  assert locking.holder_of(str(run)) is None
