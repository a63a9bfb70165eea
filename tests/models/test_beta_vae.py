"""BetaVAE: KL, objectives H and B, the capacity schedule, train_step."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import models
from tf_betavae.data import dsprites_simulator


def _images(num=8, seed=0):
  simulator = dsprites_simulator.DSpritesSimulator()
  rng = np.random.RandomState(seed)
  return simulator.sample_observations_from_factors(
      simulator.sample_factors(num, rng))


def _model(**kwargs):
  keras.utils.set_random_seed(0)
  model = models.build_model("conv", latent_dim=6, **kwargs)
  model.compile(optimizer=keras.optimizers.Adam(1e-3))
  model.optimizer.build(model.trainable_variables)
  return model


def test_kl_equals_closed_form_float64():
  model = _model()
  images = _images()
  terms = model.compute_terms(tf.constant(images), seed=tf.constant([1, 2]))
  mean, log_variance = (t.numpy().astype(np.float64)
                        for t in model.encoder(images))
  variance = np.exp(log_variance)
  kl_per_latent = 0.5 * (mean ** 2 + variance - log_variance - 1.0)
  np.testing.assert_allclose(terms["kl"].numpy(), kl_per_latent.sum(1),
                             rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(terms["kl_per_latent"].numpy(), kl_per_latent,
                             rtol=1e-4, atol=1e-5)


def test_kl_closed_form_on_random_posteriors():
  model = _model()
  rng = np.random.RandomState(4)
  mean = rng.normal(size=(5, 6))
  log_variance = rng.normal(size=(5, 6))
  posterior = models.beta_vae.tfd.MultivariateNormalDiag(
      loc=tf.constant(mean, tf.float32),
      scale_diag=tf.constant(np.exp(0.5 * log_variance), tf.float32))
  kl = models.beta_vae.tfd.kl_divergence(posterior, model.prior()).numpy()
  expected = 0.5 * np.sum(mean ** 2 + np.exp(log_variance) - log_variance - 1,
                          axis=1)
  np.testing.assert_allclose(kl, expected, rtol=1e-5)


def test_beta_one_loss_is_negative_elbo():
  model = _model(beta=1.0)
  images = _images()
  seed = tf.constant([7, 11])
  terms = model.compute_terms(tf.constant(images), seed=seed)
  loss = model.objective_loss(terms["reconstruction"], terms["kl"], step=0)
  # Independent float64 computation of -ELBO from the same latent sample.
  posterior = model.posterior(images)
  noise = model.prior().sample(len(images), seed=seed).numpy()
  latents = (posterior.mean().numpy() + posterior.stddev().numpy() * noise)
  np.testing.assert_allclose(
      latents, model._reparameterised_sample(posterior, seed), rtol=1e-5,  # pylint: disable=protected-access
      atol=1e-5)
  logits = model.decoder(latents).numpy().astype(np.float64)
  x = images.astype(np.float64)
  log_p = -np.logaddexp(0, -logits)  # log sigmoid
  log_1mp = -np.logaddexp(0, logits)
  log_likelihood = np.sum(x * log_p + (1 - x) * log_1mp, axis=(1, 2, 3))
  mean, log_variance = (t.numpy().astype(np.float64)
                        for t in model.encoder(images))
  kl = 0.5 * np.sum(mean ** 2 + np.exp(log_variance) - log_variance - 1, 1)
  negative_elbo = np.mean(-(log_likelihood - kl))
  assert float(loss) == pytest.approx(negative_elbo, rel=1e-5)


def test_beta_weights_the_kl_term():
  model = _model(beta=4.0)
  recon = tf.constant([100.0, 200.0])
  kl = tf.constant([3.0, 5.0])
  assert float(model.objective_loss(recon, kl, 0)) == pytest.approx(150 + 16)


def test_capacity_schedule_and_objective_b():
  model = _model(objective="B", gamma=1000.0, capacity_max=25.0,
                 capacity_steps=1000)
  assert float(model.capacity(0)) == 0.0
  assert float(model.capacity(500)) == pytest.approx(12.5)
  assert float(model.capacity(1000)) == pytest.approx(25.0)
  assert float(model.capacity(5000)) == pytest.approx(25.0)
  recon = tf.constant([100.0])
  loss = model.objective_loss(recon, tf.constant([10.0]), step=500)
  assert float(loss) == pytest.approx(100 + 1000 * 2.5)


def test_capacity_is_read_from_the_optimizer_counter_in_graph():
  """C must follow optimizer.iterations inside the traced step."""
  model = _model(objective="B", capacity_max=10.0, capacity_steps=100)
  images = tf.constant(_images(4))
  step_fn = tf.function(model.train_step)
  step_fn(images)
  first = model.get_metrics_result()["capacity"]
  model.optimizer.iterations.assign(50)
  for tracker in model.metrics:
    tracker.reset_state()
  step_fn(images)  # same trace, new counter value
  assert float(first) == pytest.approx(0.0)
  assert float(model.get_metrics_result()["capacity"]) == pytest.approx(5.0)


def _ramp_reference(beta, hold, warmup, step):
  """The KL weight of a β warm-up, computed on its own in float64: a
  piecewise-linear interpolation through its corners."""
  start = min(1.0, beta)
  if warmup == 0:
    return start if step < hold else beta
  return float(np.interp(step, [0, hold, hold + warmup, hold + warmup + 1],
                         [start, start, beta, beta]))


@pytest.mark.parametrize("beta, hold, warmup", [
    (8.0, 0, 400), (0.5, 0, 400), (8.0, 250, 400), (6.0, 250, 0)])
def test_beta_warmup_holds_then_ramps_the_kl_weight(beta, hold, warmup):
  model = _model(beta=beta, beta_hold_steps=hold, beta_warmup_steps=warmup)
  for step in (0, 1, 100, 249, 250, 251, 399, 400, 401, 649, 650, 651,
               10000):
    assert float(model.kl_weight(step)) == pytest.approx(
        _ramp_reference(beta, hold, warmup, step), rel=1e-6), step
  recon = tf.constant([100.0, 200.0])
  kl = tf.constant([3.0, 5.0])
  assert float(model.objective_loss(recon, kl, 300)) == pytest.approx(
      150.0 + 4.0 * _ramp_reference(beta, hold, warmup, 300), rel=1e-6)
  # Without a warm-up the weight is β from the first step.
  assert float(_model(beta=beta).kl_weight(0)) == pytest.approx(beta)


def test_beta_warmup_follows_the_optimizer_counter_in_graph():
  """The weight is read from optimizer.iterations inside the traced step,
  so a resumed run (which restores the counter) continues the ramp."""
  model = _model(beta=9.0, beta_hold_steps=50, beta_warmup_steps=200)
  images = tf.constant(_images(4))
  step_fn = tf.function(model.train_step)
  step_fn(images)
  first = float(model.get_metrics_result()["kl_weight"])
  model.optimizer.iterations.assign(150)
  for tracker in model.metrics:
    tracker.reset_state()
  step_fn(images)
  assert first == pytest.approx(1.0)
  assert float(model.get_metrics_result()["kl_weight"]) == pytest.approx(5.0)
  assert "kl_weight" not in _model(beta=9.0).get_metrics_result()


def test_beta_warmup_is_refused_where_no_kl_weight_exists():
  with pytest.raises(ValueError, match="beta_warmup_steps must be >= 0"):
    _model(beta_warmup_steps=-1)
  with pytest.raises(ValueError, match="beta_hold_steps must be >= 0"):
    _model(beta_hold_steps=-1)
  with pytest.raises(ValueError, match="objective B has no such weight"):
    _model(objective="B", beta_warmup_steps=10)
  with pytest.raises(ValueError, match="objective B has no such weight"):
    _model(objective="B", beta_hold_steps=10)
  with pytest.raises(ValueError, match="BetaTCVAE with objective H"):
    models.build_model("conv", latent_dim=4, method="beta_tc_vae",
                       beta_warmup_steps=10)


def test_metrics_expose_kl_per_latent_and_capacity_only_for_b():
  names_h = list(_model().get_metrics_result())
  assert {"loss", "reconstruction", "kl"} <= set(names_h)
  assert [n for n in names_h if n.startswith("kl_latent_")] == [
      f"kl_latent_{i}" for i in range(6)]
  assert "capacity" not in names_h
  assert "capacity" in _model(objective="B").get_metrics_result()


def test_a_few_steps_lower_the_loss():
  model = _model()
  dataset = dsprites_simulator.training_dataset(32, seed=1)
  step_fn = tf.function(model.train_step)
  losses = []
  for images in dataset.take(30):
    for tracker in model.metrics:
      tracker.reset_state()
    step_fn(images)
    losses.append(float(model.get_metrics_result()["loss"]))
  assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:3])
  assert int(model.optimizer.iterations) == 30


def test_mixed_precision_step_keeps_float32_variables():
  keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
  try:
    model = _model()
  finally:
    keras.mixed_precision.set_dtype_policy("float32")
  images = tf.constant(_images(4))
  tf.function(model.train_step)(images)
  assert np.isfinite(float(model.get_metrics_result()["loss"]))
  assert all(v.dtype == "float32" for v in model.trainable_variables)


def test_bad_settings_are_refused():
  with pytest.raises(ValueError, match="beta must be >= 0"):
    models.build_model(beta=-1.0)
  with pytest.raises(ValueError, match="unknown objective"):
    models.build_model(objective="C")
  with pytest.raises(ValueError, match="latent_dim must be > 0"):
    models.build_model(latent_dim=0)
  with pytest.raises(ValueError, match="64x64"):
    models.build_model("conv", image_shape=(32, 32, 1))


def test_mixed_float16_loss_scaler_skips_overflowing_steps():
  keras.mixed_precision.set_dtype_policy("mixed_float16")
  try:
    model = _model()
  finally:
    keras.mixed_precision.set_dtype_policy("float32")
  optimizer = model.optimizer  # compile wrapped it in a LossScaleOptimizer
  assert type(optimizer).__name__ == "LossScaleOptimizer"
  images = tf.constant(_images(4))
  step_fn = tf.function(model.train_step)
  before = [v.numpy().copy() for v in model.trainable_variables]
  optimizer.dynamic_scale.assign(2.0 ** 40)  # scaled gradients overflow
  step_fn(images)
  assert all(np.array_equal(a, v.numpy())
             for a, v in zip(before, model.trainable_variables))
  assert float(optimizer.dynamic_scale) == 2.0 ** 39  # halved, step skipped
  assert int(optimizer.iterations.numpy()) == 0
  optimizer.dynamic_scale.assign(1.0)  # no overflow: the step applies
  step_fn(images)
  assert not all(np.array_equal(a, v.numpy())
                 for a, v in zip(before, model.trainable_variables))
  assert int(optimizer.iterations.numpy()) == 1


def test_vector_mean_get_config_round_trip():
  metric = models.beta_vae.VectorMean(3, "kl_latent")
  clone = models.beta_vae.VectorMean.from_config(metric.get_config())
  assert clone.get_config() == metric.get_config()
  assert clone.name == metric.name == "kl_latent"
  values = np.arange(12, dtype=np.float32).reshape(4, 3)
  metric.update_state(values)
  for source, target in zip(metric.variables, clone.variables):
    target.assign(source)
  result = {k: float(v) for k, v in metric.result().items()}
  assert result == {k: float(v) for k, v in clone.result().items()}
  assert result == {"kl_latent_0": 4.5, "kl_latent_1": 5.5, "kl_latent_2": 6.5}


@pytest.mark.parametrize("arch, settings", [
    ("conv", dict(objective="H", beta=8.0, seed=5, beta_hold_steps=100,
                  beta_warmup_steps=300)),
    ("mlp", dict(objective="B", gamma=100.0, capacity_max=12.0,
                 capacity_steps=500, likelihood="gaussian",
                 gaussian_stddev=0.5, image_shape=(8, 8, 3))),
])
def test_beta_vae_get_config_round_trip(arch, settings):
  keras.utils.set_random_seed(0)
  model = models.build_model(arch, latent_dim=4, **settings)
  config = model.get_config()
  clone = models.BetaVAE.from_config(config)
  assert clone.get_config() == config
  for layer in ("encoder", "decoder"):
    original, rebuilt = getattr(model, layer), getattr(clone, layer)
    assert type(rebuilt) is type(original)
    assert rebuilt.get_config() == original.get_config()
  for name in ("latent_dim", "likelihood_name", "objective", "beta", "gamma",
               "capacity_max", "capacity_steps", "gaussian_stddev", "seed",
               "image_shape", "beta_hold_steps", "beta_warmup_steps"):
    assert getattr(clone, name) == getattr(model, name), name
  assert type(clone.likelihood) is type(model.likelihood)
  # Same weights, same reconstructions and posteriors.
  images = np.random.RandomState(2).uniform(
      size=(3,) + model.image_shape).astype(np.float32)
  clone(images)
  clone.set_weights(model.get_weights())
  np.testing.assert_allclose(clone(images), model(images), atol=1e-6)
  for got, want in zip(clone.encode(images), model.encode(images)):
    np.testing.assert_allclose(got, want, atol=1e-6)
  assert float(clone.capacity(250)) == float(model.capacity(250))
