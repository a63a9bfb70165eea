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
group_vae       pairs: recon + β·KL, shared latents averaged    beta
ml_vae          pairs: as group_vae, shared latents multiplied  beta
ada_gvae        pairs: group_vae, shared latents inferred       beta
ada_ml_vae      pairs: ml_vae, shared latents inferred          beta
==============  =============================================  ==============

The last four are weakly supervised (``Method.supervision == "pairs"``,
Locatello et al. 2020, tf_betavae.models.weak_vae): they train on pairs of
observations that share all factors but a few (``--k``), from a dataset with
ground-truth factors or from frames of video (``frames:PATH``,
``--frame_gap``).  group_vae and ml_vae also read which factor each pair
changed (disentanglement_lib's labels), so they need ground-truth pairs.

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
    supervision: "none" (single observations) or "pairs" (weak
      supervision: pairs of observations, see WEAK_SETTINGS).
    needs_labels: the method also reads which factor each pair changed.
  """

  name: str
  title: str
  hyperparameter: str
  study_grid: Tuple[float, ...]
  settings: Tuple[str, ...]
  reference: str
  learning_rate: Optional[float] = None
  supervision: str = "none"
  needs_labels: bool = False


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
        Method("group_vae", "GVAE", "beta", (1, 2, 4, 6, 8, 16),
               ("beta", "k"), "Hosoya 2019", supervision="pairs",
               needs_labels=True),
        Method("ml_vae", "ML-VAE", "beta", (1, 2, 4, 6, 8, 16),
               ("beta", "k"), "Bouchacourt et al. 2018",
               supervision="pairs", needs_labels=True),
        Method("ada_gvae", "Ada-GVAE", "beta", (1, 2, 4, 6, 8, 16),
               ("beta", "k", "frame_gap"), "Locatello et al. 2020",
               supervision="pairs"),
        Method("ada_ml_vae", "Ada-ML-VAE", "beta", (1, 2, 4, 6, 8, 16),
               ("beta", "k", "frame_gap"), "Locatello et al. 2020",
               supervision="pairs"),
    )
}
METHOD_NAMES = tuple(METHODS)

# The weakly-supervised methods (trained on pairs of observations).
WEAK_METHODS = tuple(name for name, m in METHODS.items()
                     if m.supervision == "pairs")
# Their settings that say how pairs are made: ``k`` for pairs from
# ground-truth factors, ``frame_gap`` for pairs of frames (frames:PATH).
WEAK_SETTINGS = ("k", "frame_gap")

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


def is_weak(name):
  """Whether method ``name`` trains on pairs of observations."""
  return get(name).supervision == "pairs"


def pair_setting(dataset):
  """The setting that says how a dataset's pairs are made: "frame_gap" for
  frames:PATH, else "k" (pairs from ground-truth factors)."""
  return "frame_gap" if str(dataset).startswith("frames:") else "k"


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
  dataset = getattr(config, "dataset", "")
  for name in method.settings:
    if name in WEAK_SETTINGS:
      # Only the setting that made this dataset's pairs (a model, which
      # holds neither, records none).
      if name == pair_setting(dataset) and hasattr(config, name):
        values[name] = getattr(config, name)
      continue
    values[name] = getattr(config, name)
  if method.name in DEFAULT_LAMBDA_D_FACTOR:
    values["lambda_d_factor"] = lambda_d_factor(method.name,
                                                config.lambda_d_factor)
  return values


def supervision(config):
  """What a run learned from, for its export metadata.

  Args:
    config: anything with the TrainConfig attributes ``method``,
      ``dataset``, ``k`` and ``frame_gap``.

  Returns:
    {"kind": "none"} for the unsupervised methods; for the weak ones
    {"kind": "pairs", "pairs_from": "ground-truth factors" or "frames",
    "k" or "frame_gap", "labels": whether the method read which factor a
    pair changed}.
  """
  method = get(config.method)
  if method.supervision != "pairs":
    return {"kind": "none"}
  setting = pair_setting(config.dataset)
  return {"kind": "pairs",
          "pairs_from": ("frames" if setting == "frame_gap"
                         else "ground-truth factors"),
          setting: getattr(config, setting),
          "labels": method.needs_labels}
