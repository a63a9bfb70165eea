"""The metrics by key: compute function, sample sizes, images sampled.

One table (``REGISTRY``) serves ``tf_betavae.metrics.run_metric``,
``metric_sizes`` and ``code_table.planned_images``.  Each metric module
holds its own sizes as data: its defaults (``DEFAULTS``, or the β-VAE
metric's ``PROTOCOLS``), ``SIZE_OVERRIDES`` (which sizes ``run_metric``'s
``num_train`` / ``num_eval`` set) and ``images_sampled(sizes)``.
"""

import dataclasses
import functools
from typing import Callable, Dict, Mapping, Tuple

from tf_betavae.metrics import beta_vae
from tf_betavae.metrics import dci
from tf_betavae.metrics import downstream_task
from tf_betavae.metrics import factor_vae
from tf_betavae.metrics import fairness
from tf_betavae.metrics import irs
from tf_betavae.metrics import mig
from tf_betavae.metrics import modularity_explicitness
from tf_betavae.metrics import reduced_downstream_task
from tf_betavae.metrics import sap
from tf_betavae.metrics import strong_downstream_task
from tf_betavae.metrics import unsupervised


@dataclasses.dataclass(frozen=True)
class MetricSpec:
  """How to run one metric and how large it is.

  Attributes:
    compute: ``compute_*(ground_truth, representation_fn, random_state,
      **sizes)``.
    default_sizes: callable protocol -> dict of the metric's default sizes
      (and the other settings recorded with them).
    size_overrides: {"num_train" | "num_eval": names of the sizes (keyword
      arguments of ``compute``) the override sets}.
    images_sampled: callable sizes -> int, images encoded without a table.
    takes_protocol: whether ``compute`` takes ``protocol`` and
      ``paper_factors`` (the β-VAE metric).
  """
  compute: Callable
  default_sizes: Callable[[str], Dict]
  size_overrides: Mapping[str, Tuple[str, ...]]
  images_sampled: Callable[[Mapping], int]
  takes_protocol: bool = False

  def overrides(self, num_train=None, num_eval=None):
    """{size name: value} set by the given (not None) overrides."""
    given = {"num_train": num_train, "num_eval": num_eval}
    return {key: given[flag] for flag, keys in self.size_overrides.items()
            for key in keys if given[flag] is not None}


def _fixed(defaults, **changes):
  return lambda protocol: {**defaults, **changes}


def _downstream(predictor):
  """disentanglement_lib's downstream task with one of its two predictors
  (its configs downstream_task_logistic_regression and
  downstream_task_boosted_trees)."""
  return MetricSpec(
      functools.partial(downstream_task.compute_downstream_task,
                        predictor=predictor),
      _fixed(downstream_task.DEFAULTS, predictor=predictor),
      downstream_task.SIZE_OVERRIDES, downstream_task.images_sampled)


def _module_spec(module, compute):
  return MetricSpec(compute, _fixed(module.DEFAULTS), module.SIZE_OVERRIDES,
                    module.images_sampled)


REGISTRY = {
    "beta_vae": MetricSpec(beta_vae.compute_beta_vae,
                           lambda protocol: dict(beta_vae.PROTOCOLS[protocol]),
                           beta_vae.SIZE_OVERRIDES, beta_vae.images_sampled,
                           takes_protocol=True),
    "mig": MetricSpec(mig.compute_mig, _fixed(mig.DEFAULTS),
                      mig.SIZE_OVERRIDES, mig.images_sampled),
    "factor_vae": MetricSpec(factor_vae.compute_factor_vae,
                             _fixed(factor_vae.DEFAULTS),
                             factor_vae.SIZE_OVERRIDES,
                             factor_vae.images_sampled),
    "dci": MetricSpec(dci.compute_dci, _fixed(dci.DEFAULTS),
                      dci.SIZE_OVERRIDES, dci.images_sampled),
    "sap": MetricSpec(sap.compute_sap, _fixed(sap.DEFAULTS),
                      sap.SIZE_OVERRIDES, sap.images_sampled),
    # The rest of disentanglement_lib's evaluations, by its config names.
    "modularity_explicitness": _module_spec(
        modularity_explicitness,
        modularity_explicitness.compute_modularity_explicitness),
    "irs": _module_spec(irs, irs.compute_irs),
    "downstream_task_logistic_regression": _downstream(
        "logistic_regression_cv"),
    "downstream_task_boosted_trees": _downstream(
        "gradient_boosting_classifier"),
    "reduced_downstream_task": _module_spec(
        reduced_downstream_task,
        reduced_downstream_task.compute_reduced_downstream_task),
    "strong_downstream_task": _module_spec(
        strong_downstream_task,
        strong_downstream_task.compute_strong_downstream_task),
    "fairness": _module_spec(fairness, fairness.compute_fairness),
    "unsupervised": _module_spec(unsupervised,
                                 unsupervised.compute_unsupervised),
}
# Every metric of disentanglement_lib's unsupervised study
# (config/unsupervised_study_v1/metric_configs), in its order of mention.
UNSUPERVISED_STUDY_METRICS = (
    "beta_vae", "factor_vae", "mig", "dci", "sap", "modularity_explicitness",
    "downstream_task_logistic_regression", "downstream_task_boosted_trees",
    "unsupervised")


def spec(name):
  """The MetricSpec of a metric key; ValueError names the valid keys."""
  if name not in REGISTRY:
    raise ValueError(
        f"unknown metric {name!r}; choose from {sorted(REGISTRY)}")
  return REGISTRY[name]


def metric_sizes(name, protocol="disentanglement_lib", num_train=None,
                 num_eval=None):
  """The sample sizes ``run_metric`` uses for a metric.

  Args:
    name: a key of ``REGISTRY``.
    protocol: the β-VAE metric's protocol (ignored by the others).
    num_train, num_eval: int or None, overrides (see ``SIZE_OVERRIDES``).

  Returns:
    dict of sizes (see ``code_table.planned_images``).
  """
  metric = spec(name)
  sizes = metric.default_sizes(protocol)
  sizes.update(metric.overrides(num_train, num_eval))
  return sizes
