"""Decoders: latents -> per-pixel parameters of the likelihood p(x|z)."""

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="tf_betavae")
class ConvDecoder(layers.Layer):
  """Mirror of ConvEncoder (Burgess et al. 2018), for 64x64 images.

  Dense 256 ReLU, Dense 4x4x64 ReLU, then four 4x4 stride-2 transposed
  convolutions (64, 32, 32 filters with ReLU, and a linear last one with
  ``channels`` filters).

  Call: latents float32 [batch, latent_dim] -> per-pixel parameters float32
  [batch, 64, 64, channels] (logits or pre-sigmoid means, see likelihoods).
  """

  def __init__(self, channels=1, filters=(64, 32, 32), hidden_units=256,
               **kwargs):
    super().__init__(**kwargs)
    self.channels = int(channels)
    self.filters = tuple(int(f) for f in filters)
    self.hidden_units = int(hidden_units)
    self.hidden = layers.Dense(self.hidden_units, activation="relu",
                               name="hidden")
    self.project = layers.Dense(4 * 4 * 64, activation="relu", name="project")
    self.reshape = layers.Reshape((4, 4, 64))
    self.deconvs = [
        layers.Conv2DTranspose(f, 4, strides=2, padding="same",
                               activation="relu", name=f"deconv_{i}")
        for i, f in enumerate(self.filters)
    ]
    self.deconvs.append(
        layers.Conv2DTranspose(self.channels, 4, strides=2, padding="same",
                               name="pixel_params"))

  def build(self, input_shape):
    self.hidden.build(input_shape)
    self.project.build((input_shape[0], self.hidden_units))
    shape = (input_shape[0], 4, 4, 64)
    for deconv in self.deconvs:
      deconv.build(shape)
      shape = deconv.compute_output_shape(shape)

  def call(self, latents):
    x = self.reshape(self.project(self.hidden(latents)))
    for deconv in self.deconvs:
      x = deconv(x)
    return x

  def get_config(self):
    config = super().get_config()
    config.update(channels=self.channels, filters=list(self.filters),
                  hidden_units=self.hidden_units)
    return config


@keras.saving.register_keras_serializable(package="tf_betavae")
class MlpDecoder(layers.Layer):
  """The paper's 2D-shapes decoder: three Dense 1200 tanh layers.

  Call: latents float32 [batch, latent_dim] -> per-pixel parameters float32
  [batch, height, width, channels].
  """

  def __init__(self, image_shape=(64, 64, 1), hidden_units=(1200, 1200, 1200),
               **kwargs):
    super().__init__(**kwargs)
    self.image_shape = tuple(int(d) for d in image_shape)
    self.hidden_units = tuple(int(u) for u in hidden_units)
    self.hidden = [
        layers.Dense(u, activation="tanh", name=f"hidden_{i}")
        for i, u in enumerate(self.hidden_units)
    ]
    height, width, channels = self.image_shape
    self.pixels = layers.Dense(height * width * channels, name="pixel_params")
    self.reshape = layers.Reshape(self.image_shape)

  def build(self, input_shape):
    shape = input_shape
    for dense in self.hidden:
      dense.build(shape)
      shape = (shape[0], dense.units)
    self.pixels.build(shape)

  def call(self, latents):
    x = latents
    for dense in self.hidden:
      x = dense(x)
    return self.reshape(self.pixels(x))

  def get_config(self):
    config = super().get_config()
    config.update(image_shape=list(self.image_shape),
                  hidden_units=list(self.hidden_units))
    return config
