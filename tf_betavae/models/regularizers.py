"""The regularisers of the methods that followed β-VAE, as pure functions.

Every function takes float32 tensors of one (global) batch and returns
float32 tensors; the methods (tf_betavae.models.methods) add them to the
negative ELBO.  Units are nats unless said otherwise.

* β-TCVAE (Chen et al. 2018): ``total_correlation_mws``, the total
  correlation KL(q(z) || Π_d q(z_d)) of the aggregate posterior, estimated
  on a minibatch by minibatch-weighted sampling.
* DIP-VAE (Kumar et al. 2018): ``dip_i_covariance`` (Cov[μ]),
  ``dip_ii_covariance`` (E[diag σ²] + Cov[μ]) and ``dip_penalty`` (the
  squared off-diagonal entries and the diagonal's distance from 1).
* FactorVAE (Kim & Mnih 2018): ``permute_dims`` (samples of Π_d q(z_d)),
  ``discriminator_total_correlation`` (the density-ratio TC estimate from
  the discriminator's logits) and ``discriminator_loss``.
"""

import math

import tensorflow as tf

_LOG_2PI = math.log(2.0 * math.pi)


def gaussian_log_density(samples, mean, log_variance):
  """log N(samples; mean, exp(log_variance)), elementwise (broadcasting).

  Args:
    samples, mean, log_variance: float32 tensors that broadcast together.

  Returns:
    float32 tensor of the broadcast shape, nats.
  """
  inverse_variance = tf.exp(-log_variance)
  squared = tf.square(samples - mean)
  return -0.5 * (_LOG_2PI + log_variance + squared * inverse_variance)


def total_correlation_mws(latents, mean, log_variance, dataset_size=None):
  """Minibatch-weighted-sampling estimate of the total correlation.

  With z_i ~ q(z|x_i) for the M examples of the batch, the aggregate
  posterior and its marginals at z_i are estimated from the batch:
  log q(z_i) ≈ logsumexp_j log q(z_i|x_j) − log(N·M) and
  log q(z_id) ≈ logsumexp_j log q(z_id|x_jd) − log(N·M); the estimate is
  the batch mean of log q(z_i) − Σ_d log q(z_id).

  ``dataset_size`` N: None treats the batch as the whole data (N = 1): for
  latents whose aggregate posterior is a product of its marginals the
  estimate then tends to 0 as M grows, and it is positive for dependent
  latents.  Chen et al. use the dataset size; disentanglement_lib drops the
  log(N·M) terms.  All three differ by the constant (D − 1)·log(N·M), so
  their gradients are identical.

  Args:
    latents: float32 [batch, D], samples z_i ~ q(z|x_i).
    mean, log_variance: float32 [batch, D], the posteriors' parameters.
    dataset_size: int or None, N.

  Returns:
    float32 scalar, nats.
  """
  batch = tf.cast(tf.shape(latents)[0], tf.float32)
  log_normaliser = tf.math.log(batch)
  if dataset_size is not None:
    log_normaliser += math.log(float(dataset_size))
  # [i, j, d]: log q(z_id | x_j).
  log_density = gaussian_log_density(latents[:, None, :], mean[None, :, :],
                                     log_variance[None, :, :])
  log_joint = tf.reduce_logsumexp(tf.reduce_sum(log_density, axis=2),
                                  axis=1) - log_normaliser
  log_marginals = tf.reduce_sum(
      tf.reduce_logsumexp(log_density, axis=1) - log_normaliser, axis=1)
  return tf.reduce_mean(log_joint - log_marginals)


def latent_mean_covariance(mean):
  """Cov[μ] over the batch: E[μ μᵀ] − E[μ] E[μ]ᵀ (the biased estimate).

  Args:
    mean: float32 [batch, D], posterior means.

  Returns:
    float32 [D, D].
  """
  average = tf.reduce_mean(mean, axis=0, keepdims=True)
  centred = mean - average
  batch = tf.cast(tf.shape(mean)[0], mean.dtype)
  return tf.matmul(centred, centred, transpose_a=True) / batch


def dip_i_covariance(mean):
  """DIP-VAE-I: the covariance of the posterior means, float32 [D, D]."""
  return latent_mean_covariance(mean)


def dip_ii_covariance(mean, log_variance):
  """DIP-VAE-II: the covariance of the aggregate posterior,
  E_x[diag σ²(x)] + Cov_x[μ(x)], float32 [D, D].

  Args:
    mean, log_variance: float32 [batch, D].
  """
  expected_variance = tf.reduce_mean(tf.exp(log_variance), axis=0)
  return tf.linalg.diag(expected_variance) + latent_mean_covariance(mean)


def dip_penalty(covariance, lambda_od, lambda_d):
  """DIP-VAE's penalty on a covariance matrix.

  λ_od · Σ_{i≠j} C_ij² + λ_d · Σ_i (C_ii − 1)².

  Args:
    covariance: float32 [D, D].
    lambda_od, lambda_d: float >= 0, weights of the off-diagonal and
      diagonal terms.

  Returns:
    (penalty, off_diagonal, diagonal): float32 scalars; off_diagonal and
    diagonal are the unweighted sums of squares.
  """
  diagonal = tf.linalg.diag_part(covariance)
  off_diagonal = covariance - tf.linalg.diag(diagonal)
  off_diagonal_sum = tf.reduce_sum(tf.square(off_diagonal))
  diagonal_sum = tf.reduce_sum(tf.square(diagonal - 1.0))
  penalty = lambda_od * off_diagonal_sum + lambda_d * diagonal_sum
  return penalty, off_diagonal_sum, diagonal_sum


def permute_dims(latents, seed):
  """Samples of Π_d q(z_d): each column shuffled across the batch on its own.

  Args:
    latents: float [batch, D].
    seed: int32 [2], stateless seed; the same seed gives the same
      permutations.

  Returns:
    float [batch, D]: column d is a permutation of latents[:, d], with a
    different (independent) permutation per column.
  """
  batch = tf.shape(latents)[0]
  dims = tf.shape(latents)[1]
  # Sorting independent uniforms gives a uniform permutation per column.
  keys = tf.random.stateless_uniform(tf.stack([batch, dims]), seed)
  order = tf.argsort(keys, axis=0)  # [batch, D]
  return tf.transpose(tf.gather(tf.transpose(latents), tf.transpose(order),
                                batch_dims=1))


def discriminator_total_correlation(logits):
  """FactorVAE's TC estimate from the discriminator's logits on q(z) samples.

  With logit 0 for "a sample of q(z)" and logit 1 for "a sample of
  Π_d q(z_d)", logit_0 − logit_1 estimates log q(z) / Π_d q(z_d), whose
  mean over samples of q(z) is the total correlation.

  Args:
    logits: float32 [batch, 2], the discriminator on samples of q(z).

  Returns:
    float32 [batch], nats per example.
  """
  return logits[:, 0] - logits[:, 1]


def discriminator_loss(real_logits, permuted_logits):
  """Cross-entropy of the discriminator: class 0 for samples of q(z),
  class 1 for permuted samples, each half weighted 1/2.

  Args:
    real_logits: float32 [batch, 2], on samples of q(z).
    permuted_logits: float32 [batch', 2], on permute_dims samples.

  Returns:
    (loss, accuracy): float32 scalars; loss in nats, accuracy the fraction
    of both halves classified correctly (each half weighted 1/2).
  """
  real_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=tf.zeros(tf.shape(real_logits)[:1], tf.int32),
      logits=real_logits)
  permuted_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=tf.ones(tf.shape(permuted_logits)[:1], tf.int32),
      logits=permuted_logits)
  loss = 0.5 * (tf.reduce_mean(real_loss) + tf.reduce_mean(permuted_loss))
  real_correct = tf.cast(real_logits[:, 0] >= real_logits[:, 1], tf.float32)
  permuted_correct = tf.cast(permuted_logits[:, 1] > permuted_logits[:, 0],
                             tf.float32)
  accuracy = 0.5 * (tf.reduce_mean(real_correct) +
                    tf.reduce_mean(permuted_correct))
  return loss, accuracy
