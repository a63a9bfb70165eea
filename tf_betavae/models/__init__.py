"""Encoders, decoders, likelihoods and the models of the β-VAE family.

The public names below are resolved on first use (PEP 562), so importing a
TensorFlow-free submodule such as ``tf_betavae.models.methods`` (the
methods as data, read by study drivers that never train) does not import
TensorFlow.  ``from tf_betavae.models import BetaVAE`` and
``tf_betavae.models.build_model`` work as before: the first Keras name (or
Keras submodule) used imports every Keras class of the package, so each is
registered for deserialization as when this package imported them all.
"""

import importlib
import pkgutil

# Public name -> the submodule that defines it.
_SUBMODULE_OF = {
    "BetaTCVAE": "beta_tc_vae",
    "BetaVAE": "beta_vae",
    "OBJECTIVES": "beta_vae",
    "ConvDecoder": "decoders",
    "MlpDecoder": "decoders",
    "SpatialBroadcastDecoder": "decoders",
    "DIPVAE": "dip_vae",
    "Discriminator": "discriminator",
    "ConvEncoder": "encoders",
    "MlpEncoder": "encoders",
    "FactorVAE": "factor_vae",
    "ARCHITECTURES": "factory",
    "build_model": "factory",
    "LIKELIHOODS": "likelihoods",
    "METHOD_NAMES": "methods",
    "METHODS": "methods",
    "WeakVAE": "weak_vae",
}
# Submodules that need no TensorFlow: resolving them or their names loads
# nothing else.
_LIGHT_SUBMODULES = ("latent_stats", "methods")

__all__ = sorted(_SUBMODULE_OF)


def __getattr__(name):
  if name in _submodules():
    # `models.beta_vae.X` worked after the eager import; a submodule named
    # as an attribute is imported (with the Keras classes, as before).
    if name not in _LIGHT_SUBMODULES:
      importlib.import_module(f"{__name__}.factory")
    return importlib.import_module(f"{__name__}.{name}")
  if name not in _SUBMODULE_OF:
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
  submodule = _SUBMODULE_OF[name]
  if submodule not in _LIGHT_SUBMODULES:
    # The eager package imported every Keras class, so any of them could be
    # deserialized (e.g. BetaVAE.from_config rebuilding its ConvEncoder by
    # its registered name) once any was used; factory imports them all and
    # keeps that true.
    importlib.import_module(f"{__name__}.factory")
  value = getattr(importlib.import_module(f"{__name__}.{submodule}"), name)
  globals()[name] = value  # later lookups skip __getattr__
  return value


def _submodules():
  """The names of this package's modules (found on disk, none imported)."""
  return {info.name for info in pkgutil.iter_modules(__path__)}


def __dir__():
  return sorted(set(globals()) | set(_SUBMODULE_OF))
