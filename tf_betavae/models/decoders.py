"""Decoders: latents -> per-pixel parameters of the likelihood p(x|z)."""

import keras
from keras import layers
import numpy as np


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


UPSAMPLINGS = ("bilinear", "transposed")


@keras.saving.register_keras_serializable(package="tf_betavae")
class SpatialBroadcastDecoder(layers.Layer):
  """Spatial broadcast decoder (Watters et al. 2019), sized for a CPU.

  Each latent vector is tiled over a square grid, two coordinate channels
  (x and y, evenly spaced in [-1, 1]) are appended, and ``len(filters)``
  3x3 'valid' convolutions with ReLU and a linear 1x1 convolution turn it
  into per-pixel parameters.  Position then only has to shift a pattern
  against fixed coordinates instead of being drawn by transposed
  convolutions, which is the paper's case for axis-aligned position
  latents.  The grid is ``grid_size + 2 * len(filters)`` wide so that the
  valid convolutions end at ``grid_size``; with ``grid_size`` smaller than
  the image the parameters are upsampled, bilinearly or by a learned 'same'
  transposed convolution (kernel twice the factor) that replaces the 1x1
  one.  The default grid is half the image's side because a full-size grid
  is too slow for a CPU (steps per second of each: docs/recipe_search.md,
  try 58).

  Call: latents float32 [batch, latent_dim] -> per-pixel parameters float32
  [batch, height, width, channels].
  """

  def __init__(self, image_shape=(64, 64, 1), grid_size=32,
               filters=(32, 32, 32), upsampling="bilinear", **kwargs):
    super().__init__(**kwargs)
    self.image_shape = tuple(int(d) for d in image_shape)
    self.grid_size = int(grid_size)
    self.filters = tuple(int(f) for f in filters)
    self.upsampling = str(upsampling)
    if self.upsampling not in UPSAMPLINGS:
      raise ValueError(f"upsampling must be one of {UPSAMPLINGS}, got "
                       f"{upsampling!r}")
    height, width, channels = self.image_shape
    if height != width:
      raise ValueError(f"the broadcast decoder draws square images, got "
                       f"{height}x{width}")
    if self.grid_size < 1 or height % self.grid_size:
      raise ValueError(f"grid_size must divide the image size {height}, got "
                       f"{self.grid_size}")
    self.upsample_factor = height // self.grid_size
    ticks = np.linspace(-1.0, 1.0, self.broadcast_size)
    x, y = np.meshgrid(ticks, ticks, indexing="xy")
    self._coordinates = np.stack([x, y], axis=-1).astype(np.float32)
    self.convs = [
        layers.Conv2D(f, 3, padding="valid", activation="relu",
                      name=f"conv_{i}") for i, f in enumerate(self.filters)
    ]
    factor = self.upsample_factor
    self.upsample = None
    if factor > 1 and self.upsampling == "transposed":
      # A learned upsampling can draw edges finer than the grid.
      self.pixels = layers.Conv2DTranspose(channels, 2 * factor,
                                           strides=factor, padding="same",
                                           name="pixel_params")
    else:
      self.pixels = layers.Conv2D(channels, 1, name="pixel_params")
      if factor > 1:
        self.upsample = layers.UpSampling2D(factor, interpolation="bilinear")

  @property
  def broadcast_size(self):
    """Side of the tiled grid, before the valid convolutions."""
    return self.grid_size + 2 * len(self.filters)

  def coordinates(self):
    """float32 np.ndarray [broadcast_size, broadcast_size, 2]: (x, y) of
    every cell, x along the width, y along the height, both from -1 to 1
    (computed once, in the constructor)."""
    return self._coordinates

  def build(self, input_shape):
    size = self.broadcast_size
    shape = (input_shape[0], size, size, int(input_shape[-1]) + 2)
    for conv in self.convs:
      conv.build(shape)
      shape = conv.compute_output_shape(shape)
    self.pixels.build(shape)

  def call(self, latents):
    size = self.broadcast_size
    batch = keras.ops.shape(latents)[0]
    tiled = keras.ops.broadcast_to(
        latents[:, None, None, :],
        (batch, size, size, keras.ops.shape(latents)[-1]))
    coords = keras.ops.broadcast_to(self.coordinates()[None],
                                    (batch, size, size, 2))
    x = keras.ops.concatenate([tiled, coords], axis=-1)
    for conv in self.convs:
      x = conv(x)
    x = self.pixels(x)
    if self.upsample is not None:
      x = self.upsample(x)
    return x

  def get_config(self):
    config = super().get_config()
    config.update(image_shape=list(self.image_shape),
                  grid_size=self.grid_size, filters=list(self.filters),
                  upsampling=self.upsampling)
    return config
