"""Encoder/decoder layers: shapes, architecture, get_config round trips."""

import dataclasses

import keras
import numpy as np
import pytest

from tf_betavae import models
from tf_betavae.experiments import reproduce_command
from tf_betavae.experiments import sweep_command


@pytest.mark.parametrize("channels", [1, 3])
def test_conv_encoder_decoder_shapes(channels):
  encoder = models.ConvEncoder(latent_dim=7)
  decoder = models.ConvDecoder(channels=channels)
  images = np.random.RandomState(0).uniform(size=(2, 64, 64, channels))
  mean, log_variance = encoder(images.astype("float32"))
  assert mean.shape == (2, 7) and log_variance.shape == (2, 7)
  out = decoder(mean)
  assert out.shape == (2, 64, 64, channels)
  # The paper/Burgess architecture: 4 convs 32, 32, 64, 64, kernel 4, stride 2.
  assert [c.filters for c in encoder.convs] == [32, 32, 64, 64]
  assert all(c.kernel_size == (4, 4) and c.strides == (2, 2)
             for c in encoder.convs)
  assert encoder.hidden.units == 256
  assert [d.filters for d in decoder.deconvs] == [64, 32, 32, channels]


def test_mlp_matches_paper_sizes():
  encoder = models.MlpEncoder(latent_dim=10)
  decoder = models.MlpDecoder(image_shape=(64, 64, 1))
  mean, _ = encoder(np.zeros((3, 64, 64, 1), "float32"))
  assert decoder(mean).shape == (3, 64, 64, 1)
  assert [d.units for d in encoder.hidden] == [1200, 1200]
  assert [d.units for d in decoder.hidden] == [1200, 1200, 1200]
  assert all(d.activation.__name__ == "tanh" for d in decoder.hidden)


def test_conv_encoder_refuses_other_sizes():
  with pytest.raises(ValueError, match="64x64"):
    models.ConvEncoder(latent_dim=3)(np.zeros((1, 32, 32, 1), "float32"))


@pytest.mark.parametrize("layer, input_shape", [
    (models.ConvEncoder(latent_dim=5), (2, 64, 64, 3)),
    (models.ConvDecoder(channels=3), (2, 7)),
    (models.MlpEncoder(latent_dim=4, hidden_units=(16, 8)), (2, 8, 8, 1)),
    (models.MlpDecoder(image_shape=(8, 8, 1), hidden_units=(16,)), (2, 4)),
    (models.SpatialBroadcastDecoder(image_shape=(16, 16, 3), grid_size=8,
                                    filters=(4, 5)), (2, 3)),
    (models.SpatialBroadcastDecoder(image_shape=(16, 16, 1), grid_size=8,
                                    filters=(4,), upsampling="transposed"),
     (2, 3)),
])
def test_get_config_round_trip(layer, input_shape):
  clone = layer.__class__.from_config(layer.get_config())
  assert clone.get_config() == layer.get_config()
  restored = keras.saving.deserialize_keras_object(
      keras.saving.serialize_keras_object(layer))
  assert type(restored) is type(layer)
  # Same weights in, same outputs out: the config rebuilds the same layer.
  inputs = np.random.RandomState(1).uniform(size=input_shape).astype("float32")
  expected = keras.tree.flatten(layer(inputs))
  clone.build(input_shape)
  clone.set_weights(layer.get_weights())
  for want, got in zip(expected, keras.tree.flatten(clone(inputs))):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("channels, grid_size", [(1, 32), (3, 64), (1, 16)])
def test_spatial_broadcast_decoder_shapes(channels, grid_size):
  decoder = models.SpatialBroadcastDecoder(image_shape=(64, 64, channels),
                                           grid_size=grid_size)
  latents = np.random.RandomState(0).normal(size=(2, 6)).astype("float32")
  assert decoder(latents).shape == (2, 64, 64, channels)
  # Three valid 3x3 convolutions end at the grid size.
  assert decoder.broadcast_size == grid_size + 6
  assert decoder.upsample_factor == 64 // grid_size
  assert [c.filters for c in decoder.convs] == [32, 32, 32]


def test_spatial_broadcast_coordinates_run_along_width_and_height():
  decoder = models.SpatialBroadcastDecoder(image_shape=(8, 8, 1), grid_size=8,
                                           filters=(2,))
  coords = np.asarray(decoder.coordinates())
  ticks = np.linspace(-1.0, 1.0, 10)
  assert coords.shape == (10, 10, 2)
  np.testing.assert_allclose(coords[..., 0], np.tile(ticks, (10, 1)),
                             atol=1e-6)  # x varies along the width
  np.testing.assert_allclose(coords[..., 1], np.tile(ticks[:, None], (1, 10)),
                             atol=1e-6)  # y varies along the height


def test_spatial_broadcast_wiring_known_answer():
  # Weights that pass the x coordinate through the valid 3x3 convolution's
  # centre tap (+1 so the ReLU keeps it) and undo the +1 in the 1x1 layer,
  # plus 2 times the first latent: each output pixel must then be the x of
  # its grid cell, cropped by one cell per side, plus 2 * z0.
  decoder = models.SpatialBroadcastDecoder(image_shape=(6, 6, 1), grid_size=6,
                                           filters=(1,))
  latents = np.array([[0.5, -3.0], [0.0, 7.0]], "float32")
  decoder.build(latents.shape)
  kernel = np.zeros((3, 3, 4, 1), "float32")  # channels: z0, z1, x, y
  kernel[1, 1, 2, 0] = 1.0
  kernel[1, 1, 0, 0] = 2.0
  decoder.convs[0].set_weights([kernel, np.array([1.0], "float32")])
  decoder.pixels.set_weights([np.ones((1, 1, 1, 1), "float32"),
                              np.array([-1.0], "float32")])
  out = np.asarray(decoder(latents))[..., 0]
  x_of_cells = np.linspace(-1.0, 1.0, 8)[1:-1]
  for row, z in enumerate(latents):
    want = np.tile(x_of_cells, (6, 1)) + 2.0 * z[0]
    np.testing.assert_allclose(out[row], want, atol=1e-5)


def test_spatial_broadcast_learned_upsampling_shapes():
  decoder = models.SpatialBroadcastDecoder(image_shape=(64, 64, 3),
                                           upsampling="transposed")
  out = decoder(np.zeros((2, 5), "float32"))
  assert out.shape == (2, 64, 64, 3)
  assert decoder.upsample is None
  assert decoder.pixels.kernel_size == (4, 4)
  assert decoder.pixels.strides == (2, 2)


def test_spatial_broadcast_upsamples_a_coarse_grid_bilinearly():
  decoder = models.SpatialBroadcastDecoder(image_shape=(8, 8, 1), grid_size=4,
                                           filters=(1,))
  latents = np.zeros((1, 2), "float32")
  decoder.build(latents.shape)
  kernel = np.zeros((3, 3, 4, 1), "float32")
  kernel[1, 1, 3, 0] = 1.0  # the y coordinate
  decoder.convs[0].set_weights([kernel, np.array([1.0], "float32")])
  decoder.pixels.set_weights([np.ones((1, 1, 1, 1), "float32"),
                              np.array([-1.0], "float32")])
  out = np.asarray(decoder(latents))[0, ..., 0]
  assert out.shape == (8, 8)
  # Constant along each row, increasing down the image, within the range of
  # the coarse grid's y values (bilinear interpolation never overshoots).
  np.testing.assert_allclose(out, np.tile(out[:, :1], (1, 8)), atol=1e-6)
  assert np.all(np.diff(out[:, 0]) >= -1e-6) and out[-1, 0] > out[0, 0]
  coarse_y = np.linspace(-1.0, 1.0, 6)[1:-1]
  assert coarse_y[0] - 1e-6 <= out.min() and out.max() <= coarse_y[-1] + 1e-6


@pytest.mark.parametrize("kwargs, match", [
    (dict(image_shape=(64, 32, 1)), "square"),
    (dict(image_shape=(64, 64, 1), grid_size=24), "grid_size must divide"),
    (dict(image_shape=(64, 64, 1), grid_size=0), "grid_size must divide"),
    (dict(upsampling="nearest"), "upsampling must be one of"),
])
def test_spatial_broadcast_refuses_bad_sizes(kwargs, match):
  with pytest.raises(ValueError, match=match):
    models.SpatialBroadcastDecoder(**kwargs)


def test_factory_builds_the_broadcast_architecture():
  model = models.build_model("broadcast", latent_dim=4)
  assert isinstance(model.encoder, models.ConvEncoder)
  assert isinstance(model.decoder, models.SpatialBroadcastDecoder)
  assert "broadcast" in models.ARCHITECTURES
  with pytest.raises(ValueError, match="broadcast architecture takes 64x64"):
    models.build_model("broadcast", latent_dim=4, image_shape=(32, 32, 1))


def test_scripts_offer_every_architecture():
  # reproduce.py and sweep.py write the choices out (no TensorFlow import
  # before a usage error); they must stay the models' list.
  for flags_class in (reproduce_command.ReproduceFlags,
                      sweep_command.SweepFlags):
    arch = next(f for f in dataclasses.fields(flags_class)
                if f.name == "arch")
    assert tuple(arch.metadata["choices"]) == models.ARCHITECTURES, (
        flags_class.__name__)
