"""The model and optimizer of a TrainConfig."""

import keras

from tf_betavae import data as data_lib
from tf_betavae import models
from tf_betavae.training import learning_rate as learning_rate_lib


def build_model(config, image_shape):
  """The model of a config's method, built (variables exist).

  Args:
    config: TrainConfig.
    image_shape: (H, W, C) of the training images.
  """
  return models.build_model(
      arch=config.arch, latent_dim=config.latent_dim, image_shape=image_shape,
      likelihood=config.likelihood, gaussian_stddev=config.gaussian_stddev,
      method=config.method, beta=config.beta, gamma=config.gamma,
      capacity_max=config.capacity_max, capacity_steps=config.capacity_steps,
      beta_hold_steps=config.beta_hold_steps,
      beta_warmup_steps=config.beta_warmup_steps,
      factor_gamma=config.factor_gamma,
      discriminator_learning_rate=config.discriminator_learning_rate,
      lambda_od=config.lambda_od, lambda_d_factor=config.lambda_d_factor,
      seed=config.seed)


def make_optimizer(config):
  """Adam with the run's learning rate or schedule (see learning_rate)."""
  return keras.optimizers.Adam(learning_rate_lib.schedule(config))


def build_compiled_model(config, image_shape=None, mixed_precision=True):
  """``build_model(config)`` compiled with ``make_optimizer(config)``, the
  optimizer's variables built (so a checkpoint can be restored into it).

  Build it inside ``strategy.scope()`` to place it under a strategy.

  Args:
    config: TrainConfig.
    image_shape: (H, W, C); default the image shape of config.dataset.
    mixed_precision: apply config.mixed_precision's dtype policy while
      building (the global policy is restored afterwards).  restore_model
      passes False: it rebuilds runs in float32.

  Returns:
    a compiled tf_betavae.models.BetaVAE.
  """
  if image_shape is None:
    image_shape = data_lib.image_shape(config.dataset)
  previous_policy = keras.mixed_precision.dtype_policy()
  if mixed_precision and config.mixed_precision:
    keras.mixed_precision.set_dtype_policy(config.mixed_precision)
  try:
    model = build_model(config, image_shape)
    model.compile(optimizer=make_optimizer(config))
    model.build_optimizers()
  finally:
    keras.mixed_precision.set_dtype_policy(previous_policy)
  return model
