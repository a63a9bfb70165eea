"""DIP-VAE-I and DIP-VAE-II (Kumar et al. 2018): the ELBO plus a penalty
that pushes a covariance matrix of the latents towards the identity.

DIP-VAE-I penalises the covariance of the posterior means, Cov[μ];
DIP-VAE-II the covariance of the aggregate posterior, E[diag σ²] + Cov[μ].
The penalty is λ_od · Σ_{i≠j} C_ij² + λ_d · Σ_i (C_ii − 1)², computed on
each (global) batch (tf_betavae.models.regularizers).
"""

import keras
import tensorflow as tf

from tf_betavae.models import beta_vae
from tf_betavae.models import methods
from tf_betavae.models import regularizers
from tf_betavae.models import replicas

DIP_TYPES = ("i", "ii")


@keras.saving.register_keras_serializable(package="tf_betavae")
class DIPVAE(beta_vae.BetaVAE):
  """recon + KL + DIP penalty, per example in nats, batch mean.

  Args:
    encoder, decoder, latent_dim, **kwargs: as BetaVAE (objective H; beta
      is not read).
    dip_type: 'i' (Cov[μ]) or 'ii' (E[diag σ²] + Cov[μ]).
    lambda_od: float >= 0, the off-diagonal weight (Kumar et al.: 10 on
      dSprites).
    lambda_d_factor: float >= 0 or None; λ_d = lambda_d_factor · λ_od;
      None: 10 for 'i', 1 for 'ii' (disentanglement_lib's study).
  """

  METHOD_TRACKERS = ("dip_off_diagonal", "dip_diagonal")

  def __init__(self, encoder, decoder, latent_dim, dip_type="i",
               lambda_od=10.0, lambda_d_factor=None, **kwargs):
    if dip_type not in DIP_TYPES:
      raise ValueError(f"dip_type must be 'i' or 'ii', got {dip_type!r}")
    if kwargs.get("objective", "H") != "H":
      raise ValueError("DIP-VAE has no objective B")
    if not lambda_od >= 0:
      raise ValueError(f"lambda_od must be >= 0, got {lambda_od}")
    factor = methods.lambda_d_factor(f"dip_vae_{dip_type}", lambda_d_factor)
    if not factor >= 0:
      raise ValueError(f"lambda_d_factor must be >= 0, got {factor}")
    super().__init__(encoder, decoder, latent_dim, **kwargs)
    self.dip_type = dip_type
    self.lambda_od = float(lambda_od)
    self.lambda_d_factor = factor
    self.lambda_d = factor * self.lambda_od

  @property
  def method(self):
    return f"dip_vae_{self.dip_type}"

  def covariance(self, mean, log_variance):
    """The penalised covariance, float32 [D, D], of [batch, D] posteriors."""
    if self.dip_type == "i":
      return regularizers.dip_i_covariance(mean)
    return regularizers.dip_ii_covariance(mean, log_variance)

  def regularized_loss(self, terms, step):
    """recon + KL + penalty; tracks the unweighted off-diagonal and
    diagonal sums of squares."""
    del step
    covariance = self.covariance(
        replicas.gather_global_batch(terms["mean"]),
        replicas.gather_global_batch(terms["log_variance"]))
    penalty, off_diagonal, diagonal = regularizers.dip_penalty(
        covariance, self.lambda_od, self.lambda_d)
    loss = (tf.reduce_mean(terms["reconstruction"]) +
            tf.reduce_mean(terms["kl"]) + penalty)
    return loss, {"dip_off_diagonal": off_diagonal, "dip_diagonal": diagonal}

  def get_config(self):
    config = super().get_config()
    config.update(dip_type=self.dip_type, lambda_od=self.lambda_od,
                  lambda_d_factor=self.lambda_d_factor)
    return config
