r"""Training throughput: tf_betavae vs an equivalent PyTorch model, one run.

Measures images/s of training steps of the default conv β-VAE (batch 64,
10 latents, Bernoulli likelihood, β = 4, Adam lr 5e-4) in TensorFlow, fed by
the real input pipeline (the dSprites simulator rendering inside tf.data),
and of the same architecture and loss written in PyTorch below.

  python benchmarks/train_throughput.py                   # TF vs PyTorch
  python benchmarks/train_throughput.py --end_to_end      # + scripts/train.py
  python benchmarks/train_throughput.py \
      --tf_variants=tf,tf+xla,tf+pool,tf+noonednn,tf+intra=2+inter=1
  python benchmarks/train_throughput.py --output=/tmp/throughput.json

Fairness and method:

* Each side runs in its own worker process (own thread pools, no shared
  oneDNN/OpenMP state).  The parent alternates the sides within one run:
  every round runs ``--steps`` timed steps on each side in turn (the order
  rotates each round), so load from other processes hits both sides alike.
  An idle worker blocks on a pipe and uses no CPU.
* PyTorch gets **pre-rendered** data: ``--torch_pool_batches`` batches of
  simulator images rendered once by TF (the same generator as the TF
  stream), held as torch tensors and cycled.  That is the favourable case
  for PyTorch (its input pipeline costs nothing); TF pays for rendering on
  the fly in tf.data, as in ``scripts/train.py``.
* PyTorch runs with its defaults and ``torch.set_num_threads`` = the core
  count, and (by default) also as a second worker with 1 thread; the ratio
  is taken against the faster PyTorch worker of each round.  (When other
  processes load the cores, PyTorch's spin-waiting OpenMP threads slow down
  several-fold with 2 threads, and 1 thread is then faster; taking the best
  keeps that effect from flattering TF.)  TF uses its defaults (all cores)
  unless ``--tf_threads`` is set.
* Both models have the same layers and the same parameter count (checked).
  Weight initialisers differ (Keras Glorot-uniform, PyTorch Kaiming-uniform),
  which does not change the cost of a step.  The TF step also updates the
  library's loss/KL trackers (per-latent KL via TFP), as in real training.

TF variants (``--tf_variants``, comma separated; the ratio target uses the
first one): ``tf`` is the library as used by scripts/train.py (real pipeline,
no XLA).  Modifiers joined with ``+``: ``xla`` (StepRunner jit_compile=True),
``pool`` (feed a pre-rendered pool through tf.data, like PyTorch: isolates
the input pipeline's cost), ``noonednn`` (TF_ENABLE_ONEDNN_OPTS=0),
``intra=N`` / ``inter=N`` (TF op thread pools).

``--end_to_end`` also runs ``scripts/train.py --steps=--e2e_steps`` (logging
every 100 steps and checkpoints every 1000, its defaults; no export) in a
subprocess between two PyTorch rounds and compares its steps/s (from its
train_summary.json: steps of this run / training seconds, which include the
input pipeline, logging, checkpoints and the first trace) with the mean
PyTorch steps/s of the two adjacent rounds.

Output: a table on stdout and, with ``--output``, a JSON file (keys listed in
``RESULT_KEYS``).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
  sys.path.insert(0, REPO_ROOT)


def define_flags():
  """Defines the command-line flags (only when run as a script, so that
  importing this module next to other absl programs cannot clash)."""
  flags.DEFINE_integer("steps", 200,
                       "Timed training steps per side per round.")
  flags.DEFINE_integer("warmup_steps", 20,
                       "Untimed steps per worker before the first round (the "
                       "TF trace happens here).")
  flags.DEFINE_integer("repeats", 3,
                       "Rounds (each side runs --steps per round).")
  flags.DEFINE_integer("batch_size", 64, "Images per step.")
  flags.DEFINE_integer("tf_threads", 0,
                       "TF intra-op threads; 0 = TF's default (all cores).")
  flags.DEFINE_list("torch_threads", ["0", "1"],
                    "PyTorch configurations: torch.set_num_threads values, one "
                    "worker each; 0 = all cores of this process.  The ratio "
                    "target is taken against the fastest one in each round "
                    "(the conservative comparison: with all cores, PyTorch's "
                    "spinning OpenMP threads collapse when other processes "
                    "load the machine, see README).")
  flags.DEFINE_boolean("torch_omp_passive", False,
                       "Run the PyTorch workers with OMP_WAIT_POLICY=PASSIVE "
                       "(not PyTorch's default; helps it under external "
                       "load).")
  flags.DEFINE_list("tf_variants", ["tf"],
                    "TF configurations to time; see the module docstring.")
  flags.DEFINE_integer("torch_pool_batches", 32,
                       "Pre-rendered simulator batches fed to PyTorch "
                       "(cycled).")
  flags.DEFINE_boolean("torch", True,
                       "Also time PyTorch (skipped with a message when torch "
                       "is not installed).")
  flags.DEFINE_boolean("end_to_end", False,
                       "Also run scripts/train.py in a subprocess.")
  flags.DEFINE_integer("e2e_steps", 1000, "Steps of the --end_to_end run.")
  flags.DEFINE_integer("e2e_repeats", 1, "Number of --end_to_end runs.")
  flags.DEFINE_string("train_script", os.path.join(REPO_ROOT, "scripts",
                                                   "train.py"),
                      "The end-to-end training script; if it does not exist, "
                      "tf_betavae.training.train is run in a subprocess.")
  flags.DEFINE_string("output", None, "Write the results as JSON here.")
  flags.DEFINE_string("worker", None, "Internal: run as a worker (JSON spec).")


FLAGS = flags.FLAGS

TARGET_RATIO = 1.2
RESULT_KEYS = ("machine", "settings", "torch_data", "parameter_count",
               "variants", "rounds", "summary", "end_to_end")
_RESULT_PREFIX = "@@RESULT "

TORCH_DATA_NOTE = (
    "PyTorch is fed a pre-rendered pool of simulator batches (rendered once "
    "by the TF simulator, held as torch tensors and cycled): the favourable "
    "case for PyTorch, which pays nothing for its input pipeline; TF renders "
    "every batch on the fly in tf.data.")


def num_cores():
  """CPU cores this process may run on (int)."""
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:
    return os.cpu_count() or 1


# ---------------------------------------------------------------------------
# PyTorch model: the default conv β-VAE of tf_betavae, layer for layer.
# ---------------------------------------------------------------------------

def build_torch_model(latent_dim=10, channels=1, beta=4.0):
  """PyTorch twin of ``tf_betavae.training.build_model(TrainConfig(), ...)``.

  Encoder: four Conv2d 4x4 stride 2 padding 1 (32, 32, 64, 64 filters,
  ReLU; 64 -> 32 -> 16 -> 8 -> 4 pixels, the same shapes as Keras
  'same' padding), Linear 1024 -> 256 ReLU, Linear 256 -> 2 * latent_dim.
  Decoder: Linear latent_dim -> 256 ReLU, Linear 256 -> 1024 ReLU, reshape
  to 64x4x4, ConvTranspose2d 4x4 stride 2 padding 1 (64, 32, 32 filters,
  ReLU; 4 -> 8 -> 16 -> 32) and a linear one to ``channels`` (-> 64).

  Loss (``model.loss(images)``, images float32 [batch, channels, 64, 64] in
  [0, 1]): batch mean of BCE-with-logits summed over pixels (nats) + β ·
  analytic KL(N(mu, sigma^2) || N(0, I)) (nats), with z = mu + sigma · eps
  (reparameterised).  Returns (loss, reconstruction, kl) scalar tensors.
  """
  import torch  # pylint: disable=g-import-not-at-top
  from torch import nn  # pylint: disable=g-import-not-at-top
  from torch.nn import functional as F  # pylint: disable=g-import-not-at-top

  def conv(cin, cout):
    return nn.Conv2d(cin, cout, kernel_size=4, stride=2, padding=1)

  def deconv(cin, cout):
    return nn.ConvTranspose2d(cin, cout, kernel_size=4, stride=2, padding=1)

  class TorchBetaVAE(nn.Module):
    """The conv β-VAE (see build_torch_model)."""

    def __init__(self):
      super().__init__()
      self.latent_dim = latent_dim
      self.beta = beta
      self.encoder = nn.Sequential(
          conv(channels, 32), nn.ReLU(), conv(32, 32), nn.ReLU(),
          conv(32, 64), nn.ReLU(), conv(64, 64), nn.ReLU(), nn.Flatten(),
          nn.Linear(4 * 4 * 64, 256), nn.ReLU(),
          nn.Linear(256, 2 * latent_dim))
      self.decoder = nn.Sequential(
          nn.Linear(latent_dim, 256), nn.ReLU(),
          nn.Linear(256, 4 * 4 * 64), nn.ReLU(), nn.Unflatten(1, (64, 4, 4)),
          deconv(64, 64), nn.ReLU(), deconv(64, 32), nn.ReLU(),
          deconv(32, 32), nn.ReLU(), deconv(32, channels))

    def forward(self, images):
      mean, _ = self.encoder(images).chunk(2, dim=1)
      return torch.sigmoid(self.decoder(mean))

    def loss(self, images):
      mean, log_variance = self.encoder(images).chunk(2, dim=1)
      std = torch.exp(0.5 * log_variance)
      latents = mean + std * torch.randn_like(std)
      logits = self.decoder(latents)
      reconstruction = F.binary_cross_entropy_with_logits(
          logits, images, reduction="none").sum(dim=(1, 2, 3))
      kl = 0.5 * (mean.square() + log_variance.exp() - 1.0 -
                  log_variance).sum(dim=1)
      reconstruction = reconstruction.mean()
      kl = kl.mean()
      return reconstruction + self.beta * kl, reconstruction, kl

  return TorchBetaVAE()


def torch_parameter_count(model):
  """Number of trainable scalars of a torch module (int)."""
  return sum(p.numel() for p in model.parameters() if p.requires_grad)


def tf_parameter_count():
  """Number of trainable scalars of the library's default model (int)."""
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  model = training.build_model(training.TrainConfig(), (64, 64, 1))
  return int(sum(int(v.numpy().size) for v in model.trainable_variables))


# ---------------------------------------------------------------------------
# Workers: one process per side; commands on stdin, JSON results on stdout.
# ---------------------------------------------------------------------------

def _emit(result):
  sys.stdout.write(_RESULT_PREFIX + json.dumps(result) + "\n")
  sys.stdout.flush()


def _parse_variant(name):
  """'tf+xla+intra=2' -> dict of settings."""
  parts = name.split("+")
  if parts[0] != "tf":
    raise ValueError(f"a TF variant starts with 'tf', got {name!r}")
  spec = {"name": name, "xla": False, "pool": False, "onednn": True,
          "intra": None, "inter": None}
  for part in parts[1:]:
    key, _, value = part.partition("=")
    if key == "xla":
      spec["xla"] = True
    elif key == "pool":
      spec["pool"] = True
    elif key == "noonednn":
      spec["onednn"] = False
    elif key in ("intra", "inter") and value.isdigit():
      spec[key] = int(value)
    else:
      raise ValueError(f"unknown TF variant modifier {part!r} in {name!r}")
  return spec


def render_pool(path, num_batches, batch_size, seed=1):
  """Renders simulator batches with TF's input pipeline into an .npy file.

  Writes float32 [num_batches, batch_size, 64, 64, 1] in {0, 1}.
  """
  import numpy as np  # pylint: disable=g-import-not-at-top
  from tf_betavae.data import dsprites_simulator  # pylint: disable=g-import-not-at-top,line-too-long
  dataset = dsprites_simulator.training_dataset(batch_size, seed)
  batches = [b.numpy() for b in dataset.take(num_batches)]
  np.save(path, np.stack(batches))


def _tf_worker(spec):
  """Serves 'run N' commands with the library's StepRunner."""
  if not spec["onednn"]:
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  intra = spec["intra"] if spec["intra"] is not None else spec["tf_threads"]
  if intra:
    tf.config.threading.set_intra_op_parallelism_threads(intra)
  if spec["inter"] is not None:
    tf.config.threading.set_inter_op_parallelism_threads(spec["inter"])
  import keras  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  from tf_betavae.data import dsprites_simulator  # pylint: disable=g-import-not-at-top,line-too-long

  if spec.get("pool_path_out"):
    render_pool(spec["pool_path_out"], spec["pool_batches"],
                spec["batch_size"])

  config = training.TrainConfig(batch_size=spec["batch_size"])
  keras.utils.set_random_seed(config.seed)
  model = training.build_model(config, (64, 64, 1))
  model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
  model.optimizer.build(model.trainable_variables)
  if spec["pool"]:
    pool = np.load(spec["pool_path"])
    dataset = tf.data.Dataset.from_tensor_slices(pool).repeat().prefetch(
        tf.data.AUTOTUNE)
  else:
    dataset = dsprites_simulator.training_dataset(config.batch_size,
                                                  config.seed)
  iterator = iter(dataset)
  runner = training.StepRunner(model, tf.distribute.get_strategy(),
                               jit_compile=spec["xla"])

  def run(n):
    start = time.perf_counter()
    runner.run(iterator, tf.constant(n, tf.int64))
    loss = float(model.loss_tracker.result())  # forces completion
    return time.perf_counter() - start, loss

  run(spec["warmup_steps"])
  _emit({"ready": True,
         "parameter_count": int(sum(int(np.prod(v.shape))
                                    for v in model.trainable_variables)),
         "intra_op_threads":
             tf.config.threading.get_intra_op_parallelism_threads(),
         "inter_op_threads":
             tf.config.threading.get_inter_op_parallelism_threads()})
  _serve(run, model.loss_tracker.reset_state)


def _torch_worker(spec):
  """Serves 'run N' commands with the PyTorch twin on a pre-rendered pool."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(spec["torch_threads"])
  torch.manual_seed(0)
  # NHWC (TF) -> NCHW (PyTorch), contiguous per batch.
  pool = torch.from_numpy(
      np.ascontiguousarray(np.load(spec["pool_path"]).transpose(0, 1, 4, 2,
                                                                3)))
  model = build_torch_model()
  model.train()
  # Keras Adam's epsilon is 1e-7 (torch's default 1e-8); betas are equal.
  optimizer = torch.optim.Adam(model.parameters(), lr=5e-4, eps=1e-7)
  state = {"index": 0}

  def run(n):
    start = time.perf_counter()
    loss = None
    for _ in range(n):
      images = pool[state["index"] % len(pool)]
      state["index"] += 1
      loss, _, _ = model.loss(images)
      optimizer.zero_grad(set_to_none=True)
      loss.backward()
      optimizer.step()
    value = float(loss) if loss is not None else float("nan")
    return time.perf_counter() - start, value

  run(spec["warmup_steps"])
  _emit({"ready": True, "parameter_count": torch_parameter_count(model),
         "threads": torch.get_num_threads(), "version": torch.__version__})
  _serve(run, lambda: None)


def _serve(run, reset):
  for line in sys.stdin:
    command = line.split()
    if not command or command[0] == "quit":
      break
    if command[0] == "run":
      reset()
      seconds, loss = run(int(command[1]))
      _emit({"seconds": seconds, "loss": loss})


class Worker:
  """A worker subprocess; ``run(n)`` -> (seconds, loss) of n steps."""

  def __init__(self, name, spec):
    self.name = name
    self._stderr = tempfile.TemporaryFile(mode="w+")
    env = dict(os.environ)
    if spec.get("kind") == "tf" and not spec.get("onednn", True):
      env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    if spec.get("kind") == "torch" and spec.get("omp_passive"):
      env["OMP_WAIT_POLICY"] = "PASSIVE"
    self._process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__),
         "--worker=" + json.dumps(spec)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
        text=True, env=env, cwd=REPO_ROOT)
    self.info = self._result()

  def _result(self):
    for line in self._process.stdout:
      if line.startswith(_RESULT_PREFIX):
        return json.loads(line[len(_RESULT_PREFIX):])
    self._process.wait()
    self._stderr.seek(0)
    tail = self._stderr.read()[-3000:]
    raise RuntimeError(f"worker {self.name} exited with code "
                       f"{self._process.returncode}:\n{tail}")

  def run(self, steps):
    self._process.stdin.write(f"run {steps}\n")
    self._process.stdin.flush()
    result = self._result()
    return result["seconds"], result["loss"]

  def close(self):
    if self._process.poll() is None:
      try:
        self._process.stdin.write("quit\n")
        self._process.stdin.flush()
        self._process.wait(timeout=30)
      except (OSError, subprocess.TimeoutExpired):
        self._process.kill()
    self._stderr.close()


# ---------------------------------------------------------------------------
# End to end: scripts/train.py in a subprocess.
# ---------------------------------------------------------------------------

_LIBRARY_TRAIN = """
import json, sys
sys.path.insert(0, {root!r})
from absl import logging
from tf_betavae import training
logging.set_verbosity(logging.INFO)
training.train(training.TrainConfig(steps={steps}), {model_dir!r})
"""


def run_train_script(steps, model_dir, train_script=None, extra_flags=()):
  """Runs a default training run in a subprocess; returns its summary dict.

  Uses ``train_script`` (scripts/train.py) when it exists, else
  ``tf_betavae.training.train``.  Adds 'launcher' and 'process_seconds'.
  """
  if train_script and os.path.exists(train_script):
    command = [sys.executable, train_script, f"--model_dir={model_dir}",
               f"--steps={steps}", "--export_dir="] + list(extra_flags)
    launcher = os.path.relpath(train_script, REPO_ROOT)
  else:
    command = [sys.executable, "-c", _LIBRARY_TRAIN.format(
        root=REPO_ROOT, steps=steps, model_dir=model_dir)]
    launcher = "tf_betavae.training.train"
  start = time.perf_counter()
  completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True,
                             text=True, check=False)
  process_seconds = time.perf_counter() - start
  if completed.returncode:
    raise RuntimeError(f"{' '.join(command)} failed "
                       f"({completed.returncode}):\n{completed.stderr[-3000:]}")
  with open(os.path.join(model_dir, "train_summary.json")) as f:
    summary = json.load(f)
  summary["launcher"] = launcher
  summary["process_seconds"] = process_seconds
  return summary


# ---------------------------------------------------------------------------
# The benchmark.
# ---------------------------------------------------------------------------

def _torch_available():
  try:
    import torch  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    return False
  return True


def _median(values):
  return statistics.median(values) if values else None


def benchmark():
  """Runs the interleaved benchmark; returns the results dict."""
  cores = num_cores()
  loadavg_start = os.getloadavg()[0]
  batch = FLAGS.batch_size
  variants = [_parse_variant(v) for v in FLAGS.tf_variants]
  use_torch = FLAGS.torch and _torch_available()
  torch_message = None
  if FLAGS.torch and not use_torch:
    torch_message = ("PyTorch is not installed (pip install torch, or the "
                     "'bench' extra): measuring TF only.")
    print(torch_message, flush=True)
  workdir = tempfile.mkdtemp(prefix="train_throughput_")
  pool_path = os.path.join(workdir, "pool.npy")
  need_pool = use_torch or any(v["pool"] for v in variants)
  base = {"batch_size": batch, "warmup_steps": FLAGS.warmup_steps,
          "tf_threads": FLAGS.tf_threads, "pool_path": pool_path,
          "pool_batches": FLAGS.torch_pool_batches}
  workers = {}
  try:
    for i, variant in enumerate(variants):
      spec = dict(base, kind="tf", **variant)
      if i == 0 and need_pool:
        spec["pool_path_out"] = pool_path
      if variant["pool"] and i != 0:
        assert os.path.exists(pool_path)
      print(f"starting worker {variant['name']} ...", flush=True)
      workers[variant["name"]] = Worker(variant["name"], spec)
    torch_names = []
    if use_torch:
      for threads in dict.fromkeys(int(t) or cores
                                   for t in FLAGS.torch_threads):
        name = "torch" if threads == cores else f"torch_{threads}t"
        print(f"starting worker {name} ...", flush=True)
        workers[name] = Worker(name, dict(
            base, kind="torch", torch_threads=threads,
            omp_passive=FLAGS.torch_omp_passive))
        torch_names.append(name)

    counts = {name: w.info["parameter_count"] for name, w in workers.items()}
    if len(set(counts.values())) != 1:
      raise AssertionError(f"parameter counts differ: {counts}")

    names = list(workers)
    rounds = []
    for r in range(FLAGS.repeats):
      order = names[r % len(names):] + names[:r % len(names)]
      entry = {"round": r, "order": order, "loadavg_before": os.getloadavg()[0]}
      for name in order:
        seconds, loss = workers[name].run(FLAGS.steps)
        entry[name] = {"seconds": seconds, "loss": loss,
                       "images_per_second": FLAGS.steps * batch / seconds}
        print(f"round {r}: {name:<24} {FLAGS.steps * batch / seconds:8.1f} "
              f"images/s  (loss {loss:.1f})", flush=True)
      entry["loadavg_after"] = os.getloadavg()[0]
      if torch_names:
        best = max(torch_names, key=lambda n: entry[n]["images_per_second"])
        entry["torch_best"] = dict(entry[best], worker=best)
      rounds.append(entry)

    summary = {}
    for name in names + (["torch_best"] if torch_names else []):
      ips = [e[name]["images_per_second"] for e in rounds]
      summary[name] = {"images_per_second_median": _median(ips),
                       "images_per_second_max": max(ips),
                       "steps_per_second_median": _median(ips) / batch}
      if torch_names and not name.startswith("torch"):
        ratios = [e[name]["images_per_second"] /
                  e["torch_best"]["images_per_second"] for e in rounds]
        summary[name]["ratio_to_torch_per_round"] = ratios
        summary[name]["ratio_to_torch_median"] = _median(ratios)
    if torch_names:
      main = summary[variants[0]["name"]]
      summary["target_ratio"] = TARGET_RATIO
      summary["target_met"] = main["ratio_to_torch_median"] >= TARGET_RATIO

    end_to_end = None
    if FLAGS.end_to_end:
      end_to_end = []
      for r in range(FLAGS.e2e_repeats):
        before = [workers[n].run(FLAGS.steps)[0] for n in torch_names]
        model_dir = os.path.join(workdir, f"e2e_{r}")
        print(f"end to end: training {FLAGS.e2e_steps} steps ...", flush=True)
        result = run_train_script(FLAGS.e2e_steps, model_dir,
                                  FLAGS.train_script)
        after = [workers[n].run(FLAGS.steps)[0] for n in torch_names]
        item = {"launcher": result["launcher"],
                "steps": result["steps_this_run"],
                "steps_per_second": result["steps_per_second"],
                "train_seconds": result["train_seconds"],
                "wall_seconds": result["wall_seconds"],
                "process_seconds": result["process_seconds"]}
        if torch_names:
          # Per PyTorch worker, the mean of the rounds just before and after;
          # compare with the fastest worker.
          torch_sps = {n: statistics.mean([FLAGS.steps / b, FLAGS.steps / a])
                       for n, b, a in zip(torch_names, before, after)}
          item["torch_steps_per_second_adjacent"] = torch_sps
          item["torch_steps_per_second"] = max(torch_sps.values())
          item["ratio_to_torch"] = (item["steps_per_second"] /
                                    item["torch_steps_per_second"])
          item["target_met"] = item["ratio_to_torch"] >= 1.0
        end_to_end.append(item)
  finally:
    for worker in workers.values():
      worker.close()

  return {
      "machine": {"cores": cores, "python": sys.version.split()[0],
                  "loadavg_start_end": [loadavg_start, os.getloadavg()[0]],
                  "torch": workers[torch_names[0]].info["version"]
                           if torch_names else None,
                  "torch_threads": {n: workers[n].info["threads"]
                                    for n in torch_names},
                  "tf_threads": {n: (w.info["intra_op_threads"],
                                     w.info["inter_op_threads"])
                                 for n, w in workers.items()
                                 if n not in torch_names}},
      "settings": {"steps": FLAGS.steps, "warmup_steps": FLAGS.warmup_steps,
                   "repeats": FLAGS.repeats, "batch_size": batch,
                   "tf_variants": FLAGS.tf_variants,
                   "torch_message": torch_message,
                   "torch_omp_passive": FLAGS.torch_omp_passive},
      "torch_data": TORCH_DATA_NOTE if use_torch else None,
      "parameter_count": counts,
      "variants": variants,
      "rounds": rounds,
      "summary": summary,
      "end_to_end": end_to_end,
  }


def print_table(results):
  """The human-readable summary of benchmark() results."""
  summary = results["summary"]
  threads = results["machine"]["torch_threads"]
  print()
  print(f"Training throughput, conv β-VAE, batch "
        f"{results['settings']['batch_size']}, "
        f"{results['machine']['cores']} cores, median of "
        f"{results['settings']['repeats']} interleaved rounds of "
        f"{results['settings']['steps']} steps")
  print(f"parameters: {results['parameter_count']}")
  print(f"{'side':<34}{'images/s':>10}{'steps/s':>9}{'vs torch':>10}")
  for name, row in summary.items():
    if not isinstance(row, dict):
      continue
    if name == "torch_best":
      label = "PyTorch, fastest of the above"
    elif name.startswith("torch"):
      label = f"PyTorch {threads[name]} thr (pre-rendered)"
    elif "pool" in name:
      label = f"TF {name} (pre-rendered pool)"
    else:
      label = f"TF {name} (tf.data pipeline)"
    ratio = row.get("ratio_to_torch_median")
    print(f"{label:<34}{row['images_per_second_median']:>10.1f}"
          f"{row['steps_per_second_median']:>9.2f}"
          f"{(f'{ratio:.2f}x' if ratio else '-'):>10}")
  if threads:
    first = results["settings"]["tf_variants"][0]
    ratio = summary[first]["ratio_to_torch_median"]
    print(f"ratio TF/PyTorch images/s ({first} vs the fastest PyTorch worker "
          f"of each round, median): {ratio:.2f}x "
          f"(target >= {TARGET_RATIO}x: "
          f"{'met' if summary['target_met'] else 'NOT met'})")
    print("note: " + results["torch_data"])
  for item in results["end_to_end"] or []:
    line = (f"end to end {item['launcher']}: {item['steps_per_second']:.2f} "
            f"steps/s over {item['steps']} steps")
    if "torch_steps_per_second" in item:
      line += (f" vs PyTorch {item['torch_steps_per_second']:.2f} steps/s: "
               f"{item['ratio_to_torch']:.2f}x (target >= 1.0x: "
               f"{'met' if item['target_met'] else 'NOT met'})")
    print(line)
  sys.stdout.flush()


def main(argv):
  del argv
  if FLAGS.worker:
    spec = json.loads(FLAGS.worker)
    if spec["kind"] == "tf":
      _tf_worker(spec)
    else:
      _torch_worker(spec)
    return
  results = benchmark()
  print_table(results)
  if FLAGS.output:
    with open(FLAGS.output, "w") as f:
      json.dump(results, f, indent=2)
    print(f"wrote {FLAGS.output}")


if __name__ == "__main__":
  define_flags()
  app.run(main)
