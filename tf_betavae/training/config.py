"""The settings of a training run (TrainConfig) and the errors a run raises.

Each setting is defined once, as a TrainConfig field: its default and its
help text (``metadata["help"]``) live here, and scripts/train.py's flags
are generated from the fields (``tf_betavae.cli.define_config_flags``).
Field metadata understood by the flag generator:

* ``help``: the flag's help text (required);
* ``choices``: the allowed values (the flag becomes an enum);
* ``kind``: the flag's kind ('float', 'string', ...) where the field's type
  (an Optional) does not say it;
* ``flag``: False when the program defines the flag itself because it
  takes another form on the command line (``mixed_precision``).
"""

import dataclasses
import math
from typing import Optional

from tf_betavae import data as data_lib
from tf_betavae import models
from tf_betavae.models import methods as methods_lib
from tf_betavae.training import learning_rate as learning_rate_lib


class ConfigError(ValueError):
  """A setting is invalid, or contradicts the run already in model_dir."""


class NonFiniteLossError(RuntimeError):
  """Training produced a NaN or infinite loss."""


class CheckpointError(RuntimeError):
  """model_dir holds checkpoints, but none of them can be read."""


def _setting(default, help_text, **metadata):
  return dataclasses.field(default=default,
                           metadata=dict(metadata, help=help_text))


@dataclasses.dataclass
class TrainConfig:
  """Settings of a run.  Defaults are the paper's values where it has one.

  Each field's meaning is its ``metadata["help"]`` (shown by
  ``python scripts/train.py --help``); ``describe(name)`` returns it.
  """

  dataset: str = _setting(
      "dsprites", "Training data: " + ", ".join(data_lib.DATASETS)
      + " ('dsprites' is the built-in simulator).")
  arch: str = _setting(
      "conv", "conv: Burgess et al. conv net for 64x64 images; mlp: the "
      "paper's 2D-shapes MLP (1200-1200 / 1200-1200-1200); broadcast: the conv "
      "encoder with a spatial broadcast decoder (Watters et al. 2019).",
      choices=list(models.ARCHITECTURES))
  latent_dim: int = _setting(
      10, "Number of latents (paper: 10 for 2D shapes).")
  likelihood: str = _setting(
      "bernoulli", "Pixel likelihood: bernoulli (binary images, the paper's "
      "choice for dSprites) or gaussian (RGB data).",
      choices=list(models.LIKELIHOODS))
  gaussian_stddev: float = _setting(
      1.0, "Fixed pixel std of the gaussian likelihood.")
  method: str = _setting(
      "beta_vae", "The objective: beta_vae (recon + beta*KL), annealed_vae "
      "(recon + gamma*|KL - C|, = --objective=B), factor_vae (+ gamma*TC "
      "from a discriminator), dip_vae_i / dip_vae_ii (+ covariance "
      "penalties), beta_tc_vae (+ (beta-1)*TC, minibatch-weighted "
      "sampling). See docs/methods.md.",
      choices=list(methods_lib.METHOD_NAMES))
  objective: str = _setting(
      "H", "The older name of the first two methods: H = "
      "--method=beta_vae (Higgins et al. 2017), B = --method=annealed_vae "
      "(Burgess et al. 2018).",
      choices=list(models.OBJECTIVES))
  beta: float = _setting(
      4.0, "beta_vae: the KL weight (paper: 4 for 2D shapes, 250 for "
      "CelebA; 1 = plain VAE); beta_tc_vae: the TC weight is beta - 1 "
      "(Chen et al.: 6 on dSprites). Default on dsprites and its variants: "
      "8 (the CPU recipe, --preset=cpu).")
  beta_hold_steps: int = _setting(
      0, "beta_vae: steps at KL weight 1 (the plain VAE) before the KL "
      "weight rises to --beta (see --beta_warmup_steps).")
  beta_warmup_steps: int = _setting(
      0, "beta_vae: steps over which the KL weight then rises linearly from "
      "1 to --beta (0: a jump after --beta_hold_steps). Hold plus warm-up "
      "must be < --steps; both 0 = --beta from the first step.")
  gamma: float = _setting(
      1000.0, "annealed_vae: the weight of |KL - C| (Burgess et al.: 1000).")
  capacity_max: float = _setting(
      25.0, "annealed_vae: final capacity C, nats (Burgess: 25).")
  capacity_steps: int = _setting(
      100000, "annealed_vae: steps over which C rises linearly from 0 to "
      "--capacity_max.")
  factor_gamma: float = _setting(
      10.0, "factor_vae: the weight of the discriminator's total "
      "correlation estimate (Kim & Mnih: 10..100; 35 on dSprites).")
  discriminator_learning_rate: float = _setting(
      1e-4, "factor_vae: Adam learning rate of the discriminator "
      "(beta1 0.5, beta2 0.9, Kim & Mnih).")
  lambda_od: float = _setting(
      10.0, "dip_vae_i / dip_vae_ii: weight of the squared off-diagonal "
      "covariance entries (Kumar et al.: 10 on dSprites).")
  lambda_d_factor: Optional[float] = _setting(
      None, "dip_vae_i / dip_vae_ii: the diagonal weight is lambda_d_factor "
      "* lambda_od; default 10 for dip_vae_i, 1 for dip_vae_ii "
      "(disentanglement_lib's study).", kind="float")
  k: int = _setting(
      -1, "group_vae, ml_vae, ada_gvae, ada_ml_vae on ground-truth data: "
      "the second observation of a pair redraws 1 or k of the first's "
      "factors (a fair choice between the two); -1 draws k in "
      "1..num_factors-1 per pair (the paper's 'k random').")
  frame_gap: int = _setting(
      1, "ada_gvae, ada_ml_vae on --dataset=frames:PATH: a pair is two "
      "frames of one sequence this many frames apart (1: consecutive).")
  batch_size: int = _setting(
      64, "Global batch size (paper: 64; for the weakly-supervised methods "
      "pairs, two images each).")
  learning_rate: float = _setting(
      5e-4, "Adam learning rate. Default on dsprites and its variants: "
      "1e-3 (the CPU recipe); annealed_vae: 1e-4 on any dataset or preset "
      "(it learns nothing at 5e-4 or 1e-3). The peak rate when a schedule "
      "is on.")
  lr_warmup_steps: int = _setting(
      0, "Steps of a linear learning-rate warm-up from learning_rate/N to "
      "learning_rate (0 = none).")
  lr_decay: str = _setting(
      "constant", "Learning rate after the warm-up: constant, or a cosine "
      "decay that reaches 0 at --steps.",
      choices=list(learning_rate_lib.DECAYS))
  steps: int = _setting(
      6000, "Total optimizer steps. Default 6000 (on dsprites and its "
      "variants 10,000: about 8 minutes on a 2-core CPU). --preset=paper "
      "gives 300,000.")
  seed: int = _setting(
      0, "Seeds weights, data stream and latent samples.")
  checkpoint_every: int = _setting(
      1000, "Steps between checkpoints.")
  log_every: int = _setting(
      100, "Steps between log lines and TensorBoard scalars.")
  image_summary_every: int = _setting(
      2000, "Steps between TensorBoard image summaries (latent traversal, "
      "reconstructions, KL per latent); 0 = off. The pictures are also "
      "written into --model_dir at the end of training.")
  # False, 'mixed_float16' or 'mixed_bfloat16'; on the command line a
  # boolean plus --mixed_precision_policy, so the program defines the flag.
  mixed_precision: object = _setting(
      False, "Mixed precision: float16 compute with loss scaling on GPU, "
      "bfloat16 on CPU (see --mixed_precision_policy).", flag=False)
  jit_compile: bool = _setting(
      False, "XLA-compile the training step (exports stay plain). Measured "
      "slower on CPU; meant for GPUs.")
  scream_image: Optional[str] = _setting(
      None, "scream_dsprites: the image (JPEG/PNG, at least 64x64) whose "
      "random 64x64 patches are the backgrounds (disentanglement_lib uses "
      "Munch's The Scream; any picture works).")
  data_dir: Optional[str] = _setting(
      None, "Where real datasets live (tensorflow-datasets data_dir; "
      "default $TFDS_DATA_DIR or ~/tensorflow_datasets). Nothing is "
      "downloaded.")
  dsprites_file: Optional[str] = _setting(
      None, "The official dSprites file (dsprites_ndarray_co1sh3sc6or"
      "40x32y32_64x64.npz or .hdf5) for --dataset=dsprites_official "
      "(implied when --dataset is not given).")

  def __post_init__(self):
    # --objective=H|B predates --method: the two name the same runs, and a
    # run config written before --method existed has only the objective.
    if self.method == "beta_vae" and self.objective == "B":
      self.method = "annealed_vae"
    elif self.method == "annealed_vae":
      self.objective = "B"

  def validate(self):
    """Raises ConfigError with a one-line reason for the first bad value."""
    for check in (_check_names, _check_numbers, _check_method,
                  _check_pairs, _check_schedule, _check_counts):
      check(self)

  def to_dict(self):
    return dataclasses.asdict(self)

  @classmethod
  def describe(cls, name):
    """The help text of setting ``name``."""
    return cls.__dataclass_fields__[name].metadata["help"]


def _need(condition, message):
  if not condition:
    raise ConfigError(message)


def _check_numbers(config):
  for name in ("beta", "gamma", "capacity_max", "learning_rate",
               "gaussian_stddev"):
    value = getattr(config, name)
    _need(isinstance(value, (int, float)) and math.isfinite(value),
          f"--{name} must be a finite number, got {value!r}")
  _need(config.beta >= 0, f"--beta must be >= 0, got {config.beta}")
  _need(config.gamma >= 0, f"--gamma must be >= 0, got {config.gamma}")
  _need(config.capacity_max >= 0,
        f"--capacity_max must be >= 0 nats, got {config.capacity_max}")
  _need(config.learning_rate > 0,
        f"--learning_rate must be > 0, got {config.learning_rate}")


def _check_method(config):
  _need(config.objective == "H" or config.method == "annealed_vae",
        f"--objective=B is --method=annealed_vae; it cannot be combined "
        f"with --method={config.method}")
  for name in ("factor_gamma", "lambda_od", "discriminator_learning_rate"):
    value = getattr(config, name)
    _need(isinstance(value, (int, float)) and math.isfinite(value) and
          value >= 0, f"--{name} must be a finite number >= 0, got {value!r}")
  _need(config.discriminator_learning_rate > 0,
        f"--discriminator_learning_rate must be > 0, got "
        f"{config.discriminator_learning_rate}")
  if config.lambda_d_factor is not None:
    _need(isinstance(config.lambda_d_factor, (int, float)) and
          math.isfinite(config.lambda_d_factor) and
          config.lambda_d_factor >= 0,
          f"--lambda_d_factor must be a finite number >= 0, got "
          f"{config.lambda_d_factor!r}")
  if config.scream_image is not None:
    _need(config.dataset == "scream_dsprites",
          f"--scream_image is read only with --dataset=scream_dsprites, not "
          f"--dataset={config.dataset}")


def _check_pairs(config):
  """The weakly-supervised methods need a dataset that makes pairs, and a
  valid --k or --frame_gap; the others read neither."""
  method = methods_lib.get(config.method)
  weak = method.supervision == "pairs"
  frames = data_lib.is_frames(config.dataset)
  if not weak:
    _need(not frames,
          f"--dataset={config.dataset} holds pairs of frames for the "
          f"weakly-supervised methods "
          f"({', '.join(methods_lib.WEAK_METHODS)}); --method="
          f"{config.method} trains on single images: use folder:PATH for it")
    return
  _need(frames or config.dataset in data_lib.GROUND_TRUTH_DATASETS,
        f"--method={config.method} trains on pairs of observations, which "
        f"--dataset={config.dataset} cannot make (it has no ground-truth "
        f"factors); use a dataset with factors "
        f"({', '.join(data_lib.GROUND_TRUTH_DATASETS)}) or frames:PATH, a "
        f"folder of frame sequences")
  if frames:
    _need(not method.needs_labels,
          f"--method={config.method} reads which factor each pair changed, "
          f"and pairs of frames carry no such label; use ada_gvae or "
          f"ada_ml_vae on frames:PATH")
    try:
      data_lib.check_frame_gap(config.frame_gap)
    except ValueError as e:
      raise ConfigError(str(e)) from None
    return
  num_factors = data_lib.num_factors(config.dataset)
  try:
    data_lib.check_k(config.k, num_factors)
  except ValueError as e:
    raise ConfigError(f"{e} ({config.dataset} has {num_factors} "
                      f"factors)") from None
  if method.needs_labels:
    _need(isinstance(config.latent_dim, int) and
          config.latent_dim >= num_factors,
          f"--method={config.method} ties latent i to factor i and needs "
          f"--latent_dim >= the {num_factors} factors of {config.dataset}, "
          f"got {config.latent_dim}")


def _check_schedule(config):
  _need(isinstance(config.lr_warmup_steps, int) and
        config.lr_warmup_steps >= 0,
        f"--lr_warmup_steps must be an integer >= 0, got "
        f"{config.lr_warmup_steps!r}")
  _need(config.lr_decay in learning_rate_lib.DECAYS,
        f"unknown --lr_decay {config.lr_decay!r}; choose one of "
        f"{', '.join(learning_rate_lib.DECAYS)}")
  _need(config.lr_decay != "cosine" or not isinstance(config.steps, int) or
        config.lr_warmup_steps < config.steps,
        f"--lr_decay=cosine needs --lr_warmup_steps "
        f"({config.lr_warmup_steps}) < --steps ({config.steps}); shorten "
        f"the warm-up or train longer")
  for name in ("beta_hold_steps", "beta_warmup_steps"):
    value = getattr(config, name)
    _need(isinstance(value, int) and value >= 0,
          f"--{name} must be an integer >= 0, got {value!r}")
  ramp = config.beta_hold_steps + config.beta_warmup_steps
  if ramp:
    _need(config.method == "beta_vae",
          f"--beta_hold_steps and --beta_warmup_steps set the KL weight of "
          f"--method=beta_vae; --method={config.method} has none (leave "
          f"them at 0)")
    # A run that stops before the weight reaches β would be exported as a
    # β model while it was trained at a smaller weight.
    _need(not isinstance(config.steps, int) or ramp < config.steps,
          f"--beta_hold_steps + --beta_warmup_steps ({ramp}) must be < "
          f"--steps ({config.steps}); shorten the warm-up or train longer")
  _need(config.gaussian_stddev > 0,
        f"--gaussian_stddev must be > 0, got {config.gaussian_stddev}")


def _check_counts(config):
  for name in ("latent_dim", "batch_size", "steps", "capacity_steps",
               "checkpoint_every", "log_every"):
    value = getattr(config, name)
    _need(isinstance(value, int) and value > 0,
          f"--{name} must be a positive integer, got {value!r}")
  _need(isinstance(config.image_summary_every, int) and
        config.image_summary_every >= 0,
        f"--image_summary_every must be >= 0, got "
        f"{config.image_summary_every!r}")


def _check_names(config):
  _need(config.arch in models.ARCHITECTURES,
        f"unknown --arch {config.arch!r}; choose one of "
        f"{', '.join(models.ARCHITECTURES)}")
  _need(config.method in methods_lib.METHOD_NAMES,
        f"unknown --method {config.method!r}; choose one of "
        f"{', '.join(methods_lib.METHOD_NAMES)}")
  _need(config.objective in models.OBJECTIVES,
        f"unknown --objective {config.objective!r}; choose one of "
        f"{', '.join(models.OBJECTIVES)}")
  _need(config.likelihood in models.LIKELIHOODS,
        f"unknown --likelihood {config.likelihood!r}; choose one of "
        f"{', '.join(models.LIKELIHOODS)}")
  _need(config.mixed_precision in (False, None, "mixed_float16",
                                   "mixed_bfloat16"),
        f"--mixed_precision must be mixed_float16 or mixed_bfloat16, got "
        f"{config.mixed_precision!r}")
  _need(data_lib.is_known(config.dataset),
        f"unknown --dataset {config.dataset!r}; valid names: "
        f"{', '.join(data_lib.DATASETS)}")
