"""tf.distribute: mirrored over two logical CPUs, and two real workers.

Each case runs in fresh processes: logical devices and TF_CONFIG must be set
before TensorFlow starts.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TRAIN = os.path.join(REPO_ROOT, "scripts", "train.py")

_MIRRORED_VS_DEFAULT = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from tf_betavae import training
    out = sys.argv[1]
    def losses(model_dir):
      values = []
      for path in sorted(tf.io.gfile.glob(model_dir + "/train/events*")):
        for event in tf.compat.v1.train.summary_iterator(path):
          for v in event.summary.value:
            if v.tag == "train/loss":
              values.append((event.step, float(tf.make_ndarray(v.tensor))))
      return [v for _, v in sorted(values)]
    config = dict(steps=6, log_every=1, checkpoint_every=6, seed=4,
                  batch_size=16, learning_rate=1e-3)
    results = {}
    for name, strategy in (
        ("default", tf.distribute.get_strategy()),
        ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
      summary = training.train(training.TrainConfig(**config),
                               out + "/" + name, strategy=strategy)
      results[name] = {"losses": losses(out + "/" + name),
                       "replicas": summary["replicas"]}
    json.dump(results, open(out + "/result.json", "w"))
""")


def _env(**extra):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO_ROOT)
  env.update(extra)
  return env


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


# Slow (about 35 s); test_methods' FactorVAE two-device test runs by default.
@pytest.mark.slow
def test_mirrored_follows_default(tmp_path):
  script = tmp_path / "mirrored.py"
  script.write_text(_MIRRORED_VS_DEFAULT)
  result = subprocess.run([sys.executable, str(script), str(tmp_path)],
                          capture_output=True, text=True, timeout=600,
                          env=_env())
  assert result.returncode == 0, result.stderr[-3000:]
  results = json.loads((tmp_path / "result.json").read_text())
  assert results["default"]["replicas"] == 1
  assert results["mirrored"]["replicas"] == 2
  default, mirrored = (np.array(results[k]["losses"])
                       for k in ("default", "mirrored"))
  assert len(default) == 6 and len(mirrored) == 6
  assert default[-1] < default[0]  # it trains
  np.testing.assert_allclose(mirrored, default, rtol=2e-4)


def _worker_command(tmp_path, cluster, index, model_dir, steps, extra=()):
  tf_config = json.dumps({"cluster": {"worker": cluster},
                          "task": {"type": "worker", "index": index}})
  args = [sys.executable, TRAIN, "--strategy=multi_worker",
          f"--steps={steps}", "--log_every=2", "--checkpoint_every=4",
          "--batch_size=16", "--learning_rate=1e-3", "--seed=5",
          f"--model_dir={model_dir}", f"--export_dir={tmp_path}/exported",
          *extra]
  return args, _env(TF_CONFIG=tf_config)


def _start_workers(tmp_path, steps, extra=()):
  cluster = [f"127.0.0.1:{p}" for p in _free_ports(2)]
  model_dir = tmp_path / "multi"
  processes = []
  for index in range(2):
    args, env = _worker_command(tmp_path, cluster, index, model_dir, steps,
                                extra)
    log = open(tmp_path / f"worker{index}.log", "w")
    processes.append(subprocess.Popen(args, stdout=log, stderr=log, env=env,
                                      cwd=str(tmp_path)))
  return processes, model_dir


def _stop(processes):
  for p in processes:
    if p.poll() is None:
      p.kill()
      p.wait()


# A long run (two worker processes, 47 s in CI; test_methods' FactorVAE two-device test runs by default): -m slow.
@pytest.mark.slow
def test_two_workers_match_one_and_only_the_chief_writes(tmp_path):
  processes, model_dir = _start_workers(tmp_path, steps=8)
  try:
    codes = [p.wait(timeout=600) for p in processes]
  finally:
    _stop(processes)
  logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(2)]
  assert codes == [0, 0], logs[0][-2000:] + logs[1][-2000:]
  summary = json.loads((model_dir / "train_summary.json").read_text())
  assert summary["step"] == 8 and summary["replicas"] == 2
  assert summary["checkpoint"].endswith("ckpt-8")
  # Only the chief's files: no worker temp checkpoints, one export.
  assert not [d for d in os.listdir(model_dir) if d.startswith(".worker")]
  assert os.listdir(tmp_path / "exported" / "dsprites_beta8") == ["1"]
  single = subprocess.run(
      [sys.executable, TRAIN, "--steps=8", "--log_every=2",
       "--checkpoint_every=4", "--batch_size=16", "--learning_rate=1e-3",
       "--seed=5", f"--model_dir={tmp_path}/single", "--export_dir="],
      capture_output=True, text=True, timeout=600, env=_env(),
      cwd=str(tmp_path))
  assert single.returncode == 0, single.stderr[-2000:]
  single_summary = json.loads(
      (tmp_path / "single" / "train_summary.json").read_text())
  assert summary["metrics"]["loss"] == pytest.approx(
      single_summary["metrics"]["loss"], rel=1e-3)


# A long run (two worker processes and a 10 s collective timeout, 27 s in CI): -m slow.
@pytest.mark.slow
def test_a_dead_worker_stops_the_other_with_a_clear_message(tmp_path):
  processes, model_dir = _start_workers(
      tmp_path, steps=100000, extra=("--collective_timeout=10",))
  try:
    deadline = time.time() + 300
    log = tmp_path / "worker0.log"
    while time.time() < deadline and "step 2/" not in log.read_text():
      assert processes[0].poll() is None, log.read_text()[-2000:]
      time.sleep(1)
    assert "step 2/" in log.read_text(), "training never started"
    processes[1].send_signal(signal.SIGKILL)
    code = processes[0].wait(timeout=240)  # bounded: no hang
  finally:
    _stop(processes)
  text = log.read_text()
  assert code != 0
  assert "train.py: error: training stopped" in text, text[-3000:]
  assert "rerun the same command to resume" in text


def _run_gpu_check(*args):
  return subprocess.run(
      [sys.executable, os.path.join(REPO_ROOT, "scripts", "gpu_check.py"),
       *args], capture_output=True, text=True, timeout=600,
      env=_env(CUDA_VISIBLE_DEVICES=""))


def _gpu_check_results(tmp_path, *variants):
  ran = _run_gpu_check("--allow_cpu", "--steps=3", "--warmup_steps=1",
                       "--batch_size=8", f"--output={tmp_path}/g.json",
                       *variants)
  assert ran.returncode == 0, ran.stderr[-3000:]
  results = json.loads((tmp_path / "g.json").read_text())["results"]
  assert all(r["images_per_second"] > 0 and 0 <= r["input_wait_share"] <= 1
             for r in results)
  return results


# A long run (the GPU check's CPU run, 37 s in CI): -m slow.
@pytest.mark.slow
def test_gpu_check_skips_without_gpu_and_runs_on_cpu_when_asked(tmp_path):
  skipped = _run_gpu_check()
  assert skipped.returncode == 0, skipped.stderr[-2000:]
  assert "no GPU visible" in skipped.stdout
  # One variant keeps the default run short (each costs seconds of tracing
  # on the CPU, XLA most); mixed precision is the path plain training runs
  # do not cover. The slow test below times all four.
  results = _gpu_check_results(tmp_path, "--variants=mixed")
  assert [(r["mixed_precision"], r["jit_compile"]) for r in results] == [
      ("mixed_bfloat16", False)]


def test_gpu_check_rejects_an_unknown_variant():
  ran = _run_gpu_check("--allow_cpu", "--variants=plain,fp8")
  assert ran.returncode == 2
  assert "--variants takes a comma list of plain, mixed, xla, mixed_xla" \
      in ran.stderr
  assert "'plain,fp8'" in ran.stderr


@pytest.mark.slow
def test_gpu_check_times_all_four_variants_by_default(tmp_path):
  results = _gpu_check_results(tmp_path)
  assert [(r["mixed_precision"], r["jit_compile"]) for r in results] == [
      (False, False), ("mixed_bfloat16", False), (False, True),
      ("mixed_bfloat16", True)]
