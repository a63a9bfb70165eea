"""Encoder/decoder layers: shapes, architecture, get_config round trips."""

import keras
import numpy as np
import pytest

from tf_betavae import models


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
