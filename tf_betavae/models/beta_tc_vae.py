"""β-TCVAE (Chen et al. 2018): the ELBO plus (β − 1) times the total
correlation of the aggregate posterior.

The KL term of the ELBO splits into index-code mutual information, total
correlation and dimension-wise KL; β-TCVAE weights only the total
correlation by β (so β = 1 is the plain VAE).  The TC is estimated on each
(global) batch by minibatch-weighted sampling
(tf_betavae.models.regularizers.total_correlation_mws).
"""

import keras
import tensorflow as tf

from tf_betavae.models import beta_vae
from tf_betavae.models import regularizers
from tf_betavae.models import replicas


@keras.saving.register_keras_serializable(package="tf_betavae")
class BetaTCVAE(beta_vae.BetaVAE):
  """recon + KL + (β − 1) · TC, per example in nats, batch mean.

  Args:
    encoder, decoder, latent_dim, **kwargs: as BetaVAE; ``beta`` is the TC
      weight plus one (>= 0; Chen et al. use 6 on dSprites), ``objective``
      must be H.
  """

  METHOD_TRACKERS = ("total_correlation",)

  def __init__(self, encoder, decoder, latent_dim, **kwargs):
    if kwargs.get("objective", "H") != "H":
      raise ValueError("β-TCVAE has no objective B")
    super().__init__(encoder, decoder, latent_dim, **kwargs)

  @property
  def method(self):
    return "beta_tc_vae"

  def regularized_loss(self, terms, step):
    """recon + KL + (β − 1)·TC; tracks total_correlation (nats)."""
    del step
    total_correlation = regularizers.total_correlation_mws(
        replicas.gather_global_batch(terms["latents"]),
        replicas.gather_global_batch(terms["mean"]),
        replicas.gather_global_batch(terms["log_variance"]))
    loss = (tf.reduce_mean(terms["reconstruction"]) +
            tf.reduce_mean(terms["kl"]) +
            (self.beta - 1.0) * total_correlation)
    return loss, {"total_correlation": total_correlation}
