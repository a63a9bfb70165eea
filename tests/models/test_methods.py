"""The models of every method: losses against independent computations,
FactorVAE's two optimizers, configs, refusals."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import models
from tf_betavae.data import dsprites_simulator
from tf_betavae.models import methods
from tf_betavae.models import regularizers

_SEED = tf.constant([5, 9])


def _images(num=16, seed=0):
  simulator = dsprites_simulator.DSpritesSimulator()
  rng = np.random.RandomState(seed)
  return tf.constant(simulator.sample_observations_from_factors(
      simulator.sample_factors(num, rng)))


def _model(method, **kwargs):
  keras.utils.set_random_seed(0)
  model = models.build_model("conv", latent_dim=5, method=method, **kwargs)
  model.compile(optimizer=keras.optimizers.Adam(1e-3))
  model.build_optimizers()
  return model


@pytest.mark.parametrize("method,cls", [
    ("beta_vae", models.BetaVAE), ("annealed_vae", models.BetaVAE),
    ("factor_vae", models.FactorVAE), ("dip_vae_i", models.DIPVAE),
    ("dip_vae_ii", models.DIPVAE), ("beta_tc_vae", models.BetaTCVAE)])
def test_each_method_builds_its_model(method, cls):
  model = _model(method)
  assert type(model) is cls  # pylint: disable=unidiomatic-typecheck
  assert model.method == method
  tracker_names = {m.name for m in model.metrics}
  assert set(model.METHOD_TRACKERS) <= tracker_names


def _float64_terms(terms):
  return {k: v.numpy().astype(np.float64) for k, v in terms.items()}


def test_beta_tc_vae_loss_is_elbo_plus_beta_minus_one_tc():
  model = _model("beta_tc_vae", beta=6.0)
  terms = model.compute_terms(_images(), _SEED)
  loss, tracked = model.regularized_loss(terms, step=0)
  t = _float64_terms(terms)
  batch, dims = t["latents"].shape
  # Independent float64 computation of the estimate (vectorised numpy).
  diff = t["latents"][:, None, :] - t["mean"][None, :, :]
  log_density = -0.5 * (np.log(2 * np.pi) + t["log_variance"][None] +
                        diff ** 2 / np.exp(t["log_variance"][None]))

  def logsumexp(x, axis):
    top = x.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(x - top).sum(axis=axis,
                                              keepdims=True))).squeeze(axis)
  log_q = logsumexp(log_density.sum(2), 1) - np.log(batch)
  log_product = (logsumexp(log_density, 1) - np.log(batch)).sum(1)
  tc = np.mean(log_q - log_product)
  assert float(tracked["total_correlation"]) == pytest.approx(tc, rel=1e-4,
                                                              abs=1e-4)
  expected = t["reconstruction"].mean() + t["kl"].mean() + 5.0 * tc
  assert float(loss) == pytest.approx(expected, rel=1e-5)
  assert dims == 5


@pytest.mark.parametrize("method,factor", [("dip_vae_i", 10.0),
                                           ("dip_vae_ii", 1.0)])
def test_dip_vae_loss_is_elbo_plus_penalty(method, factor):
  model = _model(method, lambda_od=3.0)
  assert model.lambda_d == pytest.approx(3.0 * factor)
  terms = model.compute_terms(_images(), _SEED)
  loss, tracked = model.regularized_loss(terms, step=0)
  t = _float64_terms(terms)
  covariance = np.cov(t["mean"].T, bias=True)
  if method == "dip_vae_ii":
    covariance += np.diag(np.exp(t["log_variance"]).mean(0))
  off = (covariance ** 2).sum() - (np.diag(covariance) ** 2).sum()
  diag = ((np.diag(covariance) - 1) ** 2).sum()
  assert float(tracked["dip_off_diagonal"]) == pytest.approx(off, rel=1e-3,
                                                             abs=1e-6)
  assert float(tracked["dip_diagonal"]) == pytest.approx(diag, rel=1e-4)
  expected = (t["reconstruction"].mean() + t["kl"].mean() +
              3.0 * off + 3.0 * factor * diag)
  assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_dip_lambda_d_factor_overrides_the_default():
  assert _model("dip_vae_i", lambda_od=2.0,
                lambda_d_factor=4.0).lambda_d == pytest.approx(8.0)


def test_factor_vae_step_updates_vae_and_discriminator_separately():
  model = _model("factor_vae", factor_gamma=30.0,
                 discriminator_learning_rate=1e-3)
  # The model's optimizer trains only the encoder and decoder.
  vae_ids = {id(v) for v in model.vae_variables}
  discriminator_ids = {id(v) for v in model.discriminator.trainable_variables}
  assert not vae_ids & discriminator_ids
  before_vae = [v.numpy() for v in model.vae_variables]
  before_discriminator = [v.numpy() for v in
                          model.discriminator.trainable_variables]
  logs = model.train_step(_images())
  assert int(model.optimizer.iterations) == 1
  assert int(model.discriminator_optimizer.iterations) == 1
  assert any(not np.array_equal(a, b.numpy())
             for a, b in zip(before_vae, model.vae_variables))
  assert any(not np.array_equal(a, b.numpy()) for a, b in
             zip(before_discriminator,
                 model.discriminator.trainable_variables))
  for name in ("total_correlation", "discriminator_loss",
               "discriminator_accuracy"):
    assert np.isfinite(float(logs[name]))
  # At initialisation the discriminator cannot tell the classes apart.
  assert float(logs["discriminator_loss"]) == pytest.approx(np.log(2),
                                                            abs=0.05)


def test_factor_vae_loss_adds_gamma_times_the_logit_difference():
  model = _model("factor_vae", factor_gamma=40.0)
  images = _images()
  vae_loss, _, terms, tracked = model._step_losses(  # pylint: disable=protected-access
      images, _SEED, training=False)
  logits = model.discriminator(terms["latents"]).numpy().astype(np.float64)
  tc = np.mean(logits[:, 0] - logits[:, 1])
  assert float(tracked["total_correlation"]) == pytest.approx(tc, abs=1e-5)
  expected = (terms["reconstruction"].numpy().mean() +
              terms["kl"].numpy().mean() + 40.0 * tc)
  assert float(vae_loss) == pytest.approx(expected, rel=1e-5)


def test_discriminator_learns_to_detect_dependent_latents():
  keras.utils.set_random_seed(1)
  discriminator = models.Discriminator(hidden_units=64, hidden_layers=2)
  optimizer = keras.optimizers.Adam(3e-3)
  rng = np.random.RandomState(0)
  first = rng.normal(size=(512, 1))
  latents = tf.constant(np.concatenate([first, first], 1), tf.float32)
  for step in range(150):
    permuted = regularizers.permute_dims(latents, tf.constant([0, step]))
    with tf.GradientTape() as tape:
      loss, accuracy = regularizers.discriminator_loss(
          discriminator(latents), discriminator(permuted))
    grads = tape.gradient(loss, discriminator.trainable_variables)
    optimizer.apply_gradients(zip(grads,
                                  discriminator.trainable_variables))
  tc = regularizers.discriminator_total_correlation(discriminator(latents))
  assert float(accuracy) > 0.8
  assert float(tf.reduce_mean(tc)) > 0.5  # dependent latents: TC > 0


@pytest.mark.parametrize("method,settings", [
    ("factor_vae", dict(factor_gamma=20.0, discriminator_learning_rate=3e-4)),
    ("dip_vae_ii", dict(lambda_od=5.0, lambda_d_factor=2.0)),
    ("beta_tc_vae", dict(beta=6.0))])
def test_get_config_round_trip(method, settings):
  model = _model(method, **settings)
  config = model.get_config()
  clone = type(model).from_config(config)
  assert clone.get_config() == config
  for name, value in settings.items():
    assert getattr(clone, name) == value


@pytest.mark.parametrize("method,settings,message", [
    ("factor_vae", dict(factor_gamma=-1.0), "factor_gamma"),
    ("factor_vae", dict(discriminator_learning_rate=0.0),
     "discriminator_learning_rate"),
    ("dip_vae_i", dict(lambda_od=-2.0), "lambda_od"),
    ("dip_vae_ii", dict(lambda_d_factor=-1.0), "lambda_d_factor"),
    ("beta_tc_vae", dict(objective="B"), "objective B"),
    ("no_such_method", {}, "unknown method")])
def test_bad_settings_are_refused(method, settings, message):
  with pytest.raises(ValueError, match=message):
    models.build_model("conv", latent_dim=4, method=method, **settings)


def test_registry_lists_the_study_grids():
  assert methods.METHODS["factor_vae"].study_grid == (10, 20, 30, 40, 50, 100)
  assert methods.METHODS["beta_tc_vae"].study_grid == (1, 2, 4, 6, 8, 10)
  assert methods.METHODS["dip_vae_i"].hyperparameter == "lambda_od"
  for method in methods.METHODS.values():
    assert method.hyperparameter in method.settings


def test_factor_vae_under_float16_scales_both_losses():
  previous = keras.mixed_precision.dtype_policy()
  keras.mixed_precision.set_dtype_policy("mixed_float16")
  try:
    keras.utils.set_random_seed(0)
    model = models.build_model("conv", latent_dim=5, method="factor_vae")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.build_optimizers()
  finally:
    keras.mixed_precision.set_dtype_policy(previous)
  assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
  assert isinstance(model.discriminator_optimizer,
                    keras.optimizers.LossScaleOptimizer)
  assert model.discriminator.compute_dtype == "float16"
  logs = model.train_step(_images())
  assert all(np.isfinite(float(v)) for v in logs.values())
  assert all(v.dtype == "float32" for v in model.discriminator.weights)
  assert int(model.discriminator_optimizer.iterations) == 1


def test_other_settings_are_the_settings_a_method_never_reads():
  from tf_betavae.models import methods as registry
  assert registry.other_settings("factor_vae") == tuple(sorted(
      {"beta", "gamma", "capacity_max", "capacity_steps", "lambda_od",
       "lambda_d_factor", "k", "frame_gap"}))
  assert registry.other_settings("group_vae") == tuple(sorted(
      {"gamma", "capacity_max", "capacity_steps", "lambda_od",
       "lambda_d_factor", "factor_gamma", "discriminator_learning_rate",
       "frame_gap"}))
  assert "beta" not in registry.other_settings("beta_tc_vae")
  for name, method in registry.METHODS.items():
    assert not set(registry.other_settings(name)) & set(method.settings)


def test_annealed_vae_has_its_own_learning_rate_and_the_others_do_not():
  assert methods.default_learning_rate("annealed_vae", 1e-3) == (
      methods.ANNEALED_VAE_LEARNING_RATE)
  assert methods.ANNEALED_VAE_LEARNING_RATE < 5e-4  # 5e-4 and 1e-3 fail
  for name in set(methods.METHOD_NAMES) - {"annealed_vae"}:
    assert methods.default_learning_rate(name, 1e-3) == 1e-3, name
  with pytest.raises(ValueError, match="unknown method"):
    methods.default_learning_rate("vae", 1e-3)
