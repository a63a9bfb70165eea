"""The settings of a training run (TrainConfig) and the errors a run raises.

Each setting is defined once, as a TrainConfig field: its default and its
help text (``metadata["help"]``) live here, and scripts/train.py's flags
are generated from the fields (``tf_betavae.cli.define_config_flags``).
Field metadata understood by the flag generator:

* ``help``: the flag's help text (required);
* ``choices``: the allowed values (the flag becomes an enum);
* ``flag``: False when the program defines the flag itself because it
  takes another form on the command line (``mixed_precision``).
"""

import dataclasses
import math
from typing import Optional

from tf_betavae import data as data_lib
from tf_betavae import models
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
      "paper's 2D-shapes MLP (1200-1200 / 1200-1200-1200).",
      choices=list(models.ARCHITECTURES))
  latent_dim: int = _setting(
      10, "Number of latents (paper: 10 for 2D shapes).")
  likelihood: str = _setting(
      "bernoulli", "Pixel likelihood: bernoulli (binary images, the paper's "
      "choice for dSprites) or gaussian (RGB data).",
      choices=list(models.LIKELIHOODS))
  gaussian_stddev: float = _setting(
      1.0, "Fixed pixel std of the gaussian likelihood.")
  objective: str = _setting(
      "H", "H: recon + beta*KL (Higgins et al. 2017); B: recon + "
      "gamma*|KL - C| (Burgess et al. 2018).",
      choices=list(models.OBJECTIVES))
  beta: float = _setting(
      4.0, "KL weight of objective H (paper: 4 for 2D shapes, 250 for "
      "CelebA; 1 = plain VAE). Default on dsprites: 8 (the CPU recipe, "
      "--preset=cpu).")
  gamma: float = _setting(
      1000.0, "Weight of objective B (Burgess et al.: 1000).")
  capacity_max: float = _setting(
      25.0, "Final capacity C of objective B, nats (Burgess: 25).")
  capacity_steps: int = _setting(
      100000, "Steps over which C rises linearly from 0 to --capacity_max.")
  batch_size: int = _setting(
      64, "Global batch size (paper: 64).")
  learning_rate: float = _setting(
      5e-4, "Adam learning rate. Default on dsprites: 1e-3 (the CPU "
      "recipe). The peak rate when a schedule is on.")
  lr_warmup_steps: int = _setting(
      0, "Steps of a linear learning-rate warm-up from learning_rate/N to "
      "learning_rate (0 = none).")
  lr_decay: str = _setting(
      "constant", "Learning rate after the warm-up: constant, or a cosine "
      "decay that reaches 0 at --steps.",
      choices=list(learning_rate_lib.DECAYS))
  steps: int = _setting(
      6000, "Total optimizer steps. Default 6000 (on dsprites 10,000: about "
      "8 minutes on a 2-core CPU). --preset=paper gives 300,000.")
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
  data_dir: Optional[str] = _setting(
      None, "Where real datasets live (tensorflow-datasets data_dir; "
      "default $TFDS_DATA_DIR or ~/tensorflow_datasets). Nothing is "
      "downloaded.")
  dsprites_file: Optional[str] = _setting(
      None, "The official dSprites file (dsprites_ndarray_co1sh3sc6or"
      "40x32y32_64x64.npz or .hdf5) for --dataset=dsprites_official "
      "(implied when --dataset is not given).")

  def validate(self):
    """Raises ConfigError with a one-line reason for the first bad value."""
    for check in (_check_numbers, _check_schedule, _check_counts,
                  _check_names):
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
