"""What a study is: a grid of trainings, numbered, each job with a stable id.

A ``StudySpec`` is the product of its datasets, its variants (optional
labelled sets of training settings, e.g. weak supervision's k = 1 and k
random), its methods (each with the values of its hyperparameter,
tf_betavae.models.methods) and its seeds.  ``jobs(spec)`` lists that
product in disentanglement_lib's order, the first level slowest: dataset,
then variant, then method, then value, then seed.  A job's ``model_num``
is its place in the whole product::

  model_num = ((dataset·V + variant)·G + group)·S + seed   (indices)

with V variants (1 when the study has none), G (method, value) groups
(the group's index counts methods, then values) and S seeds, where every
group trains every seed (``group_seeds`` shortens its groups).  For
``unsupervised_study_v1`` (7 datasets, no variants, 6 methods × 6 values,
50 seeds) that is::

  model_num = dataset_index·1800 + (method_index·6 + value_index)·50 + seed

as ``dlib_reproduce --model_num`` numbers the models of that study.
``slice_spec`` keeps part of a study (some datasets, variants, methods,
values, seeds) without renumbering, so machines that share a study's
numbering can each take a slice.

``job_id(job)`` is 12 hex characters of the SHA-256 of the job's settings
as canonical JSON (sorted keys; a number equal to an integer written as
that integer, so β = 4 and β = 4.0 are one job): the name of the job's
directory, the same in every process and on every machine.  A variant's
settings are part of them, its label is not: a study without variants
has the ids it had before variants existed, and two variants must differ
in their settings.

Nothing here imports TensorFlow (tf_betavae.models.methods is data).
"""

import dataclasses
import hashlib
import json
import math
import numbers
import re
from typing import Optional, Tuple

from tf_betavae.models import methods as methods_lib


class StudyError(ValueError):
  """A study, slice or study directory that cannot be used; the message is
  one line and names the valid choices."""


# Dataset names this package has loaders with ground-truth factors for
# (tf_betavae.data.GROUND_TRUTH_DATASETS; a test keeps the two equal, as
# that package imports TensorFlow).
DATASETS = ("dsprites", "dsprites_official", "shapes3d", "color_dsprites",
            "noisy_dsprites", "scream_dsprites", "smallnorb")
# Datasets of disentanglement_lib's study without a loader here: their jobs
# are listed (so the numbering matches) but cannot be trained.
DATASETS_WITHOUT_LOADER = ("cars3d",)
# Metric keys (tf_betavae.metrics.REGISTRY; kept equal by a test) a study
# scores every job with unless it names others.
METRICS = ("beta_vae", "factor_vae", "mig", "dci", "sap")
# The β-VAE metric under the paper's own protocol (Higgins et al. 2017:
# dSprites' four factors without shape, or all five), as the paper study
# scores it: key -> (registry metric, protocol, paper factors).  "beta_vae"
# above is disentanglement_lib's protocol.
PAPER_PROTOCOL_METRICS = {
    "beta_vae_paper": ("beta_vae", "paper", "auto"),
    "beta_vae_paper_all": ("beta_vae", "paper", "all"),
}
# Every other metric of tf_betavae.metrics.REGISTRY (disentanglement_lib's
# config names; kept equal by a test), which a study may name.
MORE_METRICS = ("modularity_explicitness", "irs",
                "downstream_task_logistic_regression",
                "downstream_task_boosted_trees", "reduced_downstream_task",
                "strong_downstream_task", "fairness", "unsupervised")
METRIC_CHOICES = METRICS + tuple(PAPER_PROTOCOL_METRICS) + MORE_METRICS
# disentanglement_lib's two representations of a Gaussian encoder: the
# posterior mean (every study's) and one sample from the posterior.
MEAN = "mean"
SAMPLED = "sampled"
REPRESENTATIONS = (MEAN, SAMPLED)


def score_key(metric, representation=MEAN):
  """A score's column: the metric key for the mean representation,
  ``<metric>:sampled`` for the sampled one (as beside an export)."""
  return metric if representation == MEAN else f"{metric}:{representation}"
# Keys of a job's settings the grid sets; shared training settings may not
# set them (nor the method's hyperparameter).
_GRID_KEYS = ("preset", "dataset", "method", "seed", "steps")

# disentanglement_lib's config/unsupervised_study_v1: the datasets in its
# order (dsprites_full is this package's simulator, ``dsprites``), the
# methods in its order (the values are each method's study_grid), seeds
# 0..49, and train.py's preset ``study`` for the shared settings.
UNSUPERVISED_STUDY_V1 = "unsupervised_study_v1"
UNSUPERVISED_STUDY_V1_DATASETS = (
    "dsprites", "color_dsprites", "noisy_dsprites", "scream_dsprites",
    "smallnorb", "cars3d", "shapes3d")
UNSUPERVISED_STUDY_V1_METHODS = (
    "beta_vae", "factor_vae", "dip_vae_i", "dip_vae_ii", "beta_tc_vae",
    "annealed_vae")
UNSUPERVISED_STUDY_V1_SEEDS = tuple(range(50))
STUDY_TRAIN_PRESET = "study"
_TRAIN_PRESETS = (None, STUDY_TRAIN_PRESET)
_MAX_SEED = 2**32  # NumPy's RandomState range, as the training seeds
# A variant's label names files (udr/<dataset>__<label>__...json) and
# report cells: short, no separators.
_VARIANT_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# The one variant of a study without variants: no label, no settings.
NO_VARIANT = ("", ())


def metric_variant(key):
  """(registry metric, protocol, paper factors or None) of a study's metric
  key."""
  if key in PAPER_PROTOCOL_METRICS:
    return PAPER_PROTOCOL_METRICS[key]
  return key, "disentanglement_lib", None


def _choices(names):
  return ", ".join(str(n) for n in names)


def _number(value, what):
  """``value`` as a finite float; StudyError for anything else (bools and
  strings included)."""
  if (isinstance(value, bool) or not isinstance(value, numbers.Real)
      or not math.isfinite(float(value))):
    raise StudyError(f"{what} must be a finite number, got {value!r}")
  return float(value)


def _seed(value):
  if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
      or not 0 <= value < _MAX_SEED):
    raise StudyError(f"a seed must be an integer in [0, 2**32), got "
                     f"{value!r}")
  return int(value)


def _positive_or_none(value, what, none_means=None):
  """``value`` as an int >= 1, or None where ``none_means`` says what None
  stands for; StudyError for anything else."""
  if value is None and none_means is not None:
    return None
  if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
      or value < 1):
    allowed = f" or None ({none_means})" if none_means is not None else ""
    raise StudyError(f"{what} must be a positive integer{allowed}, got "
                     f"{value!r}")
  return int(value)


def _steps(value):
  return _positive_or_none(value, "steps", "the training default")


def _tuple_of(values, what):
  if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
    raise StudyError(f"{what} must be a list, got {values!r}")
  values = tuple(values)
  if not values:
    raise StudyError(f"{what} is empty; a study needs at least one")
  return values


def _known(names, choices, what):
  """``names`` as a tuple, each once and each one of ``choices``;
  StudyError names an unknown one and the choices."""
  names = _tuple_of(names, what)
  for name in names:
    if name not in choices:
      raise StudyError(f"unknown {what[:-1]} {name!r}; choose from "
                       f"{_choices(choices)}")
  _no_repeats(names, what)
  return names


def _no_repeats(values, what):
  seen = []
  for value in values:
    if value in seen:
      raise StudyError(f"{what} lists {value!r} twice")
    seen.append(value)


def _canonical(value):
  """``value`` as JSON-ready data that hashes alike for equal settings: an
  integral number becomes an int (4.0 -> 4), tuples lists."""
  if value is None or isinstance(value, (bool, str)):
    return value
  if isinstance(value, numbers.Integral):
    return int(value)
  if isinstance(value, numbers.Real):
    number = _number(value, "a setting")
    return int(number) if number.is_integer() else number
  if isinstance(value, dict):
    return {str(k): _canonical(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_canonical(v) for v in value]
  raise StudyError(f"a setting must be a number, string, bool, None or a "
                   f"list of them, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Selection:
  """The part of a study a slice keeps; None at a level keeps all of it.

  Attributes:
    datasets, methods: tuples of names, or None.
    values: floats of the one selected method's hyperparameter, or None.
    seeds: tuple of int, or None.
    variants: tuple of variant labels, or None.
  """

  datasets: Optional[Tuple[str, ...]] = None
  methods: Optional[Tuple[str, ...]] = None
  values: Optional[Tuple[float, ...]] = None
  seeds: Optional[Tuple[int, ...]] = None
  variants: Optional[Tuple[str, ...]] = None

  def keeps(self, dataset, method, value, seed, variant=""):
    return ((self.datasets is None or dataset in self.datasets)
            and (self.variants is None or variant in self.variants)
            and (self.methods is None or method in self.methods)
            and (self.values is None or value in self.values)
            and (self.seeds is None or seed in self.seeds))


@dataclasses.dataclass(frozen=True)
class StudySpec:
  """A study: every (dataset, variant, method, value, seed) of its grid is
  a job.

  Attributes:
    name: the preset's name, or a name of the caller's.
    datasets: tuple of dataset names, slowest level first.
    methods: tuple of (method name, tuple of float values of its
      hyperparameter), in the order jobs are numbered.
    seeds: tuple of int, each in [0, 2**32).
    steps: training steps of every job; None: the training default
      (train.py's preset ``train_preset``, else TrainConfig's).
    metrics: metric keys (tf_betavae.metrics.REGISTRY) scoring every job.
    train_preset: the train.py preset every job starts from ("study":
      disentanglement_lib's shared settings), or None for TrainConfig's
      defaults.
    train_settings: sorted (TrainConfig field, value) pairs every job
      shares on top of the preset (e.g. ("latent_dim", 10)).
    metric_sizes: sorted (metric key, (num_train, num_eval)) pairs that
      override a metric's disentanglement_lib sizes (None in a pair keeps
      that size); metrics not named use their full sizes.
    metric_seed: seeds every metric's RandomState (plus the job's seed, so
      seeds of one setting are scored on different samples, as in
      reproductions), and the shared sample UDR compares seeds on.
    udr_num_points: images of that shared sample (disentanglement_lib's
      UDR default, 10,000).
    threads_per_job: TensorFlow's CPU threads in every job, whatever the
      engine.  Part of the study because it is part of the result: the
      order of a kernel's float reductions follows its threads, so the
      same seed trained with 1 and with 2 threads drifts apart (measured
      in benchmarks/README.md); with it fixed, every engine gives every
      job the same scores.
    group_seeds: (method, value, seeds) triples: the seeds of particular
      (method, value) groups, a subset of ``seeds`` (the others train every
      seed), e.g. a reference model trained on fewer seeds.
    group_settings: (method, value or None, (name, value) pairs) triples:
      training settings of one method's jobs (value None) or of one
      (method, value) group, on top of ``train_settings`` (a method's own
      learning rate, the plain VAE without the β-VAE's warm-up).
    representations: what every metric scores, one column set each:
      "mean" (the posterior mean) and/or "sampled" (a sample from the
      posterior per image), disentanglement_lib's two postprocessings.
    variants: (label, (name, value) pairs) pairs: a grid level between
      dataset and method, each variant's training settings joining every
      job's (on top of ``train_settings``; they may not set a grid key or
      a method's hyperparameter, nor contradict ``train_settings`` or
      ``group_settings``).  Empty: no variants (one empty variant), the
      jobs, numbers and ids of a study before variants existed.
    selection: the part of the grid a slice keeps (``slice_spec``), or
      None for all of it; it changes which jobs are listed, not their
      numbers or ids.
  """

  name: str
  datasets: Tuple[str, ...]
  methods: Tuple[Tuple[str, Tuple[float, ...]], ...]
  seeds: Tuple[int, ...]
  steps: Optional[int] = None
  metrics: Tuple[str, ...] = METRICS
  train_preset: Optional[str] = None
  train_settings: Tuple[Tuple[str, object], ...] = ()
  metric_sizes: Tuple[Tuple[str, Tuple[Optional[int], Optional[int]]],
                      ...] = ()
  metric_seed: int = 0
  udr_num_points: int = 10000
  threads_per_job: int = 1
  group_seeds: Tuple[Tuple[str, float, Tuple[int, ...]], ...] = ()
  group_settings: Tuple[Tuple[str, Optional[float],
                              Tuple[Tuple[str, object], ...]], ...] = ()
  representations: Tuple[str, ...] = (MEAN,)
  variants: Tuple[Tuple[str, Tuple[Tuple[str, object], ...]], ...] = ()
  selection: Optional[Selection] = None

  def __post_init__(self):
    # Normalised once here, so two specs of the same study compare equal
    # and study.json is the same whatever sequences the caller passed.
    def put(field, value):
      object.__setattr__(self, field, value)

    if not isinstance(self.name, str) or not self.name.strip():
      raise StudyError(f"a study needs a name, got {self.name!r}")
    datasets = _tuple_of(self.datasets, "datasets")
    known = DATASETS + DATASETS_WITHOUT_LOADER
    for dataset in datasets:
      if dataset not in known:
        raise StudyError(f"unknown dataset {dataset!r}; choose from "
                         f"{_choices(known)}")
    _no_repeats(datasets, "datasets")
    put("datasets", datasets)
    methods = []
    for entry in _tuple_of(self.methods, "methods"):
      try:
        method, values = entry
      except (TypeError, ValueError):
        raise StudyError(f"a method must be a (name, values) pair, got "
                         f"{entry!r}") from None
      info = _method(method)
      values = tuple(_number(v, f"a value of {info.hyperparameter}")
                     for v in _tuple_of(values, f"values of {method}"))
      _no_repeats(values, f"{method}'s values")
      methods.append((method, values))
    _no_repeats([m for m, _ in methods], "methods")
    put("methods", tuple(methods))
    seeds = tuple(_seed(s) for s in _tuple_of(self.seeds, "seeds"))
    _no_repeats(seeds, "seeds")
    put("seeds", seeds)
    put("steps", _steps(self.steps))
    metrics = _known(self.metrics, METRIC_CHOICES, "metrics")
    put("metrics", metrics)
    if self.train_preset not in _TRAIN_PRESETS:
      raise StudyError(f"unknown train preset {self.train_preset!r}; choose "
                       f"from {_choices(_TRAIN_PRESETS)}")
    put("train_settings", _train_settings(self.train_settings, methods))
    put("metric_sizes", _metric_sizes(self.metric_sizes, metrics))
    put("metric_seed", _seed(self.metric_seed))
    put("udr_num_points", _positive_or_none(self.udr_num_points,
                                            "udr_num_points"))
    put("threads_per_job", _positive_or_none(self.threads_per_job,
                                             "threads_per_job"))
    put("group_seeds", _group_seeds(self.group_seeds, methods, seeds))
    put("group_settings", _group_settings(self.group_settings, methods))
    put("representations", _known(self.representations, REPRESENTATIONS,
                                  "representations"))
    put("variants", _variants(self.variants, methods, self.train_settings,
                              self.group_settings))

  def score_keys(self):
    """The score columns: every metric for each representation, in the
    study's order (``score_key``)."""
    return tuple(score_key(metric, representation)
                 for representation in self.representations
                 for metric in self.metrics)

  def seeds_of(self, method, value):
    """The seeds the (method, value) group trains."""
    for name, group_value, seeds in self.group_seeds:
      if (name, group_value) == (method, value):
        return seeds
    return self.seeds

  def variants_or_none(self):
    """The study's variants, or (NO_VARIANT,) for a study without them:
    the variant level of the grid."""
    return self.variants or (NO_VARIANT,)

  def settings_of(self, method, value, variant=""):
    """The training settings of the (method, value) group's jobs in
    ``variant`` (a label, "" for none): the shared ones, the variant's,
    then the method's, then the group's own, sorted (the variant's never
    overlap the others, __post_init__ checks)."""
    merged = dict(self.train_settings)
    merged.update(dict(self.variants_or_none()).get(variant, ()))
    for name, group_value, pairs in sorted(
        self.group_settings, key=lambda entry: entry[1] is not None):
      if name == method and group_value in (None, value):
        merged.update(pairs)
    return tuple(sorted(merged.items()))

  @property
  def num_jobs(self):
    """Jobs of the whole grid (a slice's model_nums lie below it)."""
    return len(self.datasets) * len(self.variants_or_none()) * sum(
        len(self.seeds_of(method, value))
        for method, values in self.methods for value in values)

  def record(self):
    """The study as study.json holds it: every field but the selection
    (slices of one study share its directory); the group fields only when
    set, so a study recorded before they existed reads the same."""
    record = {
        "name": self.name,
        "datasets": list(self.datasets),
        "methods": [[m, list(values)] for m, values in self.methods],
        "seeds": list(self.seeds),
        "steps": self.steps,
        "metrics": list(self.metrics),
        "train_preset": self.train_preset,
        "train_settings": {k: v for k, v in self.train_settings},
        "metric_sizes": {k: list(v) for k, v in self.metric_sizes},
        "metric_seed": self.metric_seed,
        "udr_num_points": self.udr_num_points,
        "threads_per_job": self.threads_per_job,
    }
    if self.group_seeds:
      record["group_seeds"] = [[m, v, list(seeds)]
                               for m, v, seeds in self.group_seeds]
    if self.group_settings:
      record["group_settings"] = [[m, v, dict(pairs)]
                                  for m, v, pairs in self.group_settings]
    if self.representations != (MEAN,):
      record["representations"] = list(self.representations)
    if self.variants:
      record["variants"] = [[label, dict(pairs)]
                            for label, pairs in self.variants]
    return record

  def sizes_of(self, metric):
    """(num_train, num_eval) of ``metric`` (None: disentanglement_lib's)."""
    return dict(self.metric_sizes).get(metric, (None, None))


def spec_from_record(record):
  """The StudySpec a study.json record holds (``StudySpec.record()``).

  Raises:
    StudyError: the record is not a study's.
  """
  if not isinstance(record, dict):
    raise StudyError(f"a study record must be a JSON object, got "
                     f"{type(record).__name__}")
  known = {f.name for f in dataclasses.fields(StudySpec)} - {"selection"}
  unknown = sorted(set(record) - known)
  if unknown:
    raise StudyError(f"a study record has unknown fields {unknown}; it was "
                     f"written by another version of tf_betavae")
  try:
    values = dict(record)
    values["methods"] = [tuple(m) for m in values.get("methods", ())]
    values["train_settings"] = tuple(
        (values.get("train_settings") or {}).items())
    values["metric_sizes"] = tuple(
        (k, tuple(v)) for k, v in (values.get("metric_sizes") or {}).items())
    values["group_seeds"] = tuple(
        (m, v, tuple(seeds)) for m, v, seeds in values.get("group_seeds", ()))
    values["group_settings"] = tuple(
        (m, v, tuple(pairs.items()))
        for m, v, pairs in values.get("group_settings", ()))
    values["variants"] = tuple(
        (label, tuple(pairs.items()))
        for label, pairs in values.get("variants", ()))
    return StudySpec(**values)
  except (TypeError, ValueError, AttributeError) as e:
    if isinstance(e, StudyError):
      raise
    raise StudyError(f"not a study record: {e}") from None


def _size(value, what):
  return _positive_or_none(value, what, "the metric's own size")


def _metric_sizes(sizes, metrics):
  """Sorted (metric, (num_train, num_eval)) pairs; StudyError for a metric
  the study does not score or a size that is not a positive integer."""
  pairs = dict(sizes).items() if sizes else ()
  out = []
  for metric, pair in pairs:
    if metric not in metrics:
      raise StudyError(f"metric_sizes names {metric!r}, which the study does "
                       f"not score; choose from {_choices(metrics)}")
    try:
      num_train, num_eval = pair
    except (TypeError, ValueError):
      raise StudyError(f"metric_sizes of {metric} must be a (num_train, "
                       f"num_eval) pair, got {pair!r}") from None
    out.append((metric, (_size(num_train, f"{metric}'s num_train"),
                         _size(num_eval, f"{metric}'s num_eval"))))
  return tuple(sorted(out))


def _method(name):
  try:
    return methods_lib.get(name)
  except ValueError as e:
    raise StudyError(str(e)) from None


def _train_settings(settings, methods):
  """Sorted (name, value) pairs; StudyError for a name the grid sets."""
  pairs = dict(settings).items() if settings else ()
  grid_set = set(_GRID_KEYS) | {_method(m).hyperparameter for m, _ in methods}
  for name, value in pairs:
    if not isinstance(name, str) or name in grid_set:
      raise StudyError(f"train setting {name!r} is set by the study's grid "
                       f"per job; shared settings may not set "
                       f"{_choices(sorted(grid_set))}")
    _canonical(value)  # refuses what cannot be JSON
  return tuple(sorted(pairs))


def _triple(entry, what):
  try:
    first, second, third = entry
  except (TypeError, ValueError):
    raise StudyError(f"{what} entries are (method, value, ...) triples, got "
                     f"{entry!r}") from None
  return first, second, third


def _group_seeds(entries, methods, seeds):
  """Sorted (method, value, seeds) triples; StudyError for a group the
  grid lacks or seeds outside the study's."""
  out = []
  values_of = dict(methods)
  for entry in entries or ():
    method, value, group = _triple(entry, "group_seeds")
    value = _number(value, f"a value of {method}")
    if value not in values_of.get(method, ()):
      raise StudyError(f"group_seeds names ({method}, {value:g}), which is "
                       "not in the study's grid")
    group = tuple(_seed(s) for s in _tuple_of(group, f"seeds of {method}"))
    _no_repeats(group, f"seeds of ({method}, {value:g})")
    if not set(group) <= set(seeds):
      raise StudyError(f"seeds of ({method}, {value:g}) must be among the "
                       f"study's seeds {list(seeds)}")
    out.append((method, value, tuple(s for s in seeds if s in group)))
  _no_repeats([(m, v) for m, v, _ in out], "group_seeds")
  return tuple(sorted(out))


def _group_settings(entries, methods):
  """Sorted (method, value or None, sorted pairs) triples; StudyError for
  a method or value the grid lacks, or a setting the grid sets."""
  out = []
  values_of = dict(methods)
  for entry in entries or ():
    method, value, pairs = _triple(entry, "group_settings")
    if method not in values_of:
      raise StudyError(f"group_settings names method {method!r}, which the "
                       f"study does not train")
    if value is not None:
      value = _number(value, f"a value of {method}")
      if value not in values_of[method]:
        raise StudyError(f"group_settings names ({method}, {value:g}), "
                         "which is not in the study's grid")
    pairs = dict(pairs).items() if pairs else ()
    grid_set = set(_GRID_KEYS) | {_method(method).hyperparameter}
    for name, setting in pairs:
      if not isinstance(name, str) or name in grid_set:
        raise StudyError(f"group setting {name!r} of {method} is set by the "
                         f"study's grid per job; it may not set "
                         f"{_choices(sorted(grid_set))}")
      _canonical(setting)
    out.append((method, value, tuple(sorted(pairs))))
  _no_repeats([(m, v) for m, v, _ in out], "group_settings")
  return tuple(sorted(out, key=lambda e: (e[0], e[1] is not None,
                                          e[1] or 0.0)))


def _variant_label(label):
  if not isinstance(label, str) or not _VARIANT_LABEL.fullmatch(label):
    raise StudyError(f"a variant's label must be 1 to 64 letters, digits, "
                     f"'_', '.' or '-' (not first), got {label!r}")
  return label


def _variants(entries, methods, train_settings, group_settings):
  """Variants as (label, sorted pairs) pairs, in the caller's order; ()
  for none or for the one empty variant.

  Raises:
    StudyError: a bad label, a label twice, two variants with the same
      settings (their jobs would be one job), a setting the grid sets, or
      one that contradicts ``train_settings`` or is in ``group_settings``
      (naming both).
  """
  entries = tuple(entries or ())
  if len(entries) == 1 and entries[0] in (NO_VARIANT, ["", []], ("", {}),
                                          ["", {}]):
    return ()
  grid_set = set(_GRID_KEYS) | {_method(m).hyperparameter for m, _ in methods}
  shared = dict(train_settings or ())
  grouped = {name: (method, value)
             for method, value, pairs in group_settings or ()
             for name, _ in (dict(pairs).items() if pairs else ())}
  out = []
  for entry in entries:
    try:
      if isinstance(entry, (str, bytes)):  # would unpack as two letters
        raise TypeError
      label, pairs = entry
      pairs = dict(pairs).items() if pairs else ()
    except (TypeError, ValueError):
      raise StudyError(f"a variant must be a (label, settings) pair, "
                       f"settings (name, value) pairs, got {entry!r}"
                      ) from None
    label = _variant_label(label)
    for name, value in pairs:
      if not isinstance(name, str) or name in grid_set:
        raise StudyError(f"variant {label}'s setting {name!r} is set by the "
                         f"study's grid per job; a variant may not set "
                         f"{_choices(sorted(grid_set))}")
      if name in shared and _canonical(shared[name]) != _canonical(value):
        raise StudyError(f"variant {label} sets {name}={value!r}, which "
                         f"contradicts train_settings {name}="
                         f"{shared[name]!r}")
      if name in grouped:
        method, group_value = grouped[name]
        group = (method if group_value is None
                 else f"({method}, {group_value:g})")
        raise StudyError(f"variant {label} sets {name!r}, which "
                         f"group_settings of {group} also sets; set it in "
                         f"one of them")
      _canonical(value)
    out.append((label, tuple(sorted(pairs))))
  _no_repeats([label for label, _ in out], "variants")
  _no_repeats([canonical_json(dict(pairs)) for _, pairs in out],
              "variants' settings")
  return tuple(out)


@dataclasses.dataclass(frozen=True)
class Job:
  """One training of a study.

  Attributes:
    model_num: its place in the study's whole grid (disentanglement_lib's
      number for unsupervised_study_v1).
    dataset, method: names.
    hyperparameter: the TrainConfig field the method's value sets ("beta",
      "factor_gamma", "lambda_od", "capacity_max").
    value: float, that field's value.
    seed: int, the training seed.
    steps: training steps, or None for the training default.
    train_preset: train.py's preset the job starts from, or None.
    train_settings: (TrainConfig field, value) pairs of the job: the
      study's shared ones, its variant's and its group's.
    variant: the label of the job's variant ("" in a study without
      variants); not part of ``settings`` (the variant's settings are).
  """

  model_num: int
  dataset: str
  method: str
  hyperparameter: str
  value: float
  seed: int
  steps: Optional[int] = None
  train_preset: Optional[str] = None
  train_settings: Tuple[Tuple[str, object], ...] = ()
  variant: str = ""

  @property
  def settings(self):
    """Everything that decides what the job trains, as one dict: preset,
    dataset, method, the hyperparameter by its name, seed, steps and the
    training settings (its variant's among them).  The model_num, the
    study's name and the variant's label are not in it: a job is the same
    job in any study that trains it."""
    return {
        "preset": self.train_preset, "dataset": self.dataset,
        "method": self.method, self.hyperparameter: self.value,
        "seed": self.seed, "steps": self.steps, **dict(self.train_settings),
    }


def canonical_json(settings):
  """``settings`` as compact JSON with sorted keys and integral numbers as
  integers: equal settings give equal text."""
  return json.dumps(_canonical(settings), sort_keys=True,
                    separators=(",", ":"), ensure_ascii=True)


def job_id(job):
  """12 hex characters of the SHA-256 of the job's canonical settings."""
  return hashlib.sha256(
      canonical_json(job.settings).encode("ascii")).hexdigest()[:12]


def jobs(spec):
  """The study's jobs in disentanglement_lib's order (dataset slowest, then
  variant, then method, then value, then seed), those outside its
  selection left out.

  Returns:
    list of Job; model_num counts over the whole grid.
  """
  selection = spec.selection or Selection()
  out = []
  model_num = 0
  for dataset in spec.datasets:
    for variant, _ in spec.variants_or_none():
      for method, values in spec.methods:
        hyperparameter = methods_lib.get(method).hyperparameter
        for value in values:
          settings = spec.settings_of(method, value, variant)
          for seed in spec.seeds_of(method, value):
            if selection.keeps(dataset, method, value, seed, variant):
              out.append(Job(model_num, dataset, method, hyperparameter,
                             value, seed, spec.steps, spec.train_preset,
                             settings, variant))
            model_num += 1
  return out


def job_of(spec, model_num):
  """The job numbered ``model_num``.

  Raises:
    StudyError: the number lies outside the grid or the slice.
  """
  if (isinstance(model_num, bool) or not isinstance(model_num, int)
      or not 0 <= model_num < spec.num_jobs):
    raise StudyError(f"model_num {model_num!r} is out of range: study "
                     f"{spec.name} numbers its jobs 0 to {spec.num_jobs - 1}")
  for job in jobs(spec):
    if job.model_num == model_num:
      return job
  raise StudyError(f"model_num {model_num} is not in this slice of study "
                   f"{spec.name}")


def unsupervised_study_v1(steps=None):
  """disentanglement_lib's unsupervised study: 12,600 jobs.

  7 datasets × 6 methods × 6 values × 50 seeds, trained with train.py's
  preset ``study`` (batch 64, Adam 1e-4, 300,000 steps, 10 latents, conv
  net, Bernoulli likelihood) and scored with every metric of METRICS.

  Args:
    steps: training steps of every job (None: the preset's 300,000).
  """
  return StudySpec(
      name=UNSUPERVISED_STUDY_V1,
      datasets=UNSUPERVISED_STUDY_V1_DATASETS,
      methods=tuple((m, methods_lib.METHODS[m].study_grid)
                    for m in UNSUPERVISED_STUDY_V1_METHODS),
      seeds=UNSUPERVISED_STUDY_V1_SEEDS, steps=steps,
      train_preset=STUDY_TRAIN_PRESET)


# Locatello et al. 2020 ("Weakly-Supervised Disentanglement Without
# Compromises"), disentanglement_lib's config/weak_study: the four
# weakly-supervised methods, each over its study_grid of β, with the
# second observation of a pair redrawing 1 factor or k random ones.
WEAK_STUDY = "weak_study"
WEAK_STUDY_DATASETS = ("dsprites",)
WEAK_STUDY_METHODS = methods_lib.WEAK_METHODS
WEAK_STUDY_VARIANTS = (("k1", (("k", 1),)), ("krnd", (("k", -1),)))
WEAK_STUDY_SEEDS = tuple(range(10))


def weak_study(steps=None, datasets=WEAK_STUDY_DATASETS):
  """Locatello et al. 2020's weakly-supervised study: 480 jobs.

  1 dataset × 2 variants (k1: a pair's second observation redraws one
  factor; krnd: k drawn in 1..num_factors-1 per pair) × 4 methods
  (group_vae, ml_vae, ada_gvae, ada_ml_vae) × 6 values of β × 10 seeds,
  trained with train.py's preset ``study`` (batch 64, Adam 1e-4, 300,000
  steps, 10 latents, conv net) as unsupervised_study_v1, and scored with
  every metric of METRICS.

  disentanglement_lib's weak study trains more datasets and Locatello et
  al. 2020 train more seeds; this preset is dSprites with 10 seeds by
  default.  The other ground-truth datasets work too: ``datasets`` here,
  scripts/study.py --preset=weak_study --datasets=... there (for this
  preset the flag names the study's datasets rather than slicing them, so
  the model_nums follow the datasets given; the job ids do not depend on
  them).  group_vae and ml_vae need latent_dim >= the dataset's factors
  (10 latents: dSprites has 5, shapes3d 6).

  Args:
    steps: training steps of every job (None: the preset's 300,000).
    datasets: dataset names (DATASETS), slowest level first.
  """
  return StudySpec(
      name=WEAK_STUDY, datasets=datasets,
      variants=WEAK_STUDY_VARIANTS,
      methods=tuple((m, methods_lib.METHODS[m].study_grid)
                    for m in WEAK_STUDY_METHODS),
      seeds=WEAK_STUDY_SEEDS, steps=steps, train_preset=STUDY_TRAIN_PRESET)


PRESETS = {UNSUPERVISED_STUDY_V1: unsupervised_study_v1,
           WEAK_STUDY: weak_study}


def preset(name, steps=None):
  """The StudySpec of the preset ``name``; StudyError names the choices."""
  if name not in PRESETS:
    raise StudyError(f"unknown study preset {name!r}; choose from "
                     f"{_choices(PRESETS)}")
  return PRESETS[name](steps=steps)


def sweep_spec(method, values, seeds, datasets=("dsprites",), steps=None):
  """A one-method study: ``values`` of its hyperparameter × ``seeds`` on
  ``datasets``, from TrainConfig's defaults (as scripts/sweep.py without
  --study).

  Args:
    method: a name of tf_betavae.models.methods.METHODS.
    values: numbers, the hyperparameter's values.
    seeds: ints.
    datasets: names from DATASETS.
    steps: training steps (None: the training default).
  """
  return StudySpec(name=f"sweep_{_method(method).name}", datasets=datasets,
                   methods=((method, values),), seeds=seeds, steps=steps)


def _subset(given, allowed, what):
  """``given`` as a tuple of members of ``allowed``; StudyError otherwise."""
  given = _tuple_of(given, what)
  for item in given:
    if item not in allowed:
      raise StudyError(f"unknown {what[:-1]} {item!r} for this study; choose "
                       f"from {_choices(allowed)}")
  return given


def slice_spec(spec, datasets=None, methods=None, values=None, seeds=None,
               steps=None, variants=None):
  """Part of a study, its jobs numbered as in the whole.

  Each argument (None: keep that level as it is) narrows one level to the
  given members (``variants``: labels), which must belong to ``spec`` (or
  to its slice already).
  ``values`` needs exactly one method (given, or the study's only one).
  ``steps`` replaces the study's training steps (the jobs' ids change with
  it, their numbers do not).

  Raises:
    StudyError: a member the study lacks, a value of the wrong type,
      values with several methods, variants of a study without them.
  """
  if variants is not None and not spec.variants:
    raise StudyError(f"study {spec.name} has no variants to keep")
  current = spec.selection or Selection()
  kept_methods = current.methods or tuple(m for m, _ in spec.methods)

  def as_name(name):
    if not isinstance(name, str):
      raise StudyError(f"a name must be a string, got {name!r}")
    return name

  def narrowed(given, kept, convert, what):
    if given is None:
      return None
    return _subset(tuple(convert(g) for g in _tuple_of(given, what)), kept,
                   what)

  selection = Selection(
      datasets=(narrowed(datasets, current.datasets or spec.datasets,
                         as_name, "datasets") or current.datasets),
      methods=(narrowed(methods, kept_methods, as_name, "methods")
               or current.methods),
      values=current.values,
      seeds=(narrowed(seeds, current.seeds or spec.seeds, _seed, "seeds")
             or current.seeds),
      variants=(narrowed(variants, current.variants
                         or tuple(label for label, _ in spec.variants),
                         as_name, "variants") or current.variants))
  if values is not None:
    chosen = selection.methods or kept_methods
    if len(chosen) != 1:
      raise StudyError(f"values need exactly one method; give one of "
                       f"{_choices(chosen)}")
    hyperparameter = _method(chosen[0]).hyperparameter
    selection = dataclasses.replace(selection, values=narrowed(
        values, current.values or dict(spec.methods)[chosen[0]],
        lambda v: _number(v, f"a value of {hyperparameter}"),
        f"{hyperparameter} values"))
  return dataclasses.replace(
      spec, selection=selection,
      steps=spec.steps if steps is None else _steps(steps))
