"""Learning-rate schedules of a training run: constant, or warm-up then cosine.

``schedule(config)`` turns a TrainConfig's ``learning_rate``,
``lr_warmup_steps``, ``lr_decay`` and ``steps`` into what Adam takes:

* ``lr_decay='constant'`` and no warm-up: the plain float (Adam then keeps
  its learning rate as a variable, which its checkpoints hold; a schedule
  replaces that variable, so the two kinds of checkpoint differ).
* otherwise a ``WarmupCosine`` schedule of the optimizer's step counter
  ``t`` (0 at the first update, restored with the checkpoint, so a resumed
  run continues the schedule where it stopped):

  - warm-up, ``t < W``: ``peak * (t + 1) / W`` (linear from ``peak / W`` up
    to ``peak``);
  - after it, constant: ``peak``; cosine:
    ``peak * 0.5 * (1 + cos(pi * min(1, (t - W) / (steps - W))))``, which
    reaches 0 at ``t = steps`` and stays there.

A cosine run resumed with a larger ``steps`` gets the longer schedule from
the step it resumes at (the rate rises again); keep ``steps`` to continue
the same schedule.
"""

import math

import keras
import tensorflow as tf

DECAYS = ("constant", "cosine")


@keras.saving.register_keras_serializable(package="tf_betavae")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
  # Not keras' CosineDecay(warmup_target=...): its warm-up is peak*t/W (0 at
  # the first update, one step behind this one); after the warm-up they agree.
  """Linear warm-up over ``warmup_steps``, then constant or cosine to 0.

  Args:
    peak: learning rate after the warm-up (> 0).
    warmup_steps: steps of the linear warm-up (>= 0; 0 = none).
    decay: 'constant' or 'cosine'.
    total_steps: the run's total steps; the cosine reaches 0 there
      (> warmup_steps when decay is 'cosine').
  """

  def __init__(self, peak, warmup_steps, decay, total_steps):
    if decay not in DECAYS:
      raise ValueError(f"decay must be one of {DECAYS}, got {decay!r}")
    if not (isinstance(peak, (int, float)) and math.isfinite(peak)
            and peak > 0):
      raise ValueError(f"peak learning rate must be > 0, got {peak!r}")
    if int(warmup_steps) < 0:
      raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    if decay == "cosine" and int(total_steps) <= int(warmup_steps):
      raise ValueError(f"a cosine decay needs total_steps ({total_steps}) > "
                       f"warmup_steps ({warmup_steps})")
    self.peak = float(peak)
    self.warmup_steps = int(warmup_steps)
    self.decay = decay
    self.total_steps = int(total_steps)

  def __call__(self, step):
    step = tf.cast(step, tf.float32)
    peak = tf.constant(self.peak, tf.float32)
    warmup = float(self.warmup_steps)
    if self.decay == "cosine":
      progress = tf.clip_by_value(
          (step - warmup) / float(self.total_steps - self.warmup_steps),
          0.0, 1.0)
      after = peak * 0.5 * (1.0 + tf.cos(math.pi * progress))
    else:
      after = peak
    if self.warmup_steps == 0:
      return after
    ramp = peak * (step + 1.0) / warmup
    return tf.where(step < warmup, ramp, after)

  def get_config(self):
    return {"peak": self.peak, "warmup_steps": self.warmup_steps,
            "decay": self.decay, "total_steps": self.total_steps}


def schedule(config):
  """What Adam's ``learning_rate`` gets for a TrainConfig (see module doc).

  Returns:
    a float when the run has no warm-up and a constant rate, else a
    WarmupCosine.
  """
  if config.lr_decay == "constant" and config.lr_warmup_steps == 0:
    return config.learning_rate
  return WarmupCosine(config.learning_rate, config.lr_warmup_steps,
                      config.lr_decay, config.steps)
