"""Reproduces the β-VAE paper's 2D-shapes comparison (Higgins et al. 2017).

``reproduce(settings)`` trains the β-VAE recipe and the plain VAE (β = 1,
same architecture, steps and seeds) for every seed, scores each trained
encoder and the PCA, ICA, raw-pixel and untrained-encoder baselines with
the β-VAE metric under both protocols (``paper`` and
``disentanglement_lib``), MIG, FactorVAE, DCI and SAP, and returns the raw
results; ``write_markdown`` renders them as one table (mean ± std over
seeds) beside the paper's Table 1, with the machine, command, version and
wall time.

Layout under ``settings.work_dir``::

  runs/<recipe name>/seed<s>/                 a training run (training.train)
  runs/<recipe name>/seed<s>/exported/model/<version>/   its SavedModel
  runs/<recipe name>/seed<s>/reproduce_train_seconds.json  its training
      wall seconds, summed over invocations by the process that trained it
  evaluations/<model>/seed<s>/<metric key>.json          one cached result

Resumability: a run whose ``train_summary.json`` says it reached
``steps`` and whose export exists is not touched (no model is built); an
evaluation file is reused when its recorded key (metric, protocol, sizes,
metric seed, dataset and the representation: export path and step, or the
baseline's settings) equals the current one.  A rerun with the same
settings therefore trains nothing and evaluates nothing.  Raising
``steps`` continues every run from its checkpoint and re-evaluates it.

Randomness: run ``s`` trains with seed ``s``; its metrics use
``RandomState(metric_seed + s)``; baselines of seed ``s`` are fitted with
``RandomState(s)`` (PCA/ICA image sample, untrained-encoder weights).

Presets (``PRESETS``), with the CPU arithmetic (2-core CPU, idle):

* ``cpu`` (default): the CPU recipe (β = 8, Adam 1e-3, batch 64, conv, 10
  latents; tf_betavae.presets) for 3 seeds x 2 trained models x 20,000
  steps = 120,000 steps, trained 2 at a time in processes pinned to one
  core each (~14 steps/s each, 28 together) = ~71 min of training; the
  evaluations then also run 2 at a time.  Metrics at reduced sizes: β-VAE metric 2,000 train / 1,000 eval examples
  per protocol (3,000 x 64 pairs = 384,000 images encoded, ~40 s on a
  conv encoder, plus the classifier: the paper protocol's Adagrad on 2,000
  examples, up to 1,000 epochs, ~20 s), MIG 10,000 samples (full, ~2 s),
  FactorVAE 2,000 train / 1,000 eval (~20 s), DCI 2,000 train / 1,000 test
  (~30-60 s of gradient boosting), SAP 2,000 / 1,000 (~2 s): ~150 s per
  model and seed, x 6 models x 3 seeds = 2,700 s = 45 min serially (~25
  min 2 at a time).  DCI and SAP
  on raw pixels (4,096 code dimensions, one gradient-boosted model per
  factor over 4,096 features) use 500 / 250 samples.  Baselines are
  fitted on 5,000 images.  Total ~100 min; measured wall times are in
  docs/results.md.
* ``quick``: 1 seed x 300 steps, every metric at 300 / 150 samples
  (raw-pixel DCI and SAP at 100 / 50), baselines fitted on 1,000 images:
  a few minutes.  Tests shrink it further with overrides.
* ``gpu``: 3 seeds x 300,000 steps (disentanglement_lib's dSprites
  length), every metric at its full protocol sizes (β-VAE metric 10,000 /
  5,000, MIG 10,000, FactorVAE 10,000 / 5,000, DCI and SAP 10,000 /
  5,000), baselines fitted on 10,000 images.
"""

import dataclasses
import hashlib
import json
import math
import os
import platform
import time

from absl import logging
import numpy as np

from tf_betavae import io_utils
from tf_betavae import presets

# Higgins et al. 2017, Table 1: β-VAE metric (its own protocol), 2D shapes.
PAPER_TABLE1 = {
    "beta_vae": 0.9923, "vae": 0.6158, "pca": 0.849, "ica": 0.4203,
    "dc_ign": 0.993, "infogan": 0.735,
}
PAPER_SOURCE = ("Higgins et al. 2017, Table 1 (β-VAE metric under the "
                "paper's own protocol)")

# Models of the table, in order: key -> (label, kind).
MODELS = (
    ("beta_vae", "β-VAE", "trained"),
    ("vae", "VAE (β = 1)", "trained"),
    ("pca", "PCA", "baseline"),
    ("ica", "ICA", "baseline"),
    ("pixels", "raw pixels", "baseline"),
    ("untrained", "untrained encoder", "baseline"),
)
PAPER_ONLY = (("dc_ign", "DC-IGN"), ("infogan", "InfoGAN"))

@dataclasses.dataclass(frozen=True)
class MetricEntry:
  """One column of the table: a metric under one protocol and factor set.

  Attributes:
    key: column key (file name of its cached evaluations).
    metric: a name of tf_betavae.metrics.METRICS.
    protocol: the β-VAE metric's protocol (the other metrics have one).
    label: column heading.
    paper_factors: the factors the paper protocol labels ("auto": the
      paper's four on dSprites; "all"); None for the other entries.
  """

  key: str
  metric: str
  protocol: str
  label: str
  paper_factors: object = None


METRICS = (
    MetricEntry("beta_vae_paper", "beta_vae", "paper",
                "β-VAE metric (paper protocol, 4 factors: no shape)", "auto"),
    MetricEntry("beta_vae_paper_all", "beta_vae", "paper",
                "β-VAE metric (paper protocol, all 5 factors)", "all"),
    MetricEntry("beta_vae_dl", "beta_vae", "disentanglement_lib",
                "β-VAE metric (disentanglement_lib)"),
    MetricEntry("mig", "mig", "disentanglement_lib", "MIG"),
    MetricEntry("factor_vae", "factor_vae", "disentanglement_lib",
                "FactorVAE"),
    MetricEntry("dci", "dci", "disentanglement_lib", "DCI disentanglement"),
    MetricEntry("sap", "sap", "disentanglement_lib", "SAP"),
)
METRIC_KEYS = tuple(m.key for m in METRICS)
_METRIC_ENTRIES = {m.key: m for m in METRICS}
# The paper protocol's classifier, part of its cache key: results of the
# earlier mini-batch classifier (which stopped short of convergence) are
# recomputed rather than reused.
PAPER_CLASSIFIER = "full-batch-adagrad-standardised"

TARGETS = {"beta_vae_dl": 0.85, "mig": 0.30}
# "Encodes more than position and scale": captured factors (see
# captured_factors) must include one outside these on every seed.
POSITION_AND_SCALE = ("pos_x", "pos_y", "scale")
CAPTURE_MIN_NMI = 0.2
ACTIVE_KL_NATS = 0.1  # a trained latent is active above this KL (nats)
MAX_LISTED_LATENTS = 10  # latents listed per model for wide codes (pixels)

RESULTS_VERSION = 1
# "always" is left out: raw pixels (4,096 dims) cannot be tabulated.
CODE_TABLE_MODES = ("auto", "never")
EXPORT_SUBDIR = "exported"
EXPORT_NAME = "model"


class UsageError(ValueError):
  """A setting is invalid; the message is one line."""


@dataclasses.dataclass
class Recipe:
  """How the β-VAE is trained (the plain VAE uses the same with β = 1).

  Attributes mirror tf_betavae.training.TrainConfig.
  """

  beta: float = presets.CPU_RECIPE["beta"]
  learning_rate: float = presets.CPU_RECIPE["learning_rate"]
  lr_warmup_steps: int = 0
  lr_decay: str = "constant"
  objective: str = "H"
  batch_size: int = 64
  arch: str = "conv"
  latent_dim: int = 10
  likelihood: str = "bernoulli"
  gamma: float = 1000.0
  capacity_max: float = 25.0
  capacity_steps: int = 100000


@dataclasses.dataclass
class Preset:
  """Sizes of a reproduction.

  Attributes:
    steps: training steps of every run.
    num_seeds: seeds 0..num_seeds-1.
    num_train, num_eval: metric sample sizes (None: the metric's full
      disentanglement_lib size); see tf_betavae.metrics.run_metric.
    metric_sizes: {metric key: (num_train, num_eval)} for particular
      metrics (e.g. MIG, which is cheap, at full size).
    pixel_sizes: {metric key: (num_train, num_eval)} for the raw-pixel
      baseline (4,096 code dimensions make DCI and SAP slow).
    baseline_num_fit: images PCA and ICA are fitted on.
    parallel_runs: trainings (then evaluations) run at once, each in its
      own process pinned to its share of the CPUs
      (tf_betavae.pinned_workers); 1 runs everything in this process.
  """

  steps: int
  num_seeds: int
  num_train: object
  num_eval: object
  metric_sizes: dict
  pixel_sizes: dict
  baseline_num_fit: int
  parallel_runs: int = 1
  reference_num_seeds: object = None
  selection_check: bool = False
  udr_num_points: int = 10000


PRESETS = {
    "cpu": Preset(steps=20000, num_seeds=3, num_train=2000, num_eval=1000,
                  metric_sizes={"mig": (10000, None)},
                  pixel_sizes={"dci": (500, 250), "sap": (500, 250)},
                  baseline_num_fit=5000, parallel_runs=2),
    "quick": Preset(steps=300, num_seeds=1, num_train=300, num_eval=150,
                    metric_sizes={"mig": (2000, None)},
                    pixel_sizes={"dci": (100, 50), "sap": (100, 50)},
                    baseline_num_fit=1000),
    "gpu": Preset(steps=300000, num_seeds=3, num_train=None, num_eval=None,
                  metric_sizes={}, pixel_sizes={}, baseline_num_fit=10000),
    # The cpu recipe on 5 seeds (the VAE and the baselines on the first 3),
    # UDR picks one, and the pick is scored at full sizes.
    "select": Preset(steps=20000, num_seeds=5, num_train=2000, num_eval=1000,
                     metric_sizes={"mig": (10000, None)},
                     pixel_sizes={"dci": (500, 250), "sap": (500, 250)},
                     baseline_num_fit=5000, parallel_runs=2,
                     reference_num_seeds=3, selection_check=True),
}


@dataclasses.dataclass
class Settings:
  """Everything a reproduction depends on.

  Attributes:
    work_dir: runs and cached evaluations go here.
    preset: a name of PRESETS (recorded).
    recipe: Recipe of the β-VAE runs.
    steps: training steps of every run.
    seeds: list of int.
    num_train, num_eval: metric sizes (None: full size).
    metric_sizes: {metric key: (num_train, num_eval)} for particular metrics.
    pixel_sizes: {metric key: (num_train, num_eval)} for raw pixels.
    metrics: metric keys (METRIC_KEYS) to evaluate; the others are "not
      run" in the table.
    baseline_num_fit: images PCA/ICA are fitted on.
    metric_seed: metrics of seed s use RandomState(metric_seed + s).
    dsprites_file: the official dSprites file, or None for the simulator.
    parallel_runs: trainings and evaluations run at once in pinned worker
      processes (see Preset); changes how fast they run, not what they
      are (neither run directories nor evaluation keys depend on it).
    code_table: "auto" or "never" (CODE_TABLE_MODES): whether a model's
      metrics look codes up in a table of every observation encoded once
      (tf_betavae.metrics.code_table); like parallel_runs, changes speed,
      not scores, and is not part of evaluation keys.
    udr_num_points: images of the shared sample on which the seeds of each
      trained model are compared by UDR (disentanglement_lib: 10,000).
    reference_num_seeds: the VAE and the baselines use the first this many
      seeds (None: all); the β-VAE uses every seed.
    selection_check: also score the β-VAE and VAE seeds that UDR picks,
      and PCA of the first seed, with the β-VAE metric
      (disentanglement_lib) and MIG at full sizes, and check the picked
      β-VAE against SELECTION_TARGETS.
  """

  work_dir: str
  preset: str = "cpu"
  recipe: Recipe = dataclasses.field(default_factory=Recipe)
  steps: int = 8000
  seeds: list = dataclasses.field(default_factory=lambda: [0, 1, 2])
  num_train: object = 2000
  num_eval: object = 1000
  metric_sizes: dict = dataclasses.field(default_factory=dict)
  pixel_sizes: dict = dataclasses.field(default_factory=dict)
  metrics: list = dataclasses.field(default_factory=lambda: list(METRIC_KEYS))
  baseline_num_fit: int = 5000
  metric_seed: int = 0
  dsprites_file: object = None
  parallel_runs: int = 1
  code_table: str = "auto"
  udr_num_points: int = 10000
  reference_num_seeds: object = None
  selection_check: bool = False

  def model_seeds(self, model):
    """Seeds of one model of MODELS: every seed for the β-VAE, the first
    ``reference_num_seeds`` for the VAE and the baselines (all when
    None)."""
    if model == "beta_vae" or self.reference_num_seeds is None:
      return list(self.seeds)
    return list(self.seeds[:self.reference_num_seeds])

  @property
  def dataset(self):
    return "dsprites_official" if self.dsprites_file else "dsprites"

  def to_dict(self):
    return dataclasses.asdict(self)


def settings_from_preset(name, work_dir, **overrides):
  """Settings of a preset; keyword arguments that are not None override it.

  ``seeds`` overrides the preset's seed list; ``num_seeds`` its count.

  Raises:
    UsageError: unknown preset or a bad value.
  """
  if name not in PRESETS:
    raise UsageError(f"unknown --preset {name!r}; choose one of "
                     f"{', '.join(PRESETS)}")
  preset = PRESETS[name]
  values = dict(preset=name, steps=preset.steps,
                seeds=list(range(preset.num_seeds)),
                num_train=preset.num_train, num_eval=preset.num_eval,
                metric_sizes=dict(preset.metric_sizes),
                pixel_sizes=dict(preset.pixel_sizes),
                baseline_num_fit=preset.baseline_num_fit,
                parallel_runs=preset.parallel_runs,
                reference_num_seeds=preset.reference_num_seeds,
                selection_check=preset.selection_check,
                udr_num_points=preset.udr_num_points)
  num_seeds = overrides.pop("num_seeds", None)
  if num_seeds is not None:
    if num_seeds < 1:
      raise UsageError(f"--num_seeds must be at least 1, got {num_seeds}")
    values["seeds"] = list(range(num_seeds))
  values.update({k: v for k, v in overrides.items() if v is not None})
  settings = Settings(work_dir=work_dir, **values)
  if overrides.get("num_train") is not None or overrides.get(
      "num_eval") is not None:
    # Explicit sizes replace per-metric sizes and cap the raw-pixel sizes.
    settings.metric_sizes = {}
    settings.pixel_sizes = {
        key: (_min(n_train, settings.num_train), _min(n_eval,
                                                      settings.num_eval))
        for key, (n_train, n_eval) in settings.pixel_sizes.items()}
  validate(settings)
  return settings


def _min(a, b):
  return a if b is None else min(a, b)


def validate(settings):
  """Raises UsageError (one line) for the first bad setting."""
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  unknown = [k for k in settings.metrics if k not in METRIC_KEYS]
  if unknown or not settings.metrics:
    raise UsageError(f"--metrics must be a comma-separated subset of "
                     f"{','.join(METRIC_KEYS)}; got {settings.metrics}")
  if not settings.seeds:
    raise UsageError("--seeds is empty")
  if len(set(settings.seeds)) != len(settings.seeds):
    raise UsageError(f"--seeds has duplicates: {settings.seeds}")
  if any(not isinstance(s, int) or s < 0 for s in settings.seeds):
    raise UsageError(f"--seeds must be non-negative integers, got "
                     f"{settings.seeds}")
  for name in ("num_train", "num_eval"):
    value = getattr(settings, name)
    if value is not None and value < 10:
      raise UsageError(f"--{name} must be at least 10, got {value}")
  if not isinstance(settings.parallel_runs, int) or settings.parallel_runs < 1:
    raise UsageError(f"--parallel_runs must be a positive integer, got "
                     f"{settings.parallel_runs}")
  if settings.code_table not in CODE_TABLE_MODES:
    raise UsageError(f"--code_table must be one of "
                     f"{', '.join(CODE_TABLE_MODES)}, got "
                     f"{settings.code_table!r}")
  if settings.reference_num_seeds is not None and not (
      1 <= settings.reference_num_seeds <= len(settings.seeds)):
    raise UsageError(f"--reference_num_seeds must be between 1 and the "
                     f"number of seeds ({len(settings.seeds)}), got "
                     f"{settings.reference_num_seeds}")
  if settings.udr_num_points < 10:
    raise UsageError(f"--udr_num_points must be at least 10, got "
                     f"{settings.udr_num_points}")
  if settings.baseline_num_fit < 20:
    raise UsageError(f"--baseline_num_fit must be at least 20, got "
                     f"{settings.baseline_num_fit}")
  try:
    for beta in (settings.recipe.beta, 1.0):
      train_config(settings, beta, settings.seeds[0]).validate()
  except training.ConfigError as e:
    raise UsageError(str(e)) from None


def train_config(settings, beta, seed):
  """The TrainConfig of one run (objective, sizes from the recipe)."""
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  recipe = settings.recipe
  steps = settings.steps
  return training.TrainConfig(
      dataset=settings.dataset, arch=recipe.arch,
      latent_dim=recipe.latent_dim, likelihood=recipe.likelihood,
      objective=recipe.objective, beta=float(beta), gamma=recipe.gamma,
      capacity_max=recipe.capacity_max, capacity_steps=recipe.capacity_steps,
      batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
      lr_warmup_steps=recipe.lr_warmup_steps, lr_decay=recipe.lr_decay,
      steps=steps, seed=int(seed),
      checkpoint_every=max(1, min(2000, steps)),
      log_every=max(1, min(500, steps)), image_summary_every=0,
      dsprites_file=settings.dsprites_file)


def recipe_name(config):
  """Directory name of a recipe (all but steps and seed), e.g.
  'beta16-H-lr0.001-bs64-conv-z10-1a2b3c', or with a learning-rate schedule
  'beta16-H-lr0.001-warmup2000-cosine20000-bs64-conv-z10-4d5e6f' (a cosine
  decay's length is part of its recipe).

  A constant rate without warm-up leaves the schedule settings out of the
  name and its digest, so work dirs written before schedules existed keep
  their names (and are reused).
  """
  values = config.to_dict()
  cosine = config.lr_decay == "cosine"
  # A cosine schedule depends on the run's length: its steps are part of the
  # recipe, so --steps=N never resumes a run made for another length.
  for name in (() if cosine else ("steps",)) + (
      "seed", "checkpoint_every", "log_every", "image_summary_every",
      "jit_compile", "mixed_precision", "data_dir"):
    values.pop(name, None)
  schedule = ""
  if config.lr_warmup_steps == 0 and not cosine:
    values.pop("lr_warmup_steps", None)
    values.pop("lr_decay", None)
  else:
    schedule = (f"-warmup{config.lr_warmup_steps}"
                + (f"-cosine{config.steps}" if cosine else ""))
  digest = hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()
  return (f"beta{config.beta:g}-{config.objective}-lr{config.learning_rate:g}"
          f"{schedule}-bs{config.batch_size}-{config.arch}"
          f"-z{config.latent_dim}-{digest[:6]}")


def _read_json(path):
  return io_utils.read_json(path) if os.path.exists(path) else None


def finished_summary(config, run_dir):
  """The run's training summary if it reached config.steps and its export
  exists, else None."""
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  summary = _read_json(os.path.join(run_dir, training.SUMMARY_FILE))
  if (summary and summary.get("step") == config.steps and
      summary.get("export_path") and os.path.exists(summary["export_path"])):
    return summary
  return None


def train_or_reuse(config, run_dir):
  """Trains (or resumes) one run; reuses it untouched when it is finished.

  Returns:
    (summary, reused): training.train's summary dict (export_path, step,
    metrics with kl_latent_<j> in nats, wall_seconds) and whether the run
    was finished already.
  """
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  summary = finished_summary(config, run_dir)
  if summary:
    logging.info("%s is trained to step %d; reusing it", run_dir,
                 config.steps)
    return summary, True
  logging.info("training %s (beta %g, seed %d, %d steps)", run_dir,
               config.beta, config.seed, config.steps)
  summary = training.train(config, run_dir,
                           export_dir=os.path.join(run_dir, EXPORT_SUBDIR),
                           export_name=EXPORT_NAME)
  # Recorded here, in the process that trained the run, so the time of a
  # run finished by a worker survives an interruption of the other runs.
  _add_train_seconds(run_dir, summary.get("wall_seconds"))
  return summary, False


def metric_sizes(settings, model, metric_key):
  """(num_train, num_eval) of one metric entry of one model (None = full)."""
  if model == "pixels" and metric_key in settings.pixel_sizes:
    return tuple(settings.pixel_sizes[metric_key])
  if metric_key in settings.metric_sizes:
    return tuple(settings.metric_sizes[metric_key])
  return settings.num_train, settings.num_eval


def jsonable(value):
  """numpy scalars/arrays, tuples and dict keys made JSON-friendly."""
  if isinstance(value, dict):
    return {str(k): jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [jsonable(v) for v in value]
  if isinstance(value, np.ndarray):
    return jsonable(value.tolist())
  if isinstance(value, np.generic):
    return value.item()
  return value


def latent_factors(mig_result, factor_names, active=None):
  """Which factor each latent captures, from MIG's mutual information.

  NMI(z_j, v_k) = I(z_j; v_k) / H(v_k), with z_j discretised into MIG's
  histogram bins (disentanglement_lib's MIG normalisation); factors with
  zero entropy get 0.

  Args:
    mig_result: dict of tf_betavae.metrics.mig (``mutual_info`` [D][K]
      nats, ``factor_entropy`` [K] nats).
    factor_names: K factor names.
    active: list of latent indices to report, or None for all.

  Returns:
    dict: ``latents``, a list (best NMI first, at most MAX_LISTED_LATENTS
    entries when the code has more than 64 dimensions) of {latent, factor,
    nmi, nmi_per_factor}; ``num_latents`` (D) and ``num_active``.
  """
  mutual_info = np.asarray(mig_result["mutual_info"], np.float64)
  entropy = np.asarray(mig_result["factor_entropy"], np.float64)
  with np.errstate(divide="ignore", invalid="ignore"):
    nmi = np.where(entropy[None, :] > 0, mutual_info / entropy[None, :], 0.0)
  indices = list(range(nmi.shape[0])) if active is None else list(active)
  entries = []
  for j in indices:
    k = int(np.argmax(nmi[j]))
    entries.append({
        "latent": int(j), "factor": factor_names[k],
        "nmi": round(float(nmi[j, k]), 4),
        "nmi_per_factor": {name: round(float(v), 4)
                           for name, v in zip(factor_names, nmi[j])},
    })
  entries.sort(key=lambda e: -e["nmi"])
  if nmi.shape[0] > 64:
    entries = entries[:MAX_LISTED_LATENTS]
  return {"latents": entries, "num_latents": int(nmi.shape[0]),
          "num_active": len(indices)}


def active_latents(train_metrics):
  """Indices of latents whose training KL exceeds ACTIVE_KL_NATS (nats)."""
  kls = {int(k[len("kl_latent_"):]): v for k, v in train_metrics.items()
         if k.startswith("kl_latent_")}
  return sorted(j for j, kl in kls.items() if kl > ACTIVE_KL_NATS)


class _Evaluator:
  """Runs or reuses the metric entries of one (model, seed)."""

  def __init__(self, settings, ground_truth, model, seed, source, build_fn):
    self._settings = settings
    self._gt = ground_truth
    self._model = model
    self._seed = seed
    self._source = source
    self._build_fn = build_fn
    self._fn = None
    self._table_info = None
    self.computed = []
    self.reused = []
    self._dir = os.path.join(settings.work_dir, "evaluations", model,
                             f"seed{seed}")

  def planned_images(self, metric_keys):
    """Images the metrics of ``metric_keys`` would encode without a table."""
    from tf_betavae import metrics  # pylint: disable=g-import-not-at-top
    total = 0
    for metric_key in metric_keys:
      entry = _METRIC_ENTRIES[metric_key]
      num_train, num_eval = metric_sizes(self._settings, self._model,
                                         metric_key)
      total += metrics.code_table_lib.planned_images(
          entry.metric, metrics.metric_sizes(entry.metric, entry.protocol,
                                             num_train, num_eval))
    return total

  def _representation(self):
    """(representation fn, code-table info): the built representation,
    tabulated (every observation encoded once) when the metrics still to
    compute would encode at least as many images; see
    tf_betavae.metrics.tabulate_if_worth_it.  Scores do not depend on it."""
    from tf_betavae import metrics  # pylint: disable=g-import-not-at-top
    fn = self._build_fn()
    pending = [k for k in self._settings.metrics if self.cached(k) is None]
    fn, info = metrics.tabulate_if_worth_it(
        self._gt, fn, self.planned_images(pending),
        code_table=self._settings.code_table)
    if info["used"]:
      logging.info("%s seed %d: code table of %d observations built in "
                   "%.0f s", self._model, self._seed, info["observations"],
                   info["build_seconds"])
    return fn, info

  def key(self, metric_key):
    entry = _METRIC_ENTRIES[metric_key]
    num_train, num_eval = metric_sizes(self._settings, self._model,
                                       metric_key)
    key = {"version": RESULTS_VERSION, "metric": entry.metric,
           "protocol": entry.protocol,
           "num_train": num_train, "num_eval": num_eval,
           "metric_seed": self._settings.metric_seed + self._seed,
           "dataset": self._settings.dataset,
           "dsprites_file": self._settings.dsprites_file,
           "source": self._source}
    if entry.paper_factors is not None:
      key.update(paper_factors=entry.paper_factors,
                 classifier=PAPER_CLASSIFIER)
    return key

  def cached(self, metric_key):
    """The cached result dict of a metric entry, or None."""
    cached = _read_json(os.path.join(self._dir, metric_key + ".json"))
    if cached and cached.get("key") == self.key(metric_key):
      return cached["result"]
    return None

  def result(self, metric_key):
    """The metric's result dict (with ``seconds``), cached on disk."""
    from tf_betavae import metrics  # pylint: disable=g-import-not-at-top
    path = os.path.join(self._dir, metric_key + ".json")
    key = self.key(metric_key)
    cached = self.cached(metric_key)
    if cached is not None:
      self.reused.append(metric_key)
      return cached
    setup_seconds = None
    if self._fn is None:
      setup_start = time.time()
      self._fn, self._table_info = self._representation()
      setup_seconds = round(time.time() - setup_start, 2)
    logging.info("evaluating %s seed %d: %s", self._model, self._seed,
                 metric_key)
    start = time.time()
    result = metrics.run_metric(
        key["metric"], self._gt, self._fn,
        np.random.RandomState(key["metric_seed"]), protocol=key["protocol"],
        num_train=key["num_train"], num_eval=key["num_eval"],
        paper_factors=key.get("paper_factors", "auto"))
    result = jsonable(result)
    result["seconds"] = round(time.time() - start, 2)
    result["code_table"] = jsonable(self._table_info)
    if setup_seconds is not None:
      # Loading the model (or fitting the baseline) and building the code
      # table, paid once by the first metric computed in this process.
      result["setup_seconds"] = setup_seconds
    os.makedirs(self._dir, exist_ok=True)
    io_utils.write_json_atomic(path, {"key": key, "result": result})
    self.computed.append(metric_key)
    logging.info("%s seed %d: %s = %.4f (%.0f s)", self._model, self._seed,
                 metric_key, result["score"], result["seconds"])
    return result


def _trained_fn(export_path, ground_truth):
  def build():
    from tf_betavae import metrics  # pylint: disable=g-import-not-at-top
    return metrics.saved_model_representation(
        export_path, observation_shape=ground_truth.observation_shape)
  return build


def _baseline_fn(name, ground_truth, seed, settings):
  def build():
    from tf_betavae.metrics import baselines  # pylint: disable=g-import-not-at-top
    logging.info("building the %s baseline (seed %d)", name, seed)
    return baselines.make_baseline(
        name, ground_truth, np.random.RandomState(seed), seed,
        settings.recipe.latent_dim, settings.baseline_num_fit)
  return build


def _seed_entry(evaluator, factor_names, active, metric_keys):
  results = {key: evaluator.result(key) for key in metric_keys}
  scores = {key: float(r["score"]) for key, r in results.items()}

  def get(key, field):
    return results[key].get(field) if key in results else None

  details = {
      "dci_completeness": get("dci", "completeness"),
      "dci_informativeness_test": get("dci", "informativeness_test"),
      "beta_vae_dl_train_accuracy": get("beta_vae_dl", "train_accuracy"),
      "beta_vae_paper_train_accuracy": get("beta_vae_paper",
                                           "train_accuracy"),
      "beta_vae_paper_all_train_accuracy": get("beta_vae_paper_all",
                                               "train_accuracy"),
      # What a linear classifier trained to convergence reaches on the
      # same training examples (the paper classifier should match it).
      "beta_vae_paper_lr_train_accuracy": _classifier_detail(
          results, "beta_vae_paper", "logistic_regression_train_accuracy"),
      "beta_vae_paper_all_lr_train_accuracy": _classifier_detail(
          results, "beta_vae_paper_all",
          "logistic_regression_train_accuracy"),
      "factor_vae_num_active_dims": get("factor_vae", "num_active_dims"),
  }
  return {
      "scores": scores,
      "details": details,
      "metric_parameters": {k: r.get("parameters") for k, r in results.items()},
      "metric_seconds": {k: r.get("seconds") for k, r in results.items()},
      "setup_seconds": sum(r.get("setup_seconds") or 0.0
                           for r in results.values()),
      "factors": (latent_factors(results["mig"], factor_names, active)
                  if "mig" in results else None),
      "evaluations_computed": list(evaluator.computed),
      "evaluations_reused": list(evaluator.reused),
  }


def _classifier_detail(results, metric_key, field):
  if metric_key not in results:
    return None
  return (results[metric_key].get("classifier") or {}).get(field)


def better_half(values):
  """The better half of runs: the largest ceil(n / 2) values.

  The paper is recalled to report the better half of its runs; the table
  gives their mean beside the mean over all runs.

  Args:
    values: sequence of floats, n >= 1.

  Returns:
    float64 np.ndarray of the ceil(n / 2) largest values, largest first.
  """
  values = np.sort(np.asarray(values, np.float64))[::-1]
  return values[:(len(values) + 1) // 2]


def _summary(seed_entries):
  """{metric key: mean, std (population), n, better_half_mean,
  better_half_n} over seeds, evaluated keys."""
  out = {}
  for key in METRIC_KEYS:
    values = np.array([e["scores"][key] for e in seed_entries.values()
                       if key in e["scores"]], np.float64)
    if len(values):
      best = better_half(values)
      out[key] = {"mean": float(values.mean()), "std": float(values.std()),
                  "n": int(len(values)),
                  "better_half_mean": float(best.mean()),
                  "better_half_n": int(len(best))}
  return out


def checks(results):
  """Pass/fail of the β-VAE entries against the targets.

  Returns:
    list of {name, passed, detail}: mean β-VAE metric (disentanglement_lib)
    ≥ 0.85, mean MIG ≥ 0.30, on every seed the β-VAE's β-VAE metric
    (disentanglement_lib) above the plain VAE's and PCA's, and on every
    seed a captured factor other than position and scale (MIG's NMI; see
    ``captured_factors``).  A check whose metric was not evaluated fails
    with detail "not evaluated".
  """
  models = results["models"]
  beta = models["beta_vae"]
  out = []
  for key, target in TARGETS.items():
    name = f"{_label(key)} mean ≥ {target:.2f}"
    if key not in beta["summary"]:
      out.append({"name": name, "passed": False, "detail": "not evaluated"})
      continue
    mean = beta["summary"][key]["mean"]
    out.append({"name": name, "passed": bool(mean >= target),
                "detail": f"{mean:.4f} over {beta['summary'][key]['n']} "
                          "seed(s)"})
  for other in ("vae", "pca"):
    name = (f"β-VAE beats {_model_label(other)} on the β-VAE metric "
            "(disentanglement_lib) on every seed")
    if "beta_vae_dl" not in beta["summary"]:
      out.append({"name": name, "passed": False, "detail": "not evaluated"})
      continue
    per_seed = []
    for seed, entry in beta["seeds"].items():
      if seed not in models[other]["seeds"]:
        continue  # the references may have fewer seeds
      mine = entry["scores"]["beta_vae_dl"]
      theirs = models[other]["seeds"][seed]["scores"]["beta_vae_dl"]
      per_seed.append((seed, mine, theirs))
    out.append({
        "name": name, "passed": all(m > t for _, m, t in per_seed),
        "detail": ", ".join(f"seed {s}: {m:.4f} vs {t:.4f}"
                            for s, m, t in per_seed)})
  out.append(_coverage_check(beta))
  if "selection" in results:
    out.extend(results["selection"]["checks"])
  return out


def captured_factors(factors_entry, min_nmi=CAPTURE_MIN_NMI):
  """Factors that some listed latent captures.

  A latent captures factor k when k is its highest-NMI factor and that NMI
  is at least ``min_nmi``.

  Args:
    factors_entry: ``latent_factors`` output (or None).
    min_nmi: float.

  Returns:
    sorted list of factor names.
  """
  if not factors_entry:
    return []
  return sorted({e["factor"] for e in factors_entry["latents"]
                 if e["nmi"] >= min_nmi})


def _coverage_check(beta):
  """β-VAE latents capture a factor other than position and scale on every
  seed (the issue's "more than position and scale")."""
  name = (f"β-VAE captures more than position and scale on every seed (an "
          f"active latent whose highest-NMI factor, NMI ≥ {CAPTURE_MIN_NMI}, "
          f"is not {'/'.join(POSITION_AND_SCALE)})")
  if not beta["seeds"] or any(e.get("factors") is None
                              for e in beta["seeds"].values()):
    return {"name": name, "passed": False, "detail": "not evaluated"}
  per_seed = {seed: captured_factors(entry["factors"])
              for seed, entry in beta["seeds"].items()}
  passed = all(set(f) - set(POSITION_AND_SCALE) for f in per_seed.values())
  return {"name": name, "passed": bool(passed),
          "detail": "; ".join(f"seed {s}: {', '.join(f) or 'none'}"
                              for s, f in per_seed.items())}


def _label(metric_key):
  return _METRIC_ENTRIES[metric_key].label


def _model_label(model):
  return next(label for key, label, _ in MODELS if key == model)


def machine_info():
  """Platform, CPU count, TensorFlow version and GPUs of this machine."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  gpus = []
  for device in tf.config.list_physical_devices("GPU"):
    try:
      name = tf.config.experimental.get_device_details(device).get(
          "device_name", device.name)
    except Exception:  # pylint: disable=broad-except
      name = device.name
    gpus.append(name)
  return {"platform": platform.platform(), "python": platform.python_version(),
          "cpu_count": os.cpu_count(), "tensorflow": tf.__version__,
          "gpus": gpus}


def reproduce(settings, ground_truth=None):
  """Trains, evaluates (or reuses both) and returns the raw results.

  Args:
    settings: Settings.
    ground_truth: ground-truth object (default: the simulator, or the
      official dSprites file of settings.dsprites_file).

  Returns:
    JSON-serialisable dict: settings, models (per model: label, kind,
    paper (Table 1 value or None), seeds {str(seed): scores, details,
    factors, training info}, summary {metric key: mean, std, n}),
    checks, passed, trained (run dirs trained in this call), evaluations
    computed/reused counts, compute_seconds (training + metric seconds of
    every run and evaluation, cached or not) and wall_seconds of this call.

  Raises:
    UsageError, tf_betavae.training.ConfigError,
    tf_betavae.data.DatasetUnavailableError,
    tf_betavae.training.NonFiniteLossError.
  """
  import tf_betavae  # pylint: disable=g-import-not-at-top
  from tf_betavae import data as data_lib  # pylint: disable=g-import-not-at-top
  start = time.time()
  validate(settings)
  given_ground_truth = ground_truth is not None
  if ground_truth is None:
    ground_truth = data_lib.ground_truth(
        settings.dataset, dsprites_file=settings.dsprites_file)
  factor_names = list(ground_truth.factor_names)
  os.makedirs(settings.work_dir, exist_ok=True)
  models = {}
  trained, computed, reused = [], 0, 0
  compute_seconds = 0.0
  runs = train_all(settings)
  jobs = []  # (model, seed, source, export_path, active)
  training_entries = {}
  for model, _, kind in MODELS:
    for seed in settings.model_seeds(model):
      if kind == "trained":
        beta = settings.recipe.beta if model == "beta_vae" else 1.0
        config = train_config(settings, beta, seed)
        run_dir = run_directory(settings, config)
        summary, was_reused = runs[run_dir]
        if not was_reused:
          trained.append(run_dir)
        train_metrics = summary.get("metrics", {})
        source = {"export_path": os.path.abspath(summary["export_path"]),
                  "step": summary["step"]}
        train_seconds = _train_seconds(run_dir)
        has_kl = any(k.startswith("kl_latent_") for k in train_metrics)
        active = active_latents(train_metrics) if has_kl else None
        jobs.append((model, seed, source, summary["export_path"], active))
        training_entries[(model, seed)] = {
            "run_dir": run_dir, "step": summary["step"],
            "export_path": source["export_path"],
            "beta": beta, "config": config.to_dict(),
            "reused": was_reused,
            "train_seconds": train_seconds,
            "final_metrics": train_metrics,
            "active_latents": active_latents(train_metrics)}
        compute_seconds += train_seconds or 0.0
      else:
        source = {"baseline": model, "seed": seed,
                  "dim": settings.recipe.latent_dim,
                  "num_fit": settings.baseline_num_fit}
        jobs.append((model, seed, source, None, None))
  entries = _evaluate_all(settings, ground_truth, given_ground_truth, jobs)
  for model, label, kind in MODELS:
    seeds = {}
    for seed in settings.model_seeds(model):
      entry = entries[(model, seed)]
      if kind == "trained":
        entry["training"] = training_entries[(model, seed)]
      computed += len(entry["evaluations_computed"])
      reused += len(entry["evaluations_reused"])
      compute_seconds += sum(v or 0.0 for v in entry["metric_seconds"].values())
      compute_seconds += entry.get("setup_seconds") or 0.0
      seeds[str(seed)] = entry
    models[model] = {"label": label, "kind": kind,
                     "paper": PAPER_TABLE1.get(model), "seeds": seeds,
                     "summary": _summary(seeds)}
  results = {
      "settings": jsonable(settings.to_dict()),
      "package_version": tf_betavae.__version__,
      "machine": machine_info(),
      "paper": {"source": PAPER_SOURCE, "values": dict(PAPER_TABLE1)},
      "factor_names": factor_names,
      "models": models,
      "trained": trained,
      "evaluations_computed": computed,
      "evaluations_reused": reused,
      "compute_seconds": round(compute_seconds, 1),
  }
  for model, _, kind in MODELS:
    if kind == "trained" and len(settings.model_seeds(model)) > 1:
      sources = {seed: training_entries[(model, seed)]
                 for seed in settings.model_seeds(model)}
      models[model]["udr"] = udr_of_seeds(settings, ground_truth, model,
                                          sources)
      compute_seconds += models[model]["udr"]["seconds"]
  results["udr_rank_correlations"] = udr_rank_correlations(models)
  if settings.selection_check and "udr" in models["beta_vae"]:
    results["selection"] = selection_check(settings, ground_truth, models)
    compute_seconds += results["selection"]["seconds"]
  results["compute_seconds"] = round(compute_seconds, 1)
  results["checks"] = checks(results)
  results["passed"] = all(c["passed"] for c in results["checks"])
  results["wall_seconds"] = round(time.time() - start, 1)
  return results


# Raw-pixel evaluations cost the most (gradient boosting over 4,096
# features): they are handed out first so that workers finish together.
_EVALUATION_ORDER = {"pixels": 0, "beta_vae": 1, "vae": 1}


def _evaluate_all(settings, ground_truth, given_ground_truth, jobs):
  """Evaluates (or reuses) every (model, seed) of ``jobs``.

  With ``settings.parallel_runs`` > 1 and more than one (model, seed) left
  to compute, they run in pinned worker processes that rebuild the ground
  truth from the settings (not possible for a ground truth handed in by
  the caller: that runs here).

  Returns:
    {(model, seed): _seed_entry dict}.
  """
  from tf_betavae import pinned_workers  # pylint: disable=g-import-not-at-top
  pending = [job for job in jobs
             if not _all_cached(settings, job[0], job[1], job[2])]
  parallel = (settings.parallel_runs > 1 and len(pending) > 1 and
              not given_ground_truth)
  entries = {}
  if parallel:
    pending.sort(key=lambda job: _EVALUATION_ORDER.get(job[0], 2))
    logging.info("evaluating %d models, %d at a time in pinned processes",
                 len(pending), settings.parallel_runs)
    outcomes = pinned_workers.run_pinned(
        evaluate_job, [(settings, None) + tuple(job) for job in pending],
        settings.parallel_runs)
    for job, entry in zip(pending, outcomes):
      entries[(job[0], job[1])] = entry
  for job in jobs:
    if (job[0], job[1]) not in entries:
      entries[(job[0], job[1])] = evaluate_job(settings, ground_truth, *job)
  return entries


# Targets of the model UDR picks among the β-VAE seeds, full sizes.
SELECTION_TARGETS = {"beta_vae_dl": 0.88, "mig": 0.35}
SELECTION_METRICS = ("beta_vae_dl", "mig")


def selection_check(settings, ground_truth, models):
  """Scores the UDR-picked β-VAE and VAE and PCA (first seed) at full
  sizes and checks the picked β-VAE against SELECTION_TARGETS and the
  other two.

  Args:
    settings: Settings.
    ground_truth: ground-truth object.
    models: reproduce()'s ``models`` dict (with ``udr`` entries).

  Returns:
    dict: ``picked`` {model: seed}, ``scores`` {model: {metric key:
    score}}, ``checks`` (list of {name, passed, detail}), ``seconds``.
  """
  start = time.time()
  full = dataclasses.replace(settings, num_train=None, num_eval=None,
                             metric_sizes={}, pixel_sizes={})
  picked = {"beta_vae": models["beta_vae"]["udr"]["picked_seed"]}
  if "udr" in models["vae"]:
    picked["vae"] = models["vae"]["udr"]["picked_seed"]
  else:
    picked["vae"] = int(next(iter(models["vae"]["seeds"])))
  picked["pca"] = int(next(iter(models["pca"]["seeds"])))
  scores = {}
  for model, seed in picked.items():
    if model == "pca":
      source = {"baseline": model, "seed": seed,
                "dim": settings.recipe.latent_dim,
                "num_fit": settings.baseline_num_fit}
      build = _baseline_fn(model, ground_truth, seed, settings)
    else:
      training = models[model]["seeds"][str(seed)]["training"]
      source = {"export_path": training["export_path"],
                "step": training["step"]}
      build = _trained_fn(training["export_path"], ground_truth)
    evaluator = _Evaluator(full, ground_truth, f"{model}_full_size", seed,
                           source, build)
    scores[model] = {key: float(evaluator.result(key)["score"])
                     for key in SELECTION_METRICS}
  mine = scores["beta_vae"]
  checks_out = []
  for key, target in SELECTION_TARGETS.items():
    checks_out.append({
        "name": (f"UDR-picked β-VAE (seed {picked['beta_vae']}) "
                 f"{_label(key)} at full size ≥ {target:.2f}"),
        "passed": bool(mine[key] >= target),
        "detail": f"{mine[key]:.4f}"})
  for other in ("vae", "pca"):
    theirs = scores[other]["beta_vae_dl"]
    checks_out.append({
        "name": (f"UDR-picked β-VAE beats {_model_label(other)} (seed "
                 f"{picked[other]}) on the β-VAE metric "
                 "(disentanglement_lib) at full size"),
        "passed": bool(mine["beta_vae_dl"] > theirs),
        "detail": f"{mine['beta_vae_dl']:.4f} vs {theirs:.4f}"})
  return {"picked": picked, "scores": scores, "checks": checks_out,
          "seconds": round(time.time() - start, 2)}


UDR_METHODS = ("udr_lasso", "udr_spearman")
UDR_FILE = "udr.json"


def udr_of_seeds(settings, ground_truth, model, runs):
  """UDR of one trained model's seeds against each other (cached).

  Every seed's export encodes one shared sample of
  ``settings.udr_num_points`` images drawn with
  ``RandomState(settings.metric_seed)``; UDR with the Lasso and the
  Spearman correlation (tf_betavae.metrics.udr) is computed over the
  seeds; the seed with the highest Lasso UDR is the one UDR picks.

  Args:
    settings: Settings.
    ground_truth: the ground-truth object images are drawn from.
    model: a trained model key of MODELS.
    runs: {seed: training entry with ``run_dir``, ``step`` and
      ``export_path``}, at least two seeds.

  Returns:
    dict: ``per_seed`` {str(seed): {udr_lasso, udr_spearman,
    informative_latents}}, ``picked_seed`` (int), ``parameters``,
    ``seconds``, ``reused`` (bool).
  """
  from tf_betavae import selection  # pylint: disable=g-import-not-at-top
  seeds = sorted(runs)
  key = {"version": RESULTS_VERSION, "methods": list(UDR_METHODS),
         "num_points": settings.udr_num_points,
         "sample_seed": settings.metric_seed, "dataset": settings.dataset,
         "dsprites_file": settings.dsprites_file,
         "sources": {str(seed): {"export_path": runs[seed]["export_path"],
                                 "step": runs[seed]["step"]}
                     for seed in seeds}}
  path = os.path.join(settings.work_dir, "evaluations", model, UDR_FILE)
  cached = _read_json(path)
  if cached and cached.get("key") == key:
    return dict(cached["result"], reused=True)
  start = time.time()
  logging.info("UDR of %s over seeds %s", model, seeds)
  scored = selection.udr_of_exports(
      [runs[seed]["export_path"] for seed in seeds], settings.dataset,
      settings.udr_num_points, np.random.RandomState(settings.metric_seed),
      ground_truth, UDR_METHODS)
  per_seed = {str(seed): entry
              for seed, entry in zip(seeds, scored["per_model"])}
  parameters = scored["parameters"]
  result = {
      "per_seed": per_seed,
      "picked_seed": int(max(seeds, key=lambda s: (
          per_seed[str(s)]["udr_lasso"], -s))),
      "parameters": parameters,
      "seconds": round(time.time() - start, 2),
  }
  os.makedirs(os.path.dirname(path), exist_ok=True)
  io_utils.write_json_atomic(path, {"key": key, "result": result})
  return dict(result, reused=False)


def udr_rank_correlations(models, method="udr_lasso"):
  """Spearman rank correlation between UDR and each supervised metric.

  Over every (trained model, seed) that has a UDR: UDR is computed within
  one model's seeds, and the correlation pools all of them, as Duan et al.
  2020 report it.

  Args:
    models: reproduce()'s ``models`` dict.
    method: a key of UDR_METHODS.

  Returns:
    dict {metric key: {"rho": float or None, "n": int}}; rho is None with
    fewer than 3 models or a constant column.
  """
  import scipy.stats  # pylint: disable=g-import-not-at-top
  out = {}
  for key in METRIC_KEYS:
    pairs = []
    for entry in models.values():
      if "udr" not in entry:
        continue
      for seed, seed_entry in entry["seeds"].items():
        if key in seed_entry["scores"] and seed in entry["udr"]["per_seed"]:
          pairs.append((entry["udr"]["per_seed"][seed][method],
                        seed_entry["scores"][key]))
    rho = None
    if len(pairs) >= 3:
      x, y = np.array(pairs, np.float64).T
      if np.ptp(x) > 0 and np.ptp(y) > 0:
        rho = float(scipy.stats.spearmanr(x, y)[0])
    if pairs:
      out[key] = {"rho": rho, "n": len(pairs)}
  return out


_JOB_GROUND_TRUTHS = {}


def evaluate_job(settings, ground_truth, model, seed, source, export_path,
                 active):
  """The _seed_entry of one (model, seed); ground_truth None: built from
  the settings (once per process)."""
  if ground_truth is None:
    key = (settings.dataset, settings.dsprites_file)
    if key not in _JOB_GROUND_TRUTHS:
      from tf_betavae import data as data_lib  # pylint: disable=g-import-not-at-top
      _JOB_GROUND_TRUTHS[key] = data_lib.ground_truth(
          settings.dataset, dsprites_file=settings.dsprites_file)
    ground_truth = _JOB_GROUND_TRUTHS[key]
  if export_path is not None:
    build = _trained_fn(export_path, ground_truth)
  else:
    build = _baseline_fn(model, ground_truth, seed, settings)
  evaluator = _Evaluator(settings, ground_truth, model, seed, source, build)
  return _seed_entry(evaluator, list(ground_truth.factor_names), active,
                     settings.metrics)


def _all_cached(settings, model, seed, source):
  evaluator = _Evaluator(settings, None, model, seed, source, None)
  return all(evaluator.cached(key) for key in settings.metrics)


def run_directory(settings, config):
  """<work_dir>/runs/<recipe name>/seed<s> of one run."""
  return os.path.join(settings.work_dir, "runs", recipe_name(config),
                      f"seed{config.seed}")


def train_all(settings):
  """Trains (or reuses) the β-VAE and VAE runs of every seed.

  With ``settings.parallel_runs`` > 1, the runs that still need training
  are trained ``parallel_runs`` at a time in worker processes pinned to
  disjoint CPUs (tf_betavae.pinned_workers); finished runs are reused
  without starting a worker.

  Returns:
    {run_dir: (summary, reused)} as ``train_or_reuse`` returns them.
  """
  from tf_betavae import pinned_workers  # pylint: disable=g-import-not-at-top
  jobs = []
  for model, _, kind in MODELS:
    if kind != "trained":
      continue
    for seed in settings.model_seeds(model):
      beta = settings.recipe.beta if model == "beta_vae" else 1.0
      config = train_config(settings, beta, seed)
      jobs.append((config, run_directory(settings, config)))
  runs = {}
  to_train = []
  for config, run_dir in jobs:
    summary = finished_summary(config, run_dir)
    if summary:
      runs[run_dir] = train_or_reuse(config, run_dir)
    else:
      to_train.append((config, run_dir))
  if settings.parallel_runs > 1 and len(to_train) > 1:
    logging.info("training %d runs, %d at a time in pinned processes",
                 len(to_train), settings.parallel_runs)
    outcomes = pinned_workers.run_pinned(train_or_reuse, to_train,
                                         settings.parallel_runs)
  else:
    outcomes = [train_or_reuse(config, run_dir)
                for config, run_dir in to_train]
  for (_, run_dir), outcome in zip(to_train, outcomes):
    runs[run_dir] = outcome
  return runs


TRAIN_SECONDS_FILE = "reproduce_train_seconds.json"


def _add_train_seconds(run_dir, seconds):
  """Adds one training invocation's wall seconds to the run's record."""
  path = os.path.join(run_dir, TRAIN_SECONDS_FILE)
  record = _read_json(path) or {"seconds": 0.0}
  record["seconds"] += float(seconds or 0.0)
  io_utils.write_json_atomic(path, record)


def _train_seconds(run_dir):
  """Training wall seconds of a run summed over this script's invocations
  (recorded in <run_dir>/reproduce_train_seconds.json by train_or_reuse)."""
  record = _read_json(os.path.join(run_dir, TRAIN_SECONDS_FILE))
  return round(record["seconds"], 1) if record else 0.0


def _fmt(summary, key, percent=False):
  """'mean ± std' of a summary entry; accuracies as percentages followed
  by the mean of the better half of runs when there are several."""
  entry = summary.get(key)
  if not entry or entry["n"] == 0 or not math.isfinite(entry["mean"]):
    return "—"
  if percent:
    text = f"{100 * entry['mean']:.1f} ± {100 * entry['std']:.1f}%"
    if entry["n"] > 1 and "better_half_mean" in entry:
      text += f" (better half: {100 * entry['better_half_mean']:.1f}%)"
    return text
  return f"{entry['mean']:.3f} ± {entry['std']:.3f}"


def gap_to_paper(results):
  """How much of the gap between the β-VAE's paper-protocol score and the
  paper's Table 1 value is the protocol's factor set and how much is
  training, from the 4- and 5-factor paper-protocol entries, and what the
  four factors do to the baselines; None when either entry was not
  evaluated.  Percentage points of accuracy."""
  models = results["models"]
  summary = models["beta_vae"]["summary"]
  if "beta_vae_paper" not in summary or "beta_vae_paper_all" not in summary:
    return None
  paper = 100 * PAPER_TABLE1["beta_vae"]
  four, five = summary["beta_vae_paper"], summary["beta_vae_paper_all"]
  mean4, mean5 = 100 * four["mean"], 100 * five["mean"]
  best4 = 100 * four["better_half_mean"]
  steps = results["settings"]["steps"]
  if best4 >= paper:
    best_words = (f"the better half of runs scores {best4:.1f}%, the "
                  f"paper's value or more")
  else:
    best_words = (f"{paper - best4:.1f} for the better half of runs, "
                  f"{best4:.1f}%")
  text = (
      f"Protocol: on the same β-VAE runs, labelling the paper's four "
      f"factors instead of all five moves the paper-protocol score from "
      f"{mean5:.1f}% to {mean4:.1f}% (mean over runs), so "
      f"{mean4 - mean5:.1f} of the {paper - mean5:.1f} points between the "
      f"five-factor score and the paper's {paper:.2f}% are the protocol's "
      f"factor set. Training: the remaining {paper - mean4:.1f} points "
      f"({best_words}) are the models themselves, trained {steps:,} steps "
      f"here: the seeds that give shape or orientation no latent of their "
      f"own, or split a position over two latents (see the factor list).")
  baselines = []
  for model in ("vae", "pca"):
    entry = models.get(model, {}).get("summary", {})
    if "beta_vae_paper" in entry and "beta_vae_paper_all" in entry:
      baselines.append(
          f"{_model_label(model)} {100 * entry['beta_vae_paper']['mean']:.1f}"
          f"% with four factors and "
          f"{100 * entry['beta_vae_paper_all']['mean']:.1f}% with five "
          f"(paper: {100 * PAPER_TABLE1[model]:.2f}%)")
  if baselines:
    text += (" The four factors lift every representation, not only the "
             "β-VAE: " + "; ".join(baselines) + ".")
  return text


def _factor_line(entry):
  factors = entry["factors"]
  if factors is None:
    return "MIG not evaluated"
  parts = [f"z{e['latent']}→{e['factor']} {e['nmi']:.2f}"
           for e in factors["latents"]]
  more = ""
  if factors["num_latents"] > 64:
    more = f" (top {len(parts)} of {factors['num_latents']} dimensions)"
  elif factors["num_active"] != factors["num_latents"]:
    more = f" ({factors['num_active']} of {factors['num_latents']} active)"
  return (", ".join(parts) or "no active latent") + more


def _schedule_words(recipe):
  """' (2000-step linear warm-up, then cosine decay to 0 at the last step)'
  or '' for a constant
  rate (also for results written before schedules existed)."""
  warmup = recipe.get("lr_warmup_steps", 0)
  decay = recipe.get("lr_decay", "constant")
  if warmup == 0 and decay == "constant":
    return ""
  parts = [f"{warmup}-step linear warm-up"] if warmup else []
  if decay == "cosine":
    parts.append("cosine decay to 0 at the last step")
  return " (" + ", then ".join(parts) + ")"


def _score_text(value):
  return "—" if value is None else f"{value:.3f}"


def udr_lines(results):
  """Markdown lines of the UDR section ([] when no model has a UDR)."""
  models = results["models"]
  with_udr = [(key, models[key]) for key, _, _ in MODELS
              if "udr" in models.get(key, {})]
  if not with_udr:
    return []
  num_points = results["settings"].get("udr_num_points")
  lines = [
      "## Choosing without labels (UDR)", "",
      f"UDR (Duan et al. 2020; [model_selection.md](model_selection.md)) "
      f"compares the seeds of each trained model with each other on one "
      f"shared sample of {num_points:,} images, without labels; the seed "
      "with the highest UDR (Lasso) is the one a user without labels would "
      "keep. Supervised scores beside it are the table's.", "",
      "| model | seed | UDR (Lasso) | UDR (Spearman) | informative latents "
      "| β-VAE metric (disentanglement_lib) | MIG | picked by UDR |",
      "|---|---|---|---|---|---|---|---|"]
  for _, entry in with_udr:
    udr = entry["udr"]
    for seed, seed_udr in udr["per_seed"].items():
      scores = entry["seeds"][seed]["scores"]
      lines.append(
          f"| {entry['label']} | {seed} | {seed_udr['udr_lasso']:.3f} | "
          f"{seed_udr['udr_spearman']:.3f} | "
          f"{seed_udr['informative_latents']} | "
          f"{_score_text(scores.get('beta_vae_dl'))} | "
          f"{_score_text(scores.get('mig'))} | "
          f"{'yes' if int(seed) == udr['picked_seed'] else ''} |")
  lines.append("")
  for _, entry in with_udr:
    picked = str(entry["udr"]["picked_seed"])
    parts = []
    for key in ("beta_vae_dl", "mig"):
      if key in entry["summary"]:
        values = [e["scores"][key] for e in entry["seeds"].values()]
        parts.append(
            f"{_label(key)} {entry['seeds'][picked]['scores'][key]:.3f} "
            f"against {entry['summary'][key]['mean']:.3f} (mean over "
            f"seeds; best seed {max(values):.3f}, worst {min(values):.3f})")
    lines.append(f"- {entry['label']}: UDR picks seed {picked}"
                 + (": " + "; ".join(parts) if parts else "") + ".")
  correlations = results.get("udr_rank_correlations") or {}
  listed = [f"{_label(k)} {v['rho']:+.2f}" for k, v in correlations.items()
            if v["rho"] is not None]
  if listed:
    count = next(iter(correlations.values()))["n"]
    lines.append(
        f"- Spearman rank correlation of UDR (Lasso) with each metric over "
        f"the {count} trained models (every seed of every trained model): "
        + ", ".join(listed) + ".")
  selection = results.get("selection")
  if selection:
    scored = "; ".join(
        f"{_model_label(model)} seed {selection['picked'][model]}: "
        + ", ".join(f"{_label(k)} {v:.3f}" for k, v in scores.items())
        for model, scores in selection["scores"].items())
    lines.append(
        "- At full sizes (β-VAE metric 10,000 / 5,000 examples, MIG 10,000 "
        f"samples): {scored}.")
  lines.append("")
  return lines


def write_markdown(results, path, command):
  """Writes the results as markdown (one table plus context); returns path.

  Args:
    results: reproduce()'s dict.
    path: output .md path (directories are created).
    command: the exact command line, a str.
  """
  settings = results["settings"]
  machine = results["machine"]
  beta_metrics = [k for k in METRIC_KEYS if k.startswith("beta_vae")]
  lines = ["# Reproduction: β-VAE on 2D shapes (dSprites)", ""]
  lines.append(
      f"Preset `{settings['preset']}`: {settings['steps']:,} training steps "
      f"per run, seeds {', '.join(map(str, settings['seeds']))}, dataset "
      f"`{'official file ' + settings['dsprites_file'] if settings['dsprites_file'] else 'dsprites simulator'}`. "
      "Every number is mean ± std over seeds (population std). β-VAE "
      "metric columns are accuracies, followed by the mean of the better "
      "half of runs (the largest ceil(n / 2) scores; the paper is recalled "
      "to report the better half of its runs); the paper column is "
      f"{PAPER_SOURCE}. The paper-protocol columns label the four factors "
      "the paper is recalled to have labelled (no shape) and all five; see "
      "docs/metrics.md.")
  lines.append("")
  header = (["model", "paper (Table 1)"] +
            [entry.label for entry in METRICS] + ["targets"])
  lines.append("| " + " | ".join(header) + " |")
  lines.append("|" + "---|" * len(header))
  check_list = results["checks"]
  for model, _, kind in MODELS:
    entry = results["models"][model]
    paper = (f"{100 * entry['paper']:.2f}%" if entry["paper"] is not None
             else "—")
    cells = [entry["label"], paper]
    for key in METRIC_KEYS:
      cells.append(_fmt(entry["summary"], key, percent=key in beta_metrics)
                   if key in settings["metrics"] else "not run")
    if model == "beta_vae":
      cells.append("; ".join(
          f"{'PASS' if c['passed'] else 'FAIL'}: {c['name']}"
          for c in check_list))
    else:
      cells.append("")
    del kind
    lines.append("| " + " | ".join(cells) + " |")
  for key, label in PAPER_ONLY:
    cells = [label, f"{100 * PAPER_TABLE1[key]:.2f}%"] + [
        "not run"] * len(METRIC_KEYS) + [""]
    lines.append("| " + " | ".join(cells) + " |")
  lines.append("")
  lines.append("Targets (β-VAE): " + ("**all passed**" if results["passed"]
                                       else "**not all passed**") + ".")
  for c in check_list:
    lines.append(f"- {'PASS' if c['passed'] else 'FAIL'} — {c['name']}: "
                 f"{c['detail']}")
  lines.append("")
  gap = gap_to_paper(results)
  if gap:
    lines += ["## The gap to the paper's 99.23%", "", gap, ""]
  lines += udr_lines(results)
  lines.append("## Which factor each latent captures")
  lines.append("")
  lines.append("Normalised mutual information NMI = I(z_j; v_k) / H(v_k) "
               "between each latent (means, discretised into MIG's 20 "
               "histogram bins) and each factor, from the MIG evaluation; "
               "`zj→factor nmi` lists each active latent's best factor "
               f"(trained models: latents with training KL > "
               f"{ACTIVE_KL_NATS} nats; baselines: every dimension).")
  lines.append("")
  for model, label, _ in MODELS:
    seeds = results["models"][model]["seeds"]
    lines.append(f"- {label}: " + "; ".join(
        f"seed {s}: {_factor_line(e)}" for s, e in seeds.items()))
  lines.append("")
  lines.append("## Settings")
  lines.append("")
  recipe = settings["recipe"]
  lines.append(
      f"- β-VAE recipe: β = {recipe['beta']:g}, objective "
      f"{recipe['objective']}, learning rate {recipe['learning_rate']:g}"
      f"{_schedule_words(recipe)}, "
      f"batch {recipe['batch_size']}, {recipe['arch']} architecture, "
      f"{recipe['latent_dim']} latents, {recipe['likelihood']} likelihood; "
      "the VAE is the same with β = 1.")
  sizes = f"{settings['num_train'] or 'full'} / {settings['num_eval'] or 'full'}"
  pixel = ", ".join(f"{k} {v[0]} / {v[1]}"
                    for k, v in sorted(settings["pixel_sizes"].items()))
  special = ", ".join(f"{k} {v[0] or 'full'} / {v[1] or 'full'}"
                      for k, v in sorted(settings["metric_sizes"].items()))
  lines.append(
      f"- Metric sizes (train / eval examples or samples): {sizes}" +
      (f"; {special}" if special else "") +
      (f"; raw pixels: {pixel}" if pixel else "") +
      f"; metric seed of run s: {settings['metric_seed']} + s; PCA/ICA "
      f"fitted on {settings['baseline_num_fit']} images; code table: "
      f"{settings.get('code_table', 'auto')}. The exact "
      "parameters of every evaluation are in the JSON.")
  gpus = ", ".join(machine["gpus"]) or "none"
  lines.append(f"- Machine: {machine['platform']}, {machine['cpu_count']} "
               f"CPUs, Python {machine['python']}, TensorFlow "
               f"{machine['tensorflow']}, GPU: {gpus}.")
  lines.append(f"- Package: tf_betavae {results['package_version']}.")
  lines.append(
      f"- Wall time of the command that wrote this file: "
      f"{results['wall_seconds']:.0f} s; compute time of all runs and "
      f"evaluations (including reused ones): "
      f"{results['compute_seconds']:.0f} s (runs trained in parallel "
      f"count once each); trained in that command: "
      f"{len(results['trained'])} run(s), "
      f"{results['settings'].get('parallel_runs', 1)} at a time; "
      f"evaluations computed / reused: "
      f"{results['evaluations_computed']} / {results['evaluations_reused']}.")
  lines.append("")
  lines.append("Command:")
  lines.append("")
  lines.append("```")
  lines.append(command)
  lines.append("```")
  lines.append("")
  lines.append("This file is written by `scripts/reproduce.py` and replaced "
               "by each run; hand-written notes on runs and the recipe "
               "search are in [recipe_search.md](recipe_search.md).")
  lines.append("")
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.write("\n".join(lines))
  os.replace(tmp, path)
  return path


def json_path_for(markdown_path):
  """The raw-results JSON beside a markdown path: results.md -> results.json."""
  root, _ = os.path.splitext(markdown_path)
  return root + ".json"


def write_json(results, path):
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  io_utils.write_json_atomic(path, results)
  return path
