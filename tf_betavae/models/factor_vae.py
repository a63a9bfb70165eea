"""FactorVAE (Kim & Mnih 2018): the ELBO plus γ times a discriminator's
estimate of the total correlation.

Each step trains two networks on one batch, as disentanglement_lib does:

* the VAE (the model's optimizer) on recon + KL + γ·(logit_0 − logit_1),
  the discriminator's log density ratio of q(z) to Π_d q(z_d) on the
  posterior samples z;
* the discriminator (its own Adam: learning rate 1e-4, β1 = 0.5,
  β2 = 0.9; the fused update of tf_betavae.models.fused_adam, since Keras'
  elementwise update of its 5 million weights dominates the step on a
  CPU) on the cross-entropy of z (class 0) against permute_dims(z)
  (class 1: every latent shuffled across the batch on its own).

Both gradients come from one forward pass of the discriminator on
[z, permuted z], and both updates use the weights from before the step.
Under a tf.distribute strategy the permutation is drawn over the gathered
global batch (the same seed on every replica), so a run on several replicas
follows the single-device run.
"""

import keras
import tensorflow as tf

from tf_betavae.models import beta_vae
from tf_betavae.models import discriminator as discriminator_lib
from tf_betavae.models import fused_adam
from tf_betavae.models import regularizers
from tf_betavae.models import replicas

# Stateless-seed offsets of the step's random draws (see BetaVAE._step_seed:
# 0 and 1 are the latent samples of train_step and test_step).
_PERMUTATION_SEED = 2


def make_discriminator_optimizer(learning_rate):
  """Kim & Mnih's discriminator optimizer, loss-scaled under float16."""
  optimizer = fused_adam.FusedAdam(learning_rate, beta_1=0.5, beta_2=0.9)
  if keras.mixed_precision.dtype_policy().name == "mixed_float16":
    optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
  return optimizer


@keras.saving.register_keras_serializable(package="tf_betavae")
class FactorVAE(beta_vae.BetaVAE):
  """recon + KL + γ · TC_discriminator, per example in nats, batch mean.

  Args:
    encoder, decoder, latent_dim, **kwargs: as BetaVAE (objective H; beta
      is not read).
    factor_gamma: float >= 0, γ (Kim & Mnih: 35 on dSprites; the study's
      grid 10..100).
    discriminator_learning_rate: float > 0 (1e-4).
    discriminator: a Discriminator layer, or None for the standard one.
  """

  METHOD_TRACKERS = ("total_correlation", "discriminator_loss",
                     "discriminator_accuracy")

  def __init__(self, encoder, decoder, latent_dim, factor_gamma=10.0,
               discriminator_learning_rate=1e-4, discriminator=None,
               **kwargs):
    if kwargs.get("objective", "H") != "H":
      raise ValueError("FactorVAE has no objective B")
    if not factor_gamma >= 0:
      raise ValueError(f"factor_gamma must be >= 0, got {factor_gamma}")
    if not discriminator_learning_rate > 0:
      raise ValueError("discriminator_learning_rate must be > 0, got "
                       f"{discriminator_learning_rate}")
    super().__init__(encoder, decoder, latent_dim, **kwargs)
    self.factor_gamma = float(factor_gamma)
    self.discriminator_learning_rate = float(discriminator_learning_rate)
    self.discriminator = (discriminator if discriminator is not None else
                          discriminator_lib.Discriminator(
                              name="discriminator"))
    self.discriminator_optimizer = make_discriminator_optimizer(
        self.discriminator_learning_rate)

  @property
  def method(self):
    return "factor_vae"

  @property
  def checkpointed_optimizers(self):
    return {"optimizer": self.optimizer,
            "discriminator_optimizer": self.discriminator_optimizer}

  def build(self, input_shape):
    super().build(input_shape)
    self.discriminator.build((None, self.latent_dim))

  def build_optimizers(self):
    super().build_optimizers()
    self.discriminator_optimizer.build(
        self.discriminator.trainable_variables)

  def _step_losses(self, images, seed, training):
    """The step's losses and tracked values.

    Returns:
      (vae_loss, discriminator_loss, terms, tracked): float32 scalars, the
      compute_terms dict and {METHOD_TRACKERS name: float32 scalar}.
    """
    terms = self.compute_terms(images, seed, training=training)
    latents = terms["latents"]
    local_batch = tf.shape(latents)[0]
    # The permutation mixes the whole global batch; no gradient flows into
    # the VAE through the discriminator's training data.
    permuted = replicas.local_slice(
        regularizers.permute_dims(
            replicas.gather_global_batch(tf.stop_gradient(latents)),
            self._step_seed(_PERMUTATION_SEED)),
        local_batch)
    logits = self.discriminator(tf.concat([latents, permuted], axis=0),
                                training=training)
    real_logits, permuted_logits = logits[:local_batch], logits[local_batch:]
    total_correlation = tf.reduce_mean(
        regularizers.discriminator_total_correlation(real_logits))
    vae_loss = (tf.reduce_mean(terms["reconstruction"]) +
                tf.reduce_mean(terms["kl"]) +
                self.factor_gamma * total_correlation)
    discriminator_loss, accuracy = regularizers.discriminator_loss(
        real_logits, permuted_logits)
    tracked = {"total_correlation": total_correlation,
               "discriminator_loss": discriminator_loss,
               "discriminator_accuracy": accuracy}
    return vae_loss, discriminator_loss, terms, tracked

  def regularized_loss(self, terms, step):
    raise NotImplementedError(
        "FactorVAE's loss needs the discriminator's pass; see train_step")

  def train_step(self, data):
    """One step of the VAE and one of the discriminator on a batch.

    Args:
      data: images float32 [batch, H, W, C] in [0, 1] (or a tuple whose
        first element they are).

    Returns:
      dict of the running metrics: loss (the VAE's), reconstruction, kl,
      kl_latent_<i> (nats), total_correlation (nats, the discriminator's
      estimate), discriminator_loss (nats), discriminator_accuracy.
    """
    images = data[0] if isinstance(data, (tuple, list)) else data
    step = self.optimizer.iterations
    count = replicas.num_replicas()
    with tf.GradientTape(persistent=True) as tape:
      vae_loss, discriminator_loss, terms, tracked = self._step_losses(
          images, self._step_seed(0), training=True)
      scaled_vae_loss = self.optimizer.scale_loss(vae_loss / count)
      scaled_discriminator_loss = self.discriminator_optimizer.scale_loss(
          discriminator_loss / count)
    self._update_trackers(vae_loss, terms, step, tracked)
    vae_variables = self.vae_variables
    discriminator_variables = self.discriminator.trainable_variables
    vae_gradients = tape.gradient(scaled_vae_loss, vae_variables)
    discriminator_gradients = tape.gradient(scaled_discriminator_loss,
                                            discriminator_variables)
    del tape
    self.optimizer.apply_gradients(zip(vae_gradients, vae_variables))
    self.discriminator_optimizer.apply_gradients(
        zip(discriminator_gradients, discriminator_variables))
    return self.get_metrics_result()

  def test_step(self, data):
    """The metrics of train_step on a batch, without an update."""
    images = data[0] if isinstance(data, (tuple, list)) else data
    vae_loss, _, terms, tracked = self._step_losses(images, self._step_seed(1),
                                               training=False)
    self._update_trackers(vae_loss, terms, self.optimizer.iterations,
                          tracked)
    return self.get_metrics_result()

  def get_config(self):
    config = super().get_config()
    config.update(
        factor_gamma=self.factor_gamma,
        discriminator_learning_rate=self.discriminator_learning_rate,
        discriminator=keras.saving.serialize_keras_object(
            self.discriminator))
    return config

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    config["discriminator"] = keras.saving.deserialize_keras_object(
        config["discriminator"])
    return super().from_config(config)
