"""Encoders: images -> parameters of a diagonal-Gaussian posterior q(z|x)."""

import keras
from keras import layers
from keras import ops


@keras.saving.register_keras_serializable(package="tf_betavae")
class ConvEncoder(layers.Layer):
  """The β-VAE convolutional encoder for 64x64 images (Burgess et al. 2018).

  Four 4x4 stride-2 convolutions (32, 32, 64, 64 filters, ReLU), Dense 256
  ReLU, and a Dense head giving the posterior mean and log-variance.

  Call: images float32 [batch, 64, 64, channels] in [0, 1] ->
  (mean, log_variance), each float32 [batch, latent_dim].
  """

  def __init__(self, latent_dim=10, filters=(32, 32, 64, 64), hidden_units=256,
               **kwargs):
    super().__init__(**kwargs)
    self.latent_dim = int(latent_dim)
    self.filters = tuple(int(f) for f in filters)
    self.hidden_units = int(hidden_units)
    self.convs = [
        layers.Conv2D(f, 4, strides=2, padding="same", activation="relu",
                      name=f"conv_{i}") for i, f in enumerate(self.filters)
    ]
    self.flatten = layers.Flatten()
    self.hidden = layers.Dense(self.hidden_units, activation="relu",
                               name="hidden")
    self.head = layers.Dense(2 * self.latent_dim, name="posterior_params")

  def build(self, input_shape):
    if tuple(input_shape[1:3]) != (64, 64):
      raise ValueError(
          f"ConvEncoder takes 64x64 images, got input shape {input_shape}; "
          "resize the data to 64x64 or use the 'mlp' architecture")
    shape = input_shape
    for conv in self.convs:
      conv.build(shape)
      shape = conv.compute_output_shape(shape)
    shape = self.flatten.compute_output_shape(shape)
    self.hidden.build(shape)
    self.head.build((shape[0], self.hidden_units))

  def call(self, images):
    x = images
    for conv in self.convs:
      x = conv(x)
    x = self.hidden(self.flatten(x))
    params = self.head(x)
    mean, log_variance = ops.split(params, 2, axis=-1)
    return mean, log_variance

  def get_config(self):
    config = super().get_config()
    config.update(latent_dim=self.latent_dim, filters=list(self.filters),
                  hidden_units=self.hidden_units)
    return config


@keras.saving.register_keras_serializable(package="tf_betavae")
class MlpEncoder(layers.Layer):
  """The paper's 2D-shapes encoder: two Dense 1200 ReLU layers and a head.

  Call: images float32 [batch, height, width, channels] in [0, 1] ->
  (mean, log_variance), each float32 [batch, latent_dim].
  """

  def __init__(self, latent_dim=10, hidden_units=(1200, 1200), **kwargs):
    super().__init__(**kwargs)
    self.latent_dim = int(latent_dim)
    self.hidden_units = tuple(int(u) for u in hidden_units)
    self.flatten = layers.Flatten()
    self.hidden = [
        layers.Dense(u, activation="relu", name=f"hidden_{i}")
        for i, u in enumerate(self.hidden_units)
    ]
    self.head = layers.Dense(2 * self.latent_dim, name="posterior_params")

  def build(self, input_shape):
    shape = self.flatten.compute_output_shape(input_shape)
    for dense in self.hidden:
      dense.build(shape)
      shape = (shape[0], dense.units)
    self.head.build(shape)

  def call(self, images):
    x = self.flatten(images)
    for dense in self.hidden:
      x = dense(x)
    mean, log_variance = ops.split(self.head(x), 2, axis=-1)
    return mean, log_variance

  def get_config(self):
    config = super().get_config()
    config.update(latent_dim=self.latent_dim,
                  hidden_units=list(self.hidden_units))
    return config
