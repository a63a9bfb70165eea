"""What a reproduction of the β-VAE paper's 2D-shapes table is.

The table (``MODELS`` by ``METRICS``), the training recipe (``Recipe``),
the sizes of each preset (``PRESETS``) and every setting of one
reproduction (``Settings``), checked by ``validate``.

Presets (sizes; wall times are in docs/results.md and docs/results_cpu.md):

* ``cpu`` (default): the CPU recipe (β = 8, Adam 1e-3, batch 64, conv
  encoder and broadcast decoder, 8 latents; tf_betavae.training.presets)
  for 3 seeds x 2 trained models x 20,000 steps, trained 2 at a time in
  processes pinned to one core each, then evaluated 2 at a time.  Metrics
  at reduced sizes: β-VAE metric 2,000 train / 1,000 eval examples per
  protocol, MIG 10,000 samples (full),
  FactorVAE, DCI and SAP 2,000 / 1,000; DCI and SAP on raw pixels (4,096
  code dimensions, one gradient-boosted model per factor over 4,096
  features) at 500 / 250.  Baselines are fitted on 5,000 images.
* ``select``: the cpu recipe on 5 seeds (the VAE and the baselines on the
  first 3); UDR picks a β-VAE seed, which is scored at full sizes.
* ``select_factor_vae``: the selection recipe of docs/recipe_search.md:
  FactorVAE (γ = 35, 8 latents) on 7 seeds, the β-VAE, the VAE and the
  baselines on the first seed only (so it fits 3 hours on 2 cores); UDR
  (Spearman) picks a FactorVAE seed, which is scored at full sizes.
* ``quick``: 1 seed x 300 steps, every metric at 300 / 150 samples
  (raw-pixel DCI and SAP at 100 / 50), baselines fitted on 1,000 images.
  Tests shrink it further with overrides.
* ``gpu``: 3 seeds x 300,000 steps (disentanglement_lib's dSprites
  length), every metric at its full protocol sizes, baselines fitted on
  10,000 images.

Other methods (``Settings.methods``, scripts/reproduce.py --methods): one
more row per method of tf_betavae.models.methods, trained like the β-VAE
(its seeds, steps, batch, architecture, latents and learning rate) at one
value of the method's hyperparameter (``METHOD_VALUES`` unless given), and
scored and ranked by UDR like it.

Randomness: run ``s`` trains with seed ``s``; its metrics use
``RandomState(metric_seed + s)``; baselines of seed ``s`` are fitted with
``RandomState(s)``.
"""

import dataclasses

from tf_betavae import training
from tf_betavae.metrics import code_table
from tf_betavae.metrics import udr as udr_metric
from tf_betavae.models import methods as methods_lib
from tf_betavae.training import presets

# Higgins et al. 2017, Table 1: β-VAE metric (its own protocol), 2D shapes.
PAPER_TABLE1 = {
    "beta_vae": 0.9923, "vae": 0.6158, "pca": 0.849, "ica": 0.4203,
    "dc_ign": 0.993, "infogan": 0.735,
}
PAPER_SOURCE = ("Higgins et al. 2017, Table 1 (β-VAE metric under the "
                "paper's own protocol)")

# Models of the table, in order: (key, label, kind).
MODELS = (
    ("beta_vae", "β-VAE", "trained"),
    ("vae", "VAE (β = 1)", "trained"),
    ("pca", "PCA", "baseline"),
    ("ica", "ICA", "baseline"),
    ("pixels", "raw pixels", "baseline"),
    ("untrained", "untrained encoder", "baseline"),
)
PAPER_ONLY = (("dc_ign", "DC-IGN"), ("infogan", "InfoGAN"))

# The value of each method's hyperparameter its row of the table is trained
# at (--methods; --method_values overrides it): the value the method's paper
# uses on dSprites (2D shapes).
METHOD_VALUES = {
    # Burgess et al. 2018: capacity C_max = 25 nats (with γ = 1000).
    "annealed_vae": 25.0,
    # Kim & Mnih 2018: γ = 35, their best-scoring dSprites model.
    "factor_vae": 35.0,
    # Kumar et al. 2018: λ_od = 10 (λ_d = 10 λ_od for DIP-VAE-I, λ_od for
    # DIP-VAE-II: tf_betavae.models.methods.DEFAULT_LAMBDA_D_FACTOR).
    "dip_vae_i": 10.0,
    "dip_vae_ii": 10.0,
    # Chen et al. 2018: β = 6 (a total-correlation weight of β - 1 = 5).
    "beta_tc_vae": 6.0,
}
# How a row label writes each method's hyperparameter.
HYPERPARAMETER_SYMBOLS = {"beta": "β", "factor_gamma": "γ",
                          "capacity_max": "C_max", "lambda_od": "λ_od"}


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
METRIC_ENTRIES = {m.key: m for m in METRICS}

# Code-table modes a reproduction accepts: "always" is left out because
# raw pixels (4,096 dims) cannot be tabulated.
REPRODUCE_CODE_TABLE_MODES = tuple(
    m for m in code_table.CODE_TABLE_MODES if m != "always")


def metric_label(metric_key):
  """Column heading of a metric key."""
  return METRIC_ENTRIES[metric_key].label


def model_label(model):
  """Row label of a model key of MODELS."""
  return next(label for key, label, _ in MODELS if key == model)


def method_label(method, value):
  """Row label of a method's row: its title and value, e.g.
  'FactorVAE (γ = 35)'."""
  info = methods_lib.get(method)
  symbol = HYPERPARAMETER_SYMBOLS.get(info.hyperparameter,
                                      info.hyperparameter)
  return f"{info.title} ({symbol} = {float(value):g})"


def table_models(methods=None):
  """The rows of the table, (key, label, kind) each: MODELS, with a
  trained row per method of ``methods`` ({method name: value}; its key is
  the method's name) after the VAE."""
  rows = list(MODELS)
  after_vae = [key for key, _, _ in rows].index("vae") + 1
  extra = [(method, method_label(method, value), "trained")
           for method, value in (methods or {}).items()]
  return tuple(rows[:after_vae] + extra + rows[after_vae:])


class UsageError(ValueError):
  """A setting is invalid; the message is one line."""


@dataclasses.dataclass
class Recipe:
  """How the β-VAE is trained (the plain VAE uses the same with β = 1).

  Attributes mirror tf_betavae.training.TrainConfig.
  """

  beta: float = presets.CPU_RECIPE["beta"]
  beta_hold_steps: int = 0
  beta_warmup_steps: int = 0
  learning_rate: float = presets.CPU_RECIPE["learning_rate"]
  lr_warmup_steps: int = 0
  lr_decay: str = "constant"
  objective: str = "H"
  batch_size: int = 64
  arch: str = presets.CPU_RECIPE["arch"]
  latent_dim: int = presets.CPU_RECIPE["latent_dim"]
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
      (tf_betavae.experiments.parallel); 1 runs everything in this process.
    reference_num_seeds: see Settings.
    selection_check: see Settings.
    udr_num_points: see Settings.
    reference_beta_vae: see Settings.
    udr_criterion: see Settings.
    methods: {method: value} trained unless --methods names others (see
      Settings.methods).
    recipe: {Recipe attribute: value} the preset sets unless the caller
      gives that attribute (e.g. latent_dim).
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
  reference_beta_vae: bool = False
  udr_criterion: str = "udr_lasso"
  methods: dict = dataclasses.field(default_factory=dict)
  recipe: dict = dataclasses.field(default_factory=dict)


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
    # docs/recipe_search.md, tries 49-51: FactorVAE at 8 latents is the
    # recipe whose seeds most often meet the selection targets, and UDR
    # needs 7 seeds (Spearman) to pick one of those in most pools.  Only
    # FactorVAE runs on every seed: 7 of them plus one β-VAE and one VAE
    # are the 9 runs that fit 3 hours two at a time.
    "select_factor_vae": Preset(
        steps=20000, num_seeds=7, num_train=2000, num_eval=1000,
        metric_sizes={"mig": (10000, None)},
        pixel_sizes={"dci": (500, 250), "sap": (500, 250)},
        baseline_num_fit=5000, parallel_runs=2, reference_num_seeds=1,
        selection_check=True, reference_beta_vae=True,
        udr_criterion="udr_spearman", methods={"factor_vae": 35.0},
        # The conv decoder, as exported/dsprites/2 was trained (before
        # try 59 moved the CPU recipe to the broadcast decoder).
        recipe={"latent_dim": 8, "arch": "conv"}),
}
# The UDRs a reproduction computes, one per correlation of the metric.
UDR_CRITERIA = tuple(f"udr_{c}" for c in udr_metric.CORRELATIONS)


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
    code_table: one of REPRODUCE_CODE_TABLE_MODES: whether a model's
      metrics look codes up in a table of every observation encoded once
      (tf_betavae.metrics.code_table); like parallel_runs, changes speed,
      not scores, and is not part of evaluation keys.
    udr_num_points: images of the shared sample on which the seeds of each
      trained model are compared by UDR (disentanglement_lib: 10,000).
    reference_num_seeds: the VAE and the baselines use the first this many
      seeds (None: all); the β-VAE uses every seed unless
      reference_beta_vae.
    reference_beta_vae: the β-VAE, too, uses only the reference seeds (a
      preset that selects among another method's seeds).
    udr_criterion: one of UDR_CRITERIA: the UDR whose highest seed is
      picked (both are always computed and reported).
    selection_check: also score the seeds UDR picks (the β-VAE's and every
      other method's, where they have several seeds; the VAE's pick or
      first seed) and PCA of the first seed, with the β-VAE metric
      (disentanglement_lib) and MIG at full sizes, and check each pick
      against udr.SELECTION_TARGETS.
    representation: what the trained models' metrics score: "mean" (the
      posterior mean) or "sampled" (a sample from the posterior per image),
      disentanglement_lib's two postprocessings; baselines have no
      posterior and are scored on their codes either way.
    methods: {method name: value of its hyperparameter}: a row per method
      of tf_betavae.models.methods (not beta_vae: the β-VAE row is always
      there), trained with the β-VAE's seeds and recipe.
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
  methods: dict = dataclasses.field(default_factory=dict)
  reference_beta_vae: bool = False
  udr_criterion: str = "udr_lasso"
  representation: str = "mean"

  def table_models(self):
    """(key, label, kind) of every row of the table (see table_models)."""
    return table_models(self.methods)

  def model_seeds(self, model):
    """Seeds of one model of the table: every seed for the other methods
    and the β-VAE (unless ``reference_beta_vae``), the first
    ``reference_num_seeds`` for the VAE and the baselines (all when
    None)."""
    every_seed = model in self.methods or (
        model == "beta_vae" and not self.reference_beta_vae)
    if every_seed or self.reference_num_seeds is None:
      return list(self.seeds)
    return list(self.seeds[:self.reference_num_seeds])

  def model_beta(self, model):
    """β of a trained model: the recipe's for the β-VAE, 1 for the VAE."""
    return self.recipe.beta if model == "beta_vae" else 1.0

  def model_train_config(self, model, seed):
    """The TrainConfig of a trained model of the table and a seed."""
    if model in self.methods:
      return method_train_config(self, model, self.methods[model], seed)
    return train_config(self, self.model_beta(model), seed)

  @property
  def dataset(self):
    return "dsprites_official" if self.dsprites_file else "dsprites"

  def to_dict(self):
    values = dataclasses.asdict(self)
    # A reproduction that does not use a setting records what it always did.
    if not self.methods:
      del values["methods"]
    if not self.reference_beta_vae:
      del values["reference_beta_vae"]
    if self.udr_criterion == "udr_lasso":
      del values["udr_criterion"]
    if self.representation == "mean":
      del values["representation"]
    return values


def settings_from_preset(name, work_dir, **overrides):
  """Settings of a preset; keyword arguments that are not None override it.

  ``seeds`` overrides the preset's seed list; ``num_seeds`` its count.
  Explicit ``num_train``/``num_eval`` replace the per-metric sizes and cap
  the raw-pixel sizes.  ``recipe`` (a Recipe) replaces the recipe;
  ``recipe_values`` ({Recipe attribute: value}, e.g. the flags a user gave)
  override the preset's recipe settings, which override Recipe's
  defaults.  ``methods`` (non-empty) replaces the preset's methods.

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
                udr_num_points=preset.udr_num_points,
                reference_beta_vae=preset.reference_beta_vae,
                udr_criterion=preset.udr_criterion,
                methods=dict(preset.methods),
                recipe=Recipe(**{**preset.recipe,
                                 **(overrides.pop("recipe_values", None)
                                    or {})}))
  if not overrides.get("methods"):
    overrides.pop("methods", None)
  num_seeds = overrides.pop("num_seeds", None)
  if num_seeds is not None:
    if num_seeds < 1:
      raise UsageError(f"--num_seeds must be at least 1, got {num_seeds}")
    values["seeds"] = list(range(num_seeds))
  values.update({k: v for k, v in overrides.items() if v is not None})
  settings = Settings(work_dir=work_dir, **values)
  if overrides.get("num_train") is not None or overrides.get(
      "num_eval") is not None:
    settings.metric_sizes = {}
    settings.pixel_sizes = {
        key: (_min(n_train, settings.num_train), _min(n_eval,
                                                      settings.num_eval))
        for key, (n_train, n_eval) in settings.pixel_sizes.items()}
  validate(settings)
  return settings


def _min(a, b):
  return a if b is None else min(a, b)


def _validate_seeds(settings):
  if not settings.seeds:
    raise UsageError("--seeds is empty")
  if len(set(settings.seeds)) != len(settings.seeds):
    raise UsageError(f"--seeds has duplicates: {settings.seeds}")
  if any(not isinstance(s, int) or s < 0 for s in settings.seeds):
    raise UsageError(f"--seeds must be non-negative integers, got "
                     f"{settings.seeds}")


def _validate_sample_sizes(settings):
  for name in ("num_train", "num_eval"):
    value = getattr(settings, name)
    if value is not None and value < 10:
      raise UsageError(f"--{name} must be at least 10, got {value}")


def _validate_references_and_fits(settings):
  if settings.reference_num_seeds is not None and not (
      1 <= settings.reference_num_seeds <= len(settings.seeds)):
    raise UsageError(f"--reference_num_seeds must be between 1 and the "
                     f"number of seeds ({len(settings.seeds)}), got "
                     f"{settings.reference_num_seeds}")
  if settings.udr_criterion not in UDR_CRITERIA:
    raise UsageError(f"--udr_criterion must be one of "
                     f"{', '.join(UDR_CRITERIA)}, got "
                     f"{settings.udr_criterion!r}")
  if settings.udr_num_points < 10:
    raise UsageError(f"--udr_num_points must be at least 10, got "
                     f"{settings.udr_num_points}")
  if settings.baseline_num_fit < 20:
    raise UsageError(f"--baseline_num_fit must be at least 20, got "
                     f"{settings.baseline_num_fit}")


def parse_methods(methods, method_values=None):
  """{method: value} of --methods and --method_values.

  Args:
    methods: list of method names (tf_betavae.models.methods), each given
      once; not beta_vae (the β-VAE row is always in the table).
    method_values: list of 'method:value' strings for some of them; the
      others take METHOD_VALUES.

  Returns:
    dict {method name: float}, in the order of ``methods``; names are
    checked by ``validate``.

  Raises:
    UsageError: a repeated or misplaced name, a malformed value.
  """
  names = [m.strip() for m in methods if m.strip()]
  if len(set(names)) != len(names):
    raise UsageError(f"--methods has duplicates: {','.join(names)}")
  values = {}
  for text in method_values or ():
    name, colon, number = text.strip().partition(":")
    try:
      value = float(number) if colon else None
    except ValueError:
      value = None
    if value is None:
      raise UsageError(f"--method_values takes method:value pairs (e.g. "
                       f"factor_vae:20), got {text.strip()!r}")
    if name not in names or name in values:
      raise UsageError(f"--method_values: {name!r} is not a method of "
                       f"--methods ({','.join(names) or 'none given'}) or "
                       "is given twice")
    values[name] = value
  return {name: values.get(name, METHOD_VALUES.get(name)) for name in names}


def _validate_methods(settings):
  for method, value in settings.methods.items():
    if method == "beta_vae":
      raise UsageError("--methods: the β-VAE row is always in the table "
                       "(--beta sets its β); name the other methods")
    if method not in METHOD_VALUES:
      raise UsageError(f"--methods: unknown method {method!r}; choose from "
                       f"{', '.join(METHOD_VALUES)}")
    try:
      method_train_config(settings, method, value,
                          settings.seeds[0]).validate()
    except training.ConfigError as e:
      raise UsageError(f"--method_values {method}:{value:g}: {e}") from None


def validate(settings):
  """Raises UsageError (one line) for the first bad setting."""
  if settings.representation not in ("mean", "sampled"):
    raise UsageError(f"--representation must be mean or sampled, got "
                     f"{settings.representation!r}")
  unknown = [k for k in settings.metrics if k not in METRIC_KEYS]
  if unknown or not settings.metrics:
    raise UsageError(f"--metrics must be a comma-separated subset of "
                     f"{','.join(METRIC_KEYS)}; got {settings.metrics}")
  _validate_seeds(settings)
  _validate_sample_sizes(settings)
  if not isinstance(settings.parallel_runs, int) or settings.parallel_runs < 1:
    raise UsageError(f"--parallel_runs must be a positive integer, got "
                     f"{settings.parallel_runs}")
  if settings.code_table not in REPRODUCE_CODE_TABLE_MODES:
    raise UsageError(f"--code_table must be one of "
                     f"{', '.join(REPRODUCE_CODE_TABLE_MODES)}, got "
                     f"{settings.code_table!r}")
  _validate_references_and_fits(settings)
  try:
    for beta in (settings.recipe.beta, 1.0):
      train_config(settings, beta, settings.seeds[0]).validate()
  except training.ConfigError as e:
    raise UsageError(str(e)) from None
  _validate_methods(settings)


def train_config(settings, beta, seed):
  """The TrainConfig of one run (objective, sizes from the recipe)."""
  recipe = settings.recipe
  steps = settings.steps
  return training.TrainConfig(
      dataset=settings.dataset, arch=recipe.arch,
      latent_dim=recipe.latent_dim, likelihood=recipe.likelihood,
      objective=recipe.objective, beta=float(beta), gamma=recipe.gamma,
      capacity_max=recipe.capacity_max, capacity_steps=recipe.capacity_steps,
      **_beta_warmup(recipe, beta),
      batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
      lr_warmup_steps=recipe.lr_warmup_steps, lr_decay=recipe.lr_decay,
      steps=steps, seed=int(seed),
      checkpoint_every=max(1, min(2000, steps)),
      log_every=max(1, min(500, steps)), image_summary_every=0,
      dsprites_file=settings.dsprites_file)


def _beta_warmup(recipe, beta):
  """The recipe's β warm-up settings for a run at ``beta``.  From 1 to
  β <= 1 there is nothing to ramp: the VAE's runs keep the name (and the
  trained runs) of a recipe without a warm-up.  (With objective B the
  settings pass through, for TrainConfig to refuse.)"""
  ramps = float(beta) > 1.0
  return {name: getattr(recipe, name) if ramps else 0
          for name in ("beta_hold_steps", "beta_warmup_steps")}


def method_train_config(settings, method, value, seed):
  """The TrainConfig of one run of another method's row.

  The β-VAE's recipe and sizes (train_config) with the method and its
  hyperparameter at ``value``; AnnealedVAE takes the recipe's γ and
  capacity schedule, a method with a learning rate of its own
  (methods.Method.learning_rate: AnnealedVAE) trains at it, and every
  other setting of a method is TrainConfig's default (the study's values).
  """
  info = methods_lib.get(method)
  values = train_config(settings, settings.recipe.beta, seed).to_dict()
  defaults = training.TrainConfig().to_dict()
  values.update({name: defaults[name] for name in methods_lib.METHOD_SETTINGS})
  values.update(beta_hold_steps=defaults["beta_hold_steps"],
                beta_warmup_steps=defaults["beta_warmup_steps"])
  if method == "annealed_vae":
    values.update(gamma=settings.recipe.gamma,
                  capacity_steps=settings.recipe.capacity_steps)
  values.update(method=method,
                objective=methods_lib.OBJECTIVE_OF_METHOD.get(method, "H"),
                learning_rate=methods_lib.default_learning_rate(
                    method, values["learning_rate"]))
  values[info.hyperparameter] = float(value)
  return training.TrainConfig(**values)
