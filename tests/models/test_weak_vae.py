"""The weakly-supervised VAEs: the adaptive threshold on a known answer, the
objective against a float64 numpy computation, the training step."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tf_betavae import models
from tf_betavae.data import ground_truth_data
from tf_betavae.models import methods
from tf_betavae.models import weak_vae

tfd = tfp.distributions
WEAK = ("group_vae", "ml_vae", "ada_gvae", "ada_ml_vae")
_SEED = tf.constant([3, 7])


class _BinaryFactors(ground_truth_data.GroundTruthData):
  """Six binary factors; the observation is the factor vector itself."""

  factor_names = tuple("abcdef")
  factors_num_values = [2] * 6
  num_factors = 6
  observation_shape = (1, 1, 6)

  def sample_factors(self, num, random_state):
    return ground_truth_data.sample_uniform_factors(self.factors_num_values,
                                                    num, random_state)

  def sample_observations_from_factors(self, factors, random_state=None):
    return np.asarray(factors, np.float32).reshape(-1, 1, 1, 6)


def _synthetic_posterior(factors, extra_latents=3):
  """A posterior that encodes factor j in latent j (mean 4 * value, std 1),
  and nothing in ``extra_latents`` more latents (mean 0, std 1)."""
  mean = np.concatenate([4.0 * factors,
                         np.zeros((len(factors), extra_latents))], axis=1)
  return mean.astype(np.float32), np.ones_like(mean, np.float32)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6, ground_truth_data.K_RANDOM])
def test_the_adaptive_threshold_finds_exactly_the_factors_a_pair_changed(k):
  gt = _BinaryFactors()
  pairs = gt.sample_factor_pairs(500, k, np.random.RandomState(k + 3))
  mean_1, std_1 = _synthetic_posterior(pairs.first)
  mean_2, std_2 = _synthetic_posterior(pairs.second)
  kl = tfd.kl_divergence(tfd.Normal(mean_1, std_1), tfd.Normal(mean_2, std_2))
  changed = weak_vae.changed_by_kl(kl).numpy()
  # A redrawn factor may keep its value: what changed is what differs.
  differs = pairs.first != pairs.second
  np.testing.assert_array_equal(changed[:, :6], differs)
  assert not changed[:, 6:].any()
  # Both outcomes occur, so the check above is not vacuous.
  assert differs.any() and (~differs.any(axis=1)).any()


def test_the_threshold_is_halfway_and_the_midpoint_counts_as_changed():
  kl = tf.constant([[0.0, 1.0, 2.0, 0.99],   # threshold 1: 1 and 2
                    [3.0, 3.0, 3.0, 3.0],    # all equal: all shared
                    [1.0, 5.0, 2.9, 3.0]])   # threshold 3
  np.testing.assert_array_equal(weak_vae.changed_by_kl(kl).numpy(), [
      [False, True, True, False], [False] * 4, [False, True, False, True]])


def test_labels_mark_one_latent_changed():
  np.testing.assert_array_equal(
      weak_vae.changed_by_label(tf.constant([0, 2]), 3).numpy(),
      [[True, False, False], [False, False, True]])


def _model(method, latent_dim=4, beta=3.0):
  keras.utils.set_random_seed(1)
  model = models.build_model("mlp", latent_dim=latent_dim,
                             image_shape=(8, 8, 1), method=method, beta=beta)
  model.compile(optimizer=keras.optimizers.Adam(1e-3))
  model.build_optimizers()
  return model


def _pairs(batch=6, seed=0):
  rng = np.random.RandomState(seed)
  first = (rng.rand(batch, 8, 8, 1) < 0.3).astype(np.float32)
  second = first.copy()
  second[:, :4] = (rng.rand(batch, 4, 8, 1) < 0.3)
  return (tf.constant(np.stack([first, second], axis=1)),
          tf.constant(rng.randint(0, 4, size=batch), tf.int32))


def _reference_loss(model, pairs, labels, terms, method):
  """The objective in float64 numpy from the encoder's and decoder's
  outputs (the latent samples are the model's own)."""
  aggregate, sharing = weak_vae.SETTINGS_OF[method]
  posterior = []
  for o in (0, 1):
    mean, log_variance = model.encoder(pairs[:, o])
    posterior.append((mean.numpy().astype(np.float64),
                      np.exp(log_variance.numpy().astype(np.float64))))
  (m1, v1), (m2, v2) = posterior
  pair_kl = 0.5 * (v1 / v2 + (m2 - m1) ** 2 / v2 - 1 + np.log(v2 / v1))
  if sharing == "adaptive":
    top, bottom = pair_kl.max(1, keepdims=True), pair_kl.min(1, keepdims=True)
    changed = (pair_kl >= (top + bottom) / 2) & (top > bottom)
  else:
    changed = np.eye(m1.shape[1], dtype=bool)[labels.numpy()]
  if aggregate == "average":
    shared_m, shared_v = (m1 + m2) / 2, (v1 + v2) / 2
  else:
    shared_v = 2 * v1 * v2 / (v1 + v2)
    shared_m = (m1 / v1 + m2 / v2) * shared_v / 2
  reconstruction, kl = 0.0, 0.0
  for o, (m, v) in enumerate(posterior):
    qm = np.where(changed, m, shared_m)
    qv = np.where(changed, v, shared_v)
    np.testing.assert_allclose(terms[f"shared_mean_{o + 1}"], qm, rtol=1e-5,
                               atol=1e-6)
    kl = kl + 0.5 * np.sum(qv + qm ** 2 - 1 - np.log(qv), axis=1)
    logits = model.decoder(terms[f"latents_{o + 1}"]).numpy().astype(
        np.float64).reshape(len(m), -1)
    x = pairs[:, o].numpy().astype(np.float64).reshape(len(m), -1)
    reconstruction = reconstruction + np.sum(
        np.logaddexp(0, logits) - x * logits, axis=1)
  np.testing.assert_array_equal(terms["changed"].numpy(), changed)
  return np.mean(reconstruction / 2) + model.beta * np.mean(kl / 2)


@pytest.mark.parametrize("method", WEAK)
def test_the_objective_matches_a_float64_computation(method):
  model = _model(method)
  pairs, labels = _pairs()
  terms = model.pair_terms(pairs, labels, _SEED)
  loss = float(model.pair_loss(terms))
  expected = _reference_loss(model, pairs, labels, terms, method)
  assert loss == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("method", ["ada_gvae", "group_vae"])
def test_shared_latents_take_one_value_for_both_observations(method):
  model = _model(method)
  pairs, labels = _pairs(seed=4)
  terms = model.pair_terms(pairs, labels, _SEED)
  shared = ~terms["changed"].numpy()
  assert shared.any()
  np.testing.assert_array_equal(terms["shared_mean_1"].numpy()[shared],
                                terms["shared_mean_2"].numpy()[shared])
  # Changed latents keep each observation's own posterior.
  changed = ~shared
  np.testing.assert_array_equal(terms["shared_mean_1"].numpy()[changed],
                                terms["mean_1"].numpy()[changed])


def test_each_weak_method_builds_its_model_and_config_round_trips():
  for method in WEAK:
    model = _model(method)
    assert type(model) is weak_vae.WeakVAE  # pylint: disable=unidiomatic-typecheck
    assert model.method == method
    assert methods.is_weak(method)
    clone = weak_vae.WeakVAE.from_config(model.get_config())
    assert (clone.aggregate, clone.sharing) == weak_vae.SETTINGS_OF[method]


def test_a_training_step_lowers_the_loss_on_one_batch():
  model = _model("ada_gvae", beta=1.0)
  pairs, labels = _pairs(batch=16, seed=2)
  first = float(model.pair_loss(model.pair_terms(pairs, labels, _SEED)))
  step = tf.function(model.train_step)
  for _ in range(30):
    logs = step((pairs, labels))
  last = float(model.pair_loss(model.pair_terms(pairs, labels, _SEED)))
  assert last < first
  assert 0 <= float(logs["changed_latents"]) <= 4
  assert int(model.optimizer.iterations) == 30


def test_single_images_are_refused_by_the_pair_step():
  model = _model("ada_gvae")
  with pytest.raises(ValueError, match="pairs"):
    model.train_step(tf.zeros([2, 8, 8, 1]))


def test_bad_aggregate_and_sharing_are_refused():
  with pytest.raises(ValueError, match="aggregate"):
    weak_vae.aggregate(1.0, 1.0, 1.0, 1.0, "median")
  encoder = models.MlpEncoder(2)
  decoder = models.MlpDecoder(image_shape=(8, 8, 1))
  with pytest.raises(ValueError, match="sharing"):
    weak_vae.WeakVAE(encoder, decoder, 2, sharing="oracle")
