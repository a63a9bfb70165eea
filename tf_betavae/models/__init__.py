"""Encoders, decoders, likelihoods and the β-VAE model."""

from tf_betavae.models.beta_vae import BetaVAE
from tf_betavae.models.beta_vae import OBJECTIVES
from tf_betavae.models.decoders import ConvDecoder
from tf_betavae.models.decoders import MlpDecoder
from tf_betavae.models.encoders import ConvEncoder
from tf_betavae.models.encoders import MlpEncoder
from tf_betavae.models.factory import ARCHITECTURES
from tf_betavae.models.factory import build_model
from tf_betavae.models.likelihoods import LIKELIHOODS
