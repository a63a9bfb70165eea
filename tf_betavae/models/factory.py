"""Builds a BetaVAE from plain settings (architecture name, sizes, loss)."""

from tf_betavae.models import beta_vae
from tf_betavae.models import decoders
from tf_betavae.models import encoders

ARCHITECTURES = ("conv", "mlp")


def build_model(arch="conv", latent_dim=10, image_shape=(64, 64, 1),
                **model_kwargs):
  """Creates and builds a BetaVAE.

  Args:
    arch: 'conv' (Burgess et al. 2018 conv net, 64x64 images) or 'mlp' (the
      paper's 2D-shapes MLP).
    latent_dim: int > 0.
    image_shape: (height, width, channels) of the data.
    **model_kwargs: forwarded to BetaVAE (likelihood, objective, beta, ...).

  Returns:
    A built (variables created) BetaVAE.
  """
  if arch not in ARCHITECTURES:
    raise ValueError(f"unknown arch {arch!r}; choose one of {ARCHITECTURES}")
  if int(latent_dim) <= 0:
    raise ValueError(f"latent_dim must be > 0, got {latent_dim}")
  image_shape = tuple(int(d) for d in image_shape)
  if arch == "conv":
    if image_shape[:2] != (64, 64):
      raise ValueError(f"the conv architecture takes 64x64 images, the data "
                       f"has {image_shape}; use --arch=mlp or resize")
    encoder = encoders.ConvEncoder(latent_dim, name="encoder")
    decoder = decoders.ConvDecoder(channels=image_shape[2], name="decoder")
  else:
    encoder = encoders.MlpEncoder(latent_dim, name="encoder")
    decoder = decoders.MlpDecoder(image_shape=image_shape, name="decoder")
  model = beta_vae.BetaVAE(encoder, decoder, latent_dim=latent_dim,
                           image_shape=image_shape, **model_kwargs)
  encoder.build((None,) + image_shape)
  decoder.build((None, int(latent_dim)))
  model.build((None,) + image_shape)
  return model
