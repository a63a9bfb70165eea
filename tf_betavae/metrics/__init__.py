"""Disentanglement metrics, baselines and representation functions.

Each metric module has a pure core of (codes, factors) or of sampled
statistics, and a ``compute_*(ground_truth, representation_fn,
random_state, ...)`` wrapper that samples from a ground-truth simulator in
large batches.  ``REGISTRY`` (tf_betavae.metrics.registry) maps the metric
keys used by scripts/evaluate.py to those wrappers and their sizes;
``METRICS`` maps the keys to the wrappers alone.
"""

import numpy as np

from tf_betavae.metrics import code_table as code_table_lib
from tf_betavae.metrics.baselines import BASELINES
from tf_betavae.metrics.baselines import make_baseline
from tf_betavae.metrics.beta_vae import compute_beta_vae
from tf_betavae.metrics.code_table import CodeTable
from tf_betavae.metrics.code_table import CodeTableError
from tf_betavae.metrics.beta_vae import PROTOCOLS
from tf_betavae.metrics.dci import compute_dci
from tf_betavae.metrics.factor_vae import compute_factor_vae
from tf_betavae.metrics.mig import compute_mig
from tf_betavae.metrics import registry
from tf_betavae.metrics.registry import metric_sizes
from tf_betavae.metrics.registry import REGISTRY
from tf_betavae.metrics.representation import RepresentationError
from tf_betavae.metrics.representation import saved_model_representation
from tf_betavae.metrics.sap import compute_sap
# Label-free scores, not in METRICS: they rank models without factors (see
# tf_betavae.experiments.selection and scripts/select_models.py).
from tf_betavae.metrics.udr import compute_udr
from tf_betavae.metrics.udr import compute_udr_from_codes
from tf_betavae.metrics.unsupervised import compute_unsupervised

# Metric key -> compute function, for the names scripts/evaluate.py uses.
METRICS = {name: metric.compute for name, metric in REGISTRY.items()}


def prepare_representation(ground_truth, representation_fn, names,
                           protocol="disentanglement_lib", num_train=None,
                           num_eval=None, code_table="auto",
                           max_table_bytes=code_table_lib.DEFAULT_MAX_BYTES):
  """Wraps a representation in a CodeTable when that saves encoding.

  ``code_table="auto"`` tabulates when the metrics in ``names`` would
  together encode at least as many images as the ground truth has
  distinct observations, and the table fits ``max_table_bytes``.  Scores
  do not change (see ``code_table``).

  Args:
    ground_truth: ground-truth object.
    representation_fn: callable images -> codes.
    names: metric names to be run with this representation.
    protocol, num_train, num_eval: as in ``run_metric``.
    code_table: "auto", "always" or "never".
    max_table_bytes: int.

  Returns:
    (representation_fn or a CodeTable, info dict: ``used``, ``reason``,
    ``planned_images`` and, when used, the table's ``describe()``).

  Raises:
    code_table.CodeTableError: "always" and the table cannot be built.
  """
  planned = sum(code_table_lib.planned_images(
      n, metric_sizes(n, protocol, num_train, num_eval)) for n in names)
  return tabulate_if_worth_it(ground_truth, representation_fn, planned,
                              code_table, max_table_bytes)


def tabulate_if_worth_it(ground_truth, representation_fn, planned_images,
                         code_table="auto",
                         max_table_bytes=code_table_lib.DEFAULT_MAX_BYTES):
  """``prepare_representation`` for a known number of planned images.

  For callers whose metrics use several protocols or sizes: sum
  ``code_table.planned_images(name, metric_sizes(...))`` over them.

  Args:
    ground_truth: ground-truth object.
    representation_fn: callable images -> codes.
    planned_images: int, images the metrics would encode without a table.
    code_table: "auto", "always" or "never".
    max_table_bytes: int.

  Returns:
    As ``prepare_representation``.

  Raises:
    code_table.CodeTableError: "always" and the table cannot be built.
  """
  planned = int(planned_images)
  code_dim = None
  if code_table != "never" and code_table_lib.supports_code_table(
      ground_truth):
    probe = ground_truth.observations_at([0])
    code_dim = int(np.asarray(representation_fn(probe)).shape[-1])
  use, reason = code_table_lib.should_build(
      code_table, ground_truth, planned, code_dim, max_table_bytes)
  info = {"used": use, "reason": reason, "planned_images": int(planned)}
  if not use:
    return representation_fn, info
  table = code_table_lib.build_code_table(ground_truth, representation_fn,
                                          max_bytes=max_table_bytes)
  info.update(table.describe())
  return table, info


def run_metric(name, ground_truth, representation_fn, random_state,
               protocol="disentanglement_lib", num_train=None, num_eval=None,
               paper_factors="auto"):
  """Runs one metric with a protocol's sizes and optional overrides.

  Args:
    name: a key of ``METRICS``.
    ground_truth: ground-truth object.
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState.
    protocol: "disentanglement_lib" or "paper"; only the β-VAE metric has two
      protocols, the others always use disentanglement_lib's definitions.
    num_train: int or None, overrides the number of training samples
      (examples for β-VAE/FactorVAE; samples for MIG, DCI, SAP).
    num_eval: int or None, overrides the number of evaluation/test samples
      (and FactorVAE's variance-estimate sample, kept equal to num_train).
    paper_factors: the factors the β-VAE metric's paper protocol labels
      ("auto", "all" or names; see beta_vae.resolve_factors).

  Returns:
    dict with at least ``score`` and ``parameters``.
  """
  metric = registry.spec(name)
  kwargs = metric.overrides(num_train, num_eval)
  if metric.takes_protocol:
    kwargs.update(protocol=protocol, paper_factors=paper_factors)
  return metric.compute(ground_truth, representation_fn, random_state,
                        **kwargs)
