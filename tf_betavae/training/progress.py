"""What a run reports while it trains: the step log line (with elapsed time
and an estimate of the time left, worded by tf_betavae.progress) and
TensorBoard scalars."""

from absl import logging
import tensorflow as tf

from tf_betavae import progress
from tf_betavae.models import latent_stats


_MAIN_TRACKERS = ("loss", "reconstruction", "kl")


def log_step(step, total_steps, values, steps_per_second, batch_size,
             elapsed, steps_done, steady_rate):
  """Logs one step line.

  Args:
    step, total_steps: int.
    values: the trackers' means (loss, reconstruction, kl, kl_latent_<d>,
      and the method's own, which are logged after kl).
    steps_per_second: float, speed of the last chunk.
    batch_size: int, images per step (the global batch; twice it for
      pairs).
    elapsed: float, seconds this invocation has trained.
    steps_done: int, steps this invocation has trained.
    steady_rate: the tf_betavae.progress.SteadyRate the loop keeps for this
      invocation; this line is marked in it and the time left is taken
      from it (not the mean since the start, which counts the first
      chunk's tracing).  Unknown on the invocation's first line.
  """
  steady_rate.mark(steps_done, elapsed)
  active = sum(1 for k, v in values.items() if k.startswith("kl_latent_")
               and v > latent_stats.ACTIVE_KL_NATS)
  # The method's own trackers (capacity, total_correlation, ...).
  extra = "".join(f"  {name} {value:.4g}" for name, value in values.items()
                  if name not in _MAIN_TRACKERS and
                  not name.startswith("kl_latent_"))
  logging.info(
      "step %d/%d  loss %.2f  reconstruction %.2f  kl %.2f%s  active latents "
      "%d  %.1f steps/s (%.0f images/s)  %s", step, total_steps,
      values["loss"], values["reconstruction"], values["kl"], extra, active,
      steps_per_second, steps_per_second * batch_size,
      steady_rate.eta_text(steps_done + total_steps - step))


def write_scalars(writer, values, step):
  """Tracker values as TensorBoard scalars: kl_per_latent/kl_latent_<d>,
  everything else under train/."""
  with writer.as_default(step=step):
    for name, value in values.items():
      group = "kl_per_latent/" if name.startswith("kl_latent_") else "train/"
      tf.summary.scalar(group + name, value)
    writer.flush()
