"""Builds a model of any method from plain settings (architecture name,
sizes, method and its hyperparameters)."""

from tf_betavae.models import beta_tc_vae
from tf_betavae.models import beta_vae
from tf_betavae.models import decoders
from tf_betavae.models import dip_vae
from tf_betavae.models import encoders
from tf_betavae.models import factor_vae
from tf_betavae.models import methods as methods_lib
from tf_betavae.models import weak_vae

ARCHITECTURES = ("conv", "mlp", "broadcast")

# Keyword arguments only one method's model takes.
_METHOD_KWARGS = {
    "factor_vae": ("factor_gamma", "discriminator_learning_rate"),
    "dip_vae_i": ("lambda_od", "lambda_d_factor"),
    "dip_vae_ii": ("lambda_od", "lambda_d_factor"),
}


def model_class_and_kwargs(method, model_kwargs):
  """The model class of a method and the keyword arguments it takes.

  Args:
    method: a name of tf_betavae.models.methods.METHODS.
    model_kwargs: dict of BetaVAE keyword arguments plus any method's
      hyperparameters (those of other methods are dropped).

  Returns:
    (class, dict).
  """
  methods_lib.get(method)
  objective = model_kwargs.get("objective")
  if (objective in methods_lib.METHOD_OF_OBJECTIVE and
      objective != methods_lib.OBJECTIVE_OF_METHOD.get(method, "H")):
    raise ValueError(f"objective {objective} contradicts method {method} "
                     "(objective B is annealed_vae)")
  own = set(_METHOD_KWARGS.get(method, ()))
  every_method_kwarg = {k for names in _METHOD_KWARGS.values() for k in names}
  kwargs = {k: v for k, v in model_kwargs.items()
            if k not in every_method_kwarg or k in own}
  if method == "annealed_vae":
    return beta_vae.BetaVAE, dict(kwargs, objective="B")
  if method == "beta_vae":
    return beta_vae.BetaVAE, kwargs
  if method == "beta_tc_vae":
    return beta_tc_vae.BetaTCVAE, dict(kwargs, objective="H")
  if method == "factor_vae":
    return factor_vae.FactorVAE, dict(kwargs, objective="H")
  if method in weak_vae.SETTINGS_OF:
    aggregate, sharing = weak_vae.SETTINGS_OF[method]
    return weak_vae.WeakVAE, dict(kwargs, objective="H", aggregate=aggregate,
                                  sharing=sharing)
  return dip_vae.DIPVAE, dict(kwargs, objective="H",
                              dip_type=method[len("dip_vae_"):])


def build_encoder(arch, latent_dim, **layer_kwargs):
  """The (unbuilt) encoder layer of ``arch``, named "encoder" as in every
  model and export of this package.

  Args:
    arch: a name of ARCHITECTURES ('conv' and 'broadcast' share the conv
      encoder).
    latent_dim: int > 0.
    **layer_kwargs: forwarded to the layer (e.g. dtype).
  """
  if arch not in ARCHITECTURES:
    raise ValueError(f"unknown arch {arch!r}; choose one of {ARCHITECTURES}")
  encoder_class = encoders.MlpEncoder if arch == "mlp" else encoders.ConvEncoder
  return encoder_class(latent_dim, name="encoder", **layer_kwargs)


def build_model(arch="conv", latent_dim=10, image_shape=(64, 64, 1),
                method=None, **model_kwargs):
  """Creates and builds the model of a method.

  Args:
    arch: 'conv' (Burgess et al. 2018 conv net, 64x64 images), 'mlp' (the
      paper's 2D-shapes MLP) or 'broadcast' (the conv encoder with a
      spatial broadcast decoder, Watters et al. 2019; 64x64 images).
    latent_dim: int > 0.
    image_shape: (height, width, channels) of the data.
    method: a method name (tf_betavae.models.methods); None: beta_vae, or
      annealed_vae with objective='B'.
    **model_kwargs: forwarded to the method's model (likelihood, beta,
      factor_gamma, ...); other methods' hyperparameters are ignored.

  Returns:
    A built (variables created) BetaVAE or subclass.
  """
  if arch not in ARCHITECTURES:
    raise ValueError(f"unknown arch {arch!r}; choose one of {ARCHITECTURES}")
  if int(latent_dim) <= 0:
    raise ValueError(f"latent_dim must be > 0, got {latent_dim}")
  image_shape = tuple(int(d) for d in image_shape)
  if arch in ("conv", "broadcast") and image_shape[:2] != (64, 64):
    raise ValueError(f"the {arch} architecture takes 64x64 images, the "
                     f"data has {image_shape}; use --arch=mlp or resize")
  # Created before the decoder, as always: the layers' seeded initialisers
  # draw in creation order, so a seed keeps giving the same weights.
  encoder = build_encoder(arch, latent_dim)
  if arch == "conv":
    decoder = decoders.ConvDecoder(channels=image_shape[2], name="decoder")
  elif arch == "broadcast":
    decoder = decoders.SpatialBroadcastDecoder(image_shape=image_shape,
                                               name="decoder")
  else:
    decoder = decoders.MlpDecoder(image_shape=image_shape, name="decoder")
  if method is None:
    # An unknown objective is left for BetaVAE to refuse.
    method = methods_lib.METHOD_OF_OBJECTIVE.get(
        model_kwargs.get("objective", "H"), "beta_vae")
  model_class, kwargs = model_class_and_kwargs(method, model_kwargs)
  model = model_class(encoder, decoder, latent_dim=latent_dim,
                      image_shape=image_shape, **kwargs)
  encoder.build((None,) + image_shape)
  decoder.build((None, int(latent_dim)))
  model.build((None,) + image_shape)
  return model
