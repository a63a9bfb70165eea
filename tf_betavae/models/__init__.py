"""Encoders, decoders, likelihoods and the models of the β-VAE family."""

from tf_betavae.models.beta_tc_vae import BetaTCVAE
from tf_betavae.models.beta_vae import BetaVAE
from tf_betavae.models.beta_vae import OBJECTIVES
from tf_betavae.models.decoders import ConvDecoder
from tf_betavae.models.decoders import MlpDecoder
from tf_betavae.models.decoders import SpatialBroadcastDecoder
from tf_betavae.models.dip_vae import DIPVAE
from tf_betavae.models.discriminator import Discriminator
from tf_betavae.models.encoders import ConvEncoder
from tf_betavae.models.encoders import MlpEncoder
from tf_betavae.models.factor_vae import FactorVAE
from tf_betavae.models.factory import ARCHITECTURES
from tf_betavae.models.factory import build_model
from tf_betavae.models.likelihoods import LIKELIHOODS
from tf_betavae.models.methods import METHOD_NAMES
from tf_betavae.models.methods import METHODS
