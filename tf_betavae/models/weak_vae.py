"""Weakly-supervised VAEs on pairs of observations (Locatello et al. 2020).

A training example is a pair (x1, x2) of observations that share all but a
few factors of variation.  Both are encoded, giving diagonal Gaussians
q1 = q(z|x1) and q2 = q(z|x2); on the latents judged *shared* both are
replaced by one aggregate of the two, on the others each keeps its own:

* aggregate ``average`` (GVAE, Hosoya 2019): mean (μ1 + μ2) / 2, variance
  (σ1² + σ2²) / 2;
* aggregate ``product`` (ML-VAE, Bouchacourt et al. 2018): variance
  2 σ1² σ2² / (σ1² + σ2²), mean (μ1/σ1² + μ2/σ2²) · variance / 2 (the product
  of the two Gaussians, its variance doubled), as disentanglement_lib has it.

Which latents are shared:

* ``adaptive`` (Ada-GVAE, Ada-ML-VAE): per pair, δ_j = KL(q1_j || q2_j) for
  each latent j; latent j changed when δ_j >= (max δ + min δ) / 2 (the
  threshold halfway between the largest and the smallest per-dimension KL,
  disentanglement_lib's two equal-width bins), shared otherwise.  When all
  δ_j are equal every latent is shared (disentanglement_lib's binning divides
  by zero there and, on x86, falls in the shared bin too).
* ``labels`` (GVAE, ML-VAE as disentanglement_lib trains them): the pair's
  label l, the last factor its second observation redrew, marks latent l as
  changed and every other latent as shared.  It needs latent_dim >= the
  number of factors and labelled pairs (ground-truth data, not frames).

The objective per pair, in nats, averaged over the batch: the mean of the
two reconstruction terms plus β times the mean of KL(q̃1 || p) and
KL(q̃2 || p), where q̃1, q̃2 are the aggregated posteriors, each decoded from
its own reparameterised sample.  The posteriors are TFP
``MultivariateNormalDiag``\s, the KL terms ``tfd.kl_divergence``.

The model is a BetaVAE: it encodes one image as every method does, so its
export, metrics and pictures are those of every model.
"""

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tf_betavae.models import beta_vae

tfd = tfp.distributions

AGGREGATES = ("average", "product")
SHARINGS = ("adaptive", "labels")
# (aggregate, sharing) of each method name (tf_betavae.models.methods).
SETTINGS_OF = {
    "group_vae": ("average", "labels"),
    "ml_vae": ("product", "labels"),
    "ada_gvae": ("average", "adaptive"),
    "ada_ml_vae": ("product", "adaptive"),
}
METHOD_OF = {settings: name for name, settings in SETTINGS_OF.items()}


def changed_by_kl(kl_per_latent):
  """The adaptive choice of the latents a pair changed.

  Args:
    kl_per_latent: float [batch, D], δ_j of each pair, any scale (>= 0).

  Returns:
    bool [batch, D]: δ_j >= (max_j δ_j + min_j δ_j) / 2, all False in a row
    whose δ_j are all equal.
  """
  largest = tf.reduce_max(kl_per_latent, axis=1, keepdims=True)
  smallest = tf.reduce_min(kl_per_latent, axis=1, keepdims=True)
  threshold = 0.5 * (largest + smallest)
  return tf.logical_and(kl_per_latent >= threshold, largest > smallest)


def changed_by_label(labels, latent_dim):
  """bool [batch, D]: latent ``labels[i]`` of pair i changed, no other.

  Args:
    labels: int [batch] in [0, D).
    latent_dim: int D.
  """
  return tf.cast(tf.one_hot(labels, latent_dim), tf.bool)


def aggregate(mean_1, variance_1, mean_2, variance_2, how):
  """The shared posterior of a pair, per latent.

  Args:
    mean_1, variance_1, mean_2, variance_2: float [batch, D].
    how: "average" or "product" (see the module docstring).

  Returns:
    (mean [batch, D], variance [batch, D]).
  """
  if how == "average":
    return 0.5 * (mean_1 + mean_2), 0.5 * (variance_1 + variance_2)
  if how == "product":
    variance = 2.0 * variance_1 * variance_2 / (variance_1 + variance_2)
    mean = 0.5 * (mean_1 / variance_1 + mean_2 / variance_2) * variance
    return mean, variance
  raise ValueError(f"unknown aggregate {how!r}; choose one of {AGGREGATES}")


@keras.saving.register_keras_serializable(package="tf_betavae")
class WeakVAE(beta_vae.BetaVAE):
  """GVAE, ML-VAE and their adaptive versions on pairs of observations.

  Args:
    encoder, decoder, latent_dim, **kwargs: as BetaVAE (``beta`` is the KL
      weight; objective H only).
    aggregate: "average" (GVAE) or "product" (ML-VAE).
    sharing: "adaptive" (the Ada- methods) or "labels".
  """

  METHOD_TRACKERS = ("changed_latents",)

  def __init__(self, encoder, decoder, latent_dim, aggregate="average",
               sharing="adaptive", **kwargs):
    if kwargs.get("objective", "H") != "H":
      raise ValueError("the weakly-supervised VAEs have no objective B")
    super().__init__(encoder, decoder, latent_dim, **kwargs)
    if aggregate not in AGGREGATES:
      raise ValueError(f"unknown aggregate {aggregate!r}; choose one of "
                       f"{AGGREGATES}")
    if sharing not in SHARINGS:
      raise ValueError(f"unknown sharing {sharing!r}; choose one of "
                       f"{SHARINGS}")
    self.aggregate = aggregate
    self.sharing = sharing

  @property
  def method(self):
    return METHOD_OF[(self.aggregate, self.sharing)]

  def pair_terms(self, pairs, labels, seed, training=False):
    """The per-pair terms of the objective.

    Args:
      pairs: float [batch, 2, H, W, C] in [0, 1]; [:, 0] the first
        observation, [:, 1] the second.
      labels: int32 [batch], the factor each pair changed last (read by
        sharing "labels" only).
      seed: int32 [2], stateless seed of the two latent samples.
      training: bool.

    Returns:
      dict of float32 tensors: reconstruction [batch] and kl [batch] (the
      means over the pair's two observations, nats), kl_per_latent
      [batch, D] (mean of the two, nats), pair_kl [batch, D]
      (KL(q1_j || q2_j), nats), changed bool [batch, D], and per
      observation o in (1, 2): mean_o, variance_o (the encoder's) and
      shared_mean_o, shared_variance_o (after aggregation), latents_o
      [batch, D].
    """
    batch = tf.shape(pairs)[0]
    first, second = pairs[:, 0], pairs[:, 1]
    # One encoder call on both halves: one pass of the convolutions over
    # 2 * batch images is cheaper than two over batch each.
    posterior = self.posterior(tf.concat([first, second], axis=0),
                               training=training)
    mean = posterior.mean()
    variance = tf.square(posterior.stddev())
    mean_1, mean_2 = mean[:batch], mean[batch:]
    variance_1, variance_2 = variance[:batch], variance[batch:]
    pair_kl = tfd.kl_divergence(
        tfd.Normal(mean_1, tf.sqrt(variance_1)),
        tfd.Normal(mean_2, tf.sqrt(variance_2)))
    if self.sharing == "adaptive":
      changed = changed_by_kl(pair_kl)
    else:
      changed = changed_by_label(labels, self.latent_dim)
    shared_mean, shared_variance = aggregate(mean_1, variance_1, mean_2,
                                             variance_2, self.aggregate)
    terms = {"pair_kl": pair_kl, "changed": changed}
    reconstruction, kl, kl_per_latent, latents = [], [], [], []
    for o, (m, v, image) in enumerate(
        ((mean_1, variance_1, first), (mean_2, variance_2, second)), 1):
      q_mean = tf.where(changed, m, shared_mean)
      q_variance = tf.where(changed, v, shared_variance)
      q = tfd.MultivariateNormalDiag(loc=q_mean,
                                     scale_diag=tf.sqrt(q_variance))
      z = self._reparameterised_sample(
          q, tf.stack([seed[0], seed[1] * 2 + (o - 1)]))
      latents.append(z)
      kl.append(tfd.kl_divergence(q, self.prior()))
      kl_per_latent.append(tfd.kl_divergence(
          tfd.Normal(q_mean, tf.sqrt(q_variance)), tfd.Normal(0.0, 1.0)))
      terms.update({f"mean_{o}": m, f"variance_{o}": v,
                    f"shared_mean_{o}": q_mean,
                    f"shared_variance_{o}": q_variance, f"latents_{o}": z})
      reconstruction.append(image)
    # One decoder call on both samples, as for the encoder.
    params = tf.cast(self.decoder(tf.concat(latents, axis=0),
                                  training=training), tf.float32)
    images = tf.cast(tf.concat(reconstruction, axis=0), tf.float32)
    nll = self.likelihood.negative_log_likelihood(images, params)
    terms["reconstruction"] = 0.5 * (nll[:batch] + nll[batch:])
    terms["kl"] = 0.5 * (kl[0] + kl[1])
    terms["kl_per_latent"] = 0.5 * (kl_per_latent[0] + kl_per_latent[1])
    return terms

  def pair_loss(self, terms):
    """Batch-mean loss: reconstruction + β · KL of pair_terms (float32)."""
    return (tf.reduce_mean(terms["reconstruction"]) +
            self.beta * tf.reduce_mean(terms["kl"]))

  @staticmethod
  def _split(data):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
      raise ValueError("the weakly-supervised VAEs train on (pairs [batch, 2, "
                       "H, W, C], labels [batch]) batches")
    return data

  def step_terms(self, data, seed_offset, training):
    """The terms, loss and tracked values of a batch of pairs; BetaVAE's
    train_step and test_step run on it.

    Args:
      data: (pairs float32 [batch, 2, H, W, C] in [0, 1], labels int32
        [batch]).
      seed_offset: int, see BetaVAE._step_seed.
      training: bool.

    Returns:
      (pair_terms' dict, float32 scalar loss, {"changed_latents": float32
      [batch], the latents each pair changed}).
    """
    pairs, labels = self._split(data)
    terms = self.pair_terms(pairs, labels, self._step_seed(seed_offset),
                            training=training)
    changed = tf.reduce_sum(tf.cast(terms["changed"], tf.float32), axis=1)
    return terms, self.pair_loss(terms), {"changed_latents": changed}

  def get_config(self):
    config = super().get_config()
    config.update(aggregate=self.aggregate, sharing=self.sharing)
    return config
