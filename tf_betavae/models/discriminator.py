"""FactorVAE's discriminator: an MLP on latent codes with two logits."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tf_betavae")
class Discriminator(keras.layers.Layer):
  """Tells samples of q(z) (logit 0) from samples of Π_d q(z_d) (logit 1).

  disentanglement_lib's FactorVAE discriminator: ``hidden_layers`` dense
  layers of ``hidden_units`` leaky-ReLU units (slope 0.2), then 2 logits.

  Args:
    hidden_units: int > 0 (1000).
    hidden_layers: int > 0 (6).
    **kwargs: forwarded to keras.layers.Layer (name, dtype, ...).

  Call:
    latents float [batch, latent_dim] -> logits float32 [batch, 2].
  """

  def __init__(self, hidden_units=1000, hidden_layers=6, **kwargs):
    super().__init__(**kwargs)
    if int(hidden_units) <= 0 or int(hidden_layers) <= 0:
      raise ValueError("hidden_units and hidden_layers must be > 0, got "
                       f"{hidden_units} and {hidden_layers}")
    self.hidden_units = int(hidden_units)
    self.hidden_layers = int(hidden_layers)
    self.hidden = [
        keras.layers.Dense(self.hidden_units, name=f"hidden_{i}",
                           dtype=self.dtype_policy)
        for i in range(self.hidden_layers)]
    self.logits = keras.layers.Dense(2, name="logits",
                                     dtype=self.dtype_policy)

  def build(self, input_shape):
    shape = tuple(input_shape)
    for layer in self.hidden:
      layer.build(shape)
      shape = shape[:-1] + (self.hidden_units,)
    self.logits.build(shape)

  def call(self, latents):
    x = latents
    for layer in self.hidden:
      x = tf.nn.leaky_relu(layer(x), alpha=0.2)
    return tf.cast(self.logits(x), tf.float32)

  def get_config(self):
    config = super().get_config()
    config.update(hidden_units=self.hidden_units,
                  hidden_layers=self.hidden_layers)
    return config
