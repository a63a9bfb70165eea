"""Disentanglement metrics, baselines and representation functions.

Each metric module has a pure core of (codes, factors) or of sampled
statistics, and a ``compute_*(ground_truth, representation_fn,
random_state, ...)`` wrapper that samples from a ground-truth simulator in
large batches.  ``METRICS`` maps the names used by scripts/evaluate.py to
those wrappers.
"""

from tf_betavae.metrics.baselines import BASELINES
from tf_betavae.metrics.baselines import make_baseline
from tf_betavae.metrics.beta_vae import compute_beta_vae
from tf_betavae.metrics.beta_vae import PROTOCOLS
from tf_betavae.metrics.dci import compute_dci
from tf_betavae.metrics.factor_vae import compute_factor_vae
from tf_betavae.metrics.mig import compute_mig
from tf_betavae.metrics.representation import RepresentationError
from tf_betavae.metrics.representation import saved_model_representation
from tf_betavae.metrics.sap import compute_sap

METRICS = {
    "beta_vae": compute_beta_vae,
    "mig": compute_mig,
    "factor_vae": compute_factor_vae,
    "dci": compute_dci,
    "sap": compute_sap,
}


def run_metric(name, ground_truth, representation_fn, random_state,
               protocol="disentanglement_lib", num_train=None, num_eval=None):
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

  Returns:
    dict with at least ``score`` and ``parameters``.
  """
  if name == "beta_vae":
    return compute_beta_vae(ground_truth, representation_fn, random_state,
                            protocol=protocol, num_train=num_train,
                            num_eval=num_eval)
  kwargs = {}
  if name == "mig":
    if num_train is not None:
      kwargs["num_train"] = num_train
  elif name == "factor_vae":
    if num_train is not None:
      kwargs["num_train"] = num_train
      kwargs["num_variance_estimate"] = num_train
    if num_eval is not None:
      kwargs["num_eval"] = num_eval
  elif name in ("dci", "sap"):
    if num_train is not None:
      kwargs["num_train"] = num_train
    if num_eval is not None:
      kwargs["num_test"] = num_eval
  else:
    raise ValueError(f"unknown metric {name!r}; choose from {sorted(METRICS)}")
  return METRICS[name](ground_truth, representation_fn, random_state,
                       **kwargs)
