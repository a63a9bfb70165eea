"""The metrics by key: compute function, sample sizes, images sampled.

One table (``REGISTRY``) serves ``tf_betavae.metrics.run_metric``,
``metric_sizes`` and ``code_table.planned_images``.  Each metric module
holds its own sizes as data: its defaults (``DEFAULTS``, or the β-VAE
metric's ``PROTOCOLS``), ``SIZE_OVERRIDES`` (which sizes ``run_metric``'s
``num_train`` / ``num_eval`` set) and ``images_sampled(sizes)``.
"""

import dataclasses
from typing import Callable, Dict, Mapping, Tuple

from tf_betavae.metrics import beta_vae
from tf_betavae.metrics import dci
from tf_betavae.metrics import factor_vae
from tf_betavae.metrics import mig
from tf_betavae.metrics import sap


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


def _fixed(defaults):
  return lambda protocol: dict(defaults)


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
}


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
