"""The methods of the β-VAE family this package trains, as data.

Each method names the TrainConfig settings that belong to it (a setting of
another method given on the command line is refused), its main
hyperparameter, and the grid disentanglement_lib's unsupervised study
(Locatello et al. 2019, ``config/unsupervised_study_v1``) trains it over.

==============  =============================================  ==============
method          objective per example (nats)                   hyperparameter
==============  =============================================  ==============
beta_vae        recon + β·KL (Higgins et al. 2017)              beta
annealed_vae    recon + γ·|KL − C(t)| (Burgess et al. 2018)     capacity_max
factor_vae      recon + KL + γ·TC_discriminator (Kim & Mnih)    factor_gamma
dip_vae_i       recon + KL + DIP penalty of Cov[μ]             lambda_od
dip_vae_ii      recon + KL + DIP penalty of E[Σ] + Cov[μ]      lambda_od
beta_tc_vae     recon + KL + (β − 1)·TC_mws (Chen et al.)       beta
==============  =============================================  ==============

The regularisers themselves are tf_betavae.models.regularizers; the models
tf_betavae.models.beta_vae (β-VAE, AnnealedVAE), .beta_tc_vae, .dip_vae and
.factor_vae.
"""

import dataclasses
from typing import Optional, Tuple


@dataclasses.dataclass(frozen=True)
class Method:
  """One method of the family.

  Attributes:
    name: the --method value.
    title: how papers and tables name it.
    hyperparameter: the TrainConfig field its study grid varies.
    study_grid: the values disentanglement_lib's unsupervised study trains.
    settings: TrainConfig fields only this method (or its siblings) reads.
    reference: the paper, short.
    learning_rate: the Adam rate the method trains at when none is given
      explicitly (it then replaces the preset's and the dataset's rate);
      None: the method trains at the preset's or dataset's rate.
  """

  name: str
  title: str
  hyperparameter: str
  study_grid: Tuple[float, ...]
  settings: Tuple[str, ...]
  reference: str
  learning_rate: Optional[float] = None


# At Adam 5e-4 or 1e-3 (γ = 1000) the encoder meets C with a code that
# does not depend on the image: the decoder draws the mean image for the
# whole run (docs/recipe_search.md, try 37). At 1e-4, disentanglement_lib's
# rate, it learns the images.
ANNEALED_VAE_LEARNING_RATE = 1e-4


METHODS = {
    m.name: m for m in (
        Method("beta_vae", "β-VAE", "beta", (1, 2, 4, 6, 8, 16),
               ("beta",), "Higgins et al. 2017"),
        Method("annealed_vae", "AnnealedVAE", "capacity_max",
               (5, 10, 25, 50, 75, 100),
               ("gamma", "capacity_max", "capacity_steps"),
               "Burgess et al. 2018",
               learning_rate=ANNEALED_VAE_LEARNING_RATE),
        Method("factor_vae", "FactorVAE", "factor_gamma",
               (10, 20, 30, 40, 50, 100),
               ("factor_gamma", "discriminator_learning_rate"),
               "Kim & Mnih 2018"),
        Method("dip_vae_i", "DIP-VAE-I", "lambda_od",
               (1, 2, 5, 10, 20, 50), ("lambda_od", "lambda_d_factor"),
               "Kumar et al. 2018"),
        Method("dip_vae_ii", "DIP-VAE-II", "lambda_od",
               (1, 2, 5, 10, 20, 50), ("lambda_od", "lambda_d_factor"),
               "Kumar et al. 2018"),
        Method("beta_tc_vae", "β-TCVAE", "beta", (1, 2, 4, 6, 8, 10),
               ("beta",), "Chen et al. 2018"),
    )
}
METHOD_NAMES = tuple(METHODS)

# Every method-specific setting, for the "a flag of another method" check.
METHOD_SETTINGS = tuple(sorted({s for m in METHODS.values()
                                for s in m.settings}))

# λ_d = factor · λ_od; disentanglement_lib's study: 10 for DIP-VAE-I, 1 for
# DIP-VAE-II.
DEFAULT_LAMBDA_D_FACTOR = {"dip_vae_i": 10.0, "dip_vae_ii": 1.0}

# The --objective names of the two methods that existed before --method.
OBJECTIVE_OF_METHOD = {"beta_vae": "H", "annealed_vae": "B"}
METHOD_OF_OBJECTIVE = {"H": "beta_vae", "B": "annealed_vae"}


def get(name):
  """The Method called ``name``; ValueError naming the choices otherwise."""
  if name not in METHODS:
    raise ValueError(f"unknown method {name!r}; choose one of "
                     f"{', '.join(METHOD_NAMES)}")
  return METHODS[name]


def default_learning_rate(name, rate):
  """The Adam rate method ``name`` trains at when the user gave none.

  Args:
    name: a method name.
    rate: the rate the run would otherwise get (a preset's, the dataset's
      or TrainConfig's default).

  Returns:
    The method's own rate (Method.learning_rate) if it has one, else
    ``rate``.
  """
  own = get(name).learning_rate
  return rate if own is None else own


def other_settings(name):
  """Method-specific settings that the method ``name`` never reads."""
  own = get(name).settings
  return tuple(s for s in METHOD_SETTINGS if s not in own)


def lambda_d_factor(method, factor=None):
  """The DIP-VAE diagonal weight factor: ``factor`` or the study's default."""
  return DEFAULT_LAMBDA_D_FACTOR[method] if factor is None else float(factor)


def hyperparameters(config):
  """The settings that define a run's method, as a dict (for metadata,
  run names and reports).

  Args:
    config: anything with the TrainConfig attributes (``method`` and the
      method's settings).
  """
  method = get(config.method)
  values = {"method": method.name}
  for name in method.settings:
    values[name] = getattr(config, name)
  if method.name in DEFAULT_LAMBDA_D_FACTOR:
    values["lambda_d_factor"] = lambda_d_factor(method.name,
                                                config.lambda_d_factor)
  return values
