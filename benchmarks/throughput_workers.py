"""Worker processes of train_throughput.py and the PyTorch twin model.

Each side of the benchmark runs in its own spawned process (``Worker``): a
fresh interpreter that loads TensorFlow or PyTorch itself, with its own
thread pools and settings.  The parent sends ``("run", n)`` over a pipe and
gets ``{"seconds", "loss"}`` back; ``("quit",)`` ends the worker.
"""

import multiprocessing
import os
import time

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
# Workers: one spawned process per side; commands and results over a pipe.
# ---------------------------------------------------------------------------


def parse_variant(name):
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


def _tf_worker(spec, conn):
  """Serves ("run", N) commands with the library's StepRunner."""
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
  from tf_betavae.training import distribute  # pylint: disable=g-import-not-at-top

  if spec.get("pool_path_out"):
    render_pool(spec["pool_path_out"], spec["pool_batches"],
                spec["batch_size"])

  config = training.TrainConfig(batch_size=spec["batch_size"],
                                method=spec.get("method", "beta_vae"))
  keras.utils.set_random_seed(config.seed)
  model = training.build_compiled_model(config)
  if spec["pool"]:
    pool = np.load(spec["pool_path"])
    dataset = tf.data.Dataset.from_tensor_slices(pool).repeat().prefetch(
        tf.data.AUTOTUNE)
  else:
    # The run's own stream: simulator images, or pairs of them for the
    # weakly-supervised methods.
    dataset, _ = distribute.training_batches(config, config.batch_size, 0)
  iterator = iter(dataset)
  runner = training.StepRunner(model, tf.distribute.get_strategy(),
                               jit_compile=spec["xla"])

  def run(n):
    start = time.perf_counter()
    runner.run(iterator, tf.constant(n, tf.int64))
    loss = float(model.loss_tracker.result())  # forces completion
    return time.perf_counter() - start, loss

  run(spec["warmup_steps"])
  conn.send({"ready": True,
             "parameter_count": int(sum(int(np.prod(v.shape))
                                        for v in model.trainable_variables)),
             "intra_op_threads":
                 tf.config.threading.get_intra_op_parallelism_threads(),
             "inter_op_threads":
                 tf.config.threading.get_inter_op_parallelism_threads()})
  _serve(conn, run, model.loss_tracker.reset_state)


def _torch_worker(spec, conn):
  """Serves ("run", N) commands with the PyTorch twin on a pre-rendered
  pool."""
  if spec.get("omp_passive"):
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # read when torch loads
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
  conn.send({"ready": True, "parameter_count": torch_parameter_count(model),
             "threads": torch.get_num_threads(), "version": torch.__version__})
  _serve(conn, run, lambda: None)


def _serve(conn, run, reset):
  """Answers ("run", n) with {"seconds", "loss"} until ("quit",)."""
  while True:
    command = conn.recv()
    if command[0] == "quit":
      break
    reset()
    seconds, loss = run(command[1])
    conn.send({"seconds": seconds, "loss": loss})


def _worker_main(spec, conn):
  (_tf_worker if spec["kind"] == "tf" else _torch_worker)(spec, conn)


class Worker:
  """A spawned worker process; ``run(n)`` -> (seconds, loss) of n steps.

  Spawned, not forked: each worker starts a fresh interpreter and loads
  TensorFlow or PyTorch itself, with its own thread pools and settings.
  """

  def __init__(self, name, spec):
    self.name = name
    context = multiprocessing.get_context("spawn")
    self._conn, child_conn = context.Pipe()
    self._process = context.Process(target=_worker_main,
                                    args=(spec, child_conn), daemon=True)
    self._process.start()
    child_conn.close()
    self.info = self._result()

  def _result(self):
    try:
      return self._conn.recv()
    except EOFError:
      self._process.join()
      raise RuntimeError(f"worker {self.name} exited with code "
                         f"{self._process.exitcode} (its traceback is on "
                         "stderr above)") from None

  def run(self, steps):
    self._conn.send(("run", steps))
    result = self._result()
    return result["seconds"], result["loss"]

  def close(self):
    if self._process.is_alive():
      try:
        self._conn.send(("quit",))
      except OSError:
        pass
      self._process.join(timeout=30)
      if self._process.is_alive():
        self._process.kill()
    self._conn.close()
