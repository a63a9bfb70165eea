"""Metric sizes and planned images, pinned to fixed values.

Sizes are configuration: the values below are what ``metric_sizes`` and
``code_table.planned_images`` must return for every metric, protocol and
override.
"""

import numpy as np
import pytest

from tf_betavae import metrics
from tf_betavae.metrics import code_table
from tf_betavae.metrics import registry

_BETA_VAE_DL = {'num_pairs': 64,
                'num_train': 10000,
                'num_eval': 5000,
                'classifier': ('sklearn.linear_model.'
                               'LogisticRegression(defaults)')}
_BETA_VAE_PAPER = {'num_pairs': 64,
                   'num_train': 10000,
                   'num_eval': 5000,
                   'classifier': 'keras Dense(num_classes, softmax), full batch, '
                                 'standardised features',
                   'optimizer': 'Adagrad',
                   'learning_rate': 0.5,
                   'steps_per_check': 200,
                   'max_steps': 20000,
                   'tolerance': 1e-05}
_MIG = {'num_train': 10000, 'num_bins': 20}
_FACTOR_VAE = {'batch_size': 64,
               'num_train': 10000,
               'num_eval': 5000,
               'num_variance_estimate': 10000,
               'prune_threshold': 0.05}
_DCI = {'num_train': 10000, 'num_test': 5000}
_SAP = {'num_train': 10000, 'num_test': 5000, 'continuous_factors': False}
# disentanglement_lib's other evaluations, by its config names.
_MODULARITY_EXPLICITNESS = {'num_train': 10000, 'num_test': 5000, 'num_bins': 20}
_IRS = {'num_train': 10000, 'diff_quantile': 0.99, 'num_bins': 20}
_DOWNSTREAM_TASK_LOGISTIC_REGRESSION = {'num_train': (10, 100, 1000, 10000), 'num_test': 5000, 'predictor': 'logistic_regression_cv'}
_DOWNSTREAM_TASK_BOOSTED_TREES = {'num_train': (10, 100, 1000, 10000), 'num_test': 5000, 'predictor': 'gradient_boosting_classifier'}
_REDUCED_DOWNSTREAM_TASK = {'num_train': (10, 100, 1000, 10000), 'num_test': 5000, 'num_factors_to_remove': 1, 'predictor': 'gradient_boosting_classifier'}
_STRONG_DOWNSTREAM_TASK = {'num_train': (10, 100, 1000, 10000), 'num_test': 5000, 'n_experiment': 10, 'predictor': 'gradient_boosting_classifier'}
_FAIRNESS = {'num_train': 10000, 'num_test_points_per_class': 100}
_UNSUPERVISED = {'num_train': 10000, 'num_bins': 20}

# (metric, protocol, num_train, num_eval, default sizes, sizes changed by
# the overrides, planned images)
EXPECTED = [
    ('beta_vae', 'disentanglement_lib', None, None, _BETA_VAE_DL,
     {}, 1920000),
    ('beta_vae', 'disentanglement_lib', 300, None, _BETA_VAE_DL,
     {'num_train': 300}, 678400),
    ('beta_vae', 'disentanglement_lib', None, 70, _BETA_VAE_DL,
     {'num_eval': 70}, 1288960),
    ('beta_vae', 'disentanglement_lib', 300, 70, _BETA_VAE_DL,
     {'num_train': 300, 'num_eval': 70}, 47360),
    ('beta_vae', 'paper', None, None, _BETA_VAE_PAPER,
     {}, 1920000),
    ('beta_vae', 'paper', 300, None, _BETA_VAE_PAPER,
     {'num_train': 300}, 678400),
    ('beta_vae', 'paper', None, 70, _BETA_VAE_PAPER,
     {'num_eval': 70}, 1288960),
    ('beta_vae', 'paper', 300, 70, _BETA_VAE_PAPER,
     {'num_train': 300, 'num_eval': 70}, 47360),
    ('mig', 'disentanglement_lib', None, None, _MIG,
     {}, 10000),
    ('mig', 'disentanglement_lib', 300, None, _MIG,
     {'num_train': 300}, 300),
    ('mig', 'disentanglement_lib', None, 70, _MIG,
     {}, 10000),
    ('mig', 'disentanglement_lib', 300, 70, _MIG,
     {'num_train': 300}, 300),
    ('mig', 'paper', None, None, _MIG,
     {}, 10000),
    ('mig', 'paper', 300, None, _MIG,
     {'num_train': 300}, 300),
    ('mig', 'paper', None, 70, _MIG,
     {}, 10000),
    ('mig', 'paper', 300, 70, _MIG,
     {'num_train': 300}, 300),
    ('factor_vae', 'disentanglement_lib', None, None, _FACTOR_VAE,
     {}, 970000),
    ('factor_vae', 'disentanglement_lib', 300, None, _FACTOR_VAE,
     {'num_train': 300, 'num_variance_estimate': 300}, 339500),
    ('factor_vae', 'disentanglement_lib', None, 70, _FACTOR_VAE,
     {'num_eval': 70}, 654480),
    ('factor_vae', 'disentanglement_lib', 300, 70, _FACTOR_VAE,
     {'num_train': 300, 'num_eval': 70, 'num_variance_estimate': 300},
     23980),
    ('factor_vae', 'paper', None, None, _FACTOR_VAE,
     {}, 970000),
    ('factor_vae', 'paper', 300, None, _FACTOR_VAE,
     {'num_train': 300, 'num_variance_estimate': 300}, 339500),
    ('factor_vae', 'paper', None, 70, _FACTOR_VAE,
     {'num_eval': 70}, 654480),
    ('factor_vae', 'paper', 300, 70, _FACTOR_VAE,
     {'num_train': 300, 'num_eval': 70, 'num_variance_estimate': 300},
     23980),
    ('dci', 'disentanglement_lib', None, None, _DCI,
     {}, 15000),
    ('dci', 'disentanglement_lib', 300, None, _DCI,
     {'num_train': 300}, 5300),
    ('dci', 'disentanglement_lib', None, 70, _DCI,
     {'num_test': 70}, 10070),
    ('dci', 'disentanglement_lib', 300, 70, _DCI,
     {'num_train': 300, 'num_test': 70}, 370),
    ('dci', 'paper', None, None, _DCI,
     {}, 15000),
    ('dci', 'paper', 300, None, _DCI,
     {'num_train': 300}, 5300),
    ('dci', 'paper', None, 70, _DCI,
     {'num_test': 70}, 10070),
    ('dci', 'paper', 300, 70, _DCI,
     {'num_train': 300, 'num_test': 70}, 370),
    ('sap', 'disentanglement_lib', None, None, _SAP,
     {}, 15000),
    ('sap', 'disentanglement_lib', 300, None, _SAP,
     {'num_train': 300}, 5300),
    ('sap', 'disentanglement_lib', None, 70, _SAP,
     {'num_test': 70}, 10070),
    ('sap', 'disentanglement_lib', 300, 70, _SAP,
     {'num_train': 300, 'num_test': 70}, 370),
    ('sap', 'paper', None, None, _SAP,
     {}, 15000),
    ('sap', 'paper', 300, None, _SAP,
     {'num_train': 300}, 5300),
    ('sap', 'paper', None, 70, _SAP,
     {'num_test': 70}, 10070),
    ('sap', 'paper', 300, 70, _SAP,
     {'num_train': 300, 'num_test': 70}, 370),
    ('modularity_explicitness', 'disentanglement_lib', None, None, _MODULARITY_EXPLICITNESS,
     {}, 15000),
    ('modularity_explicitness', 'disentanglement_lib', 300, None, _MODULARITY_EXPLICITNESS,
     {'num_train': 300}, 5300),
    ('modularity_explicitness', 'disentanglement_lib', None, 70, _MODULARITY_EXPLICITNESS,
     {'num_test': 70}, 10070),
    ('modularity_explicitness', 'disentanglement_lib', 300, 70, _MODULARITY_EXPLICITNESS,
     {'num_train': 300, 'num_test': 70}, 370),
    ('irs', 'disentanglement_lib', None, None, _IRS,
     {}, 10000),
    ('irs', 'disentanglement_lib', 300, None, _IRS,
     {'num_train': 300}, 300),
    ('irs', 'disentanglement_lib', None, 70, _IRS,
     {}, 10000),
    ('irs', 'disentanglement_lib', 300, 70, _IRS,
     {'num_train': 300}, 300),
    ('downstream_task_logistic_regression', 'disentanglement_lib', None, None, _DOWNSTREAM_TASK_LOGISTIC_REGRESSION,
     {}, 31110),
    ('downstream_task_logistic_regression', 'disentanglement_lib', 300, None, _DOWNSTREAM_TASK_LOGISTIC_REGRESSION,
     {'num_train': 300}, 5300),
    ('downstream_task_logistic_regression', 'disentanglement_lib', None, 70, _DOWNSTREAM_TASK_LOGISTIC_REGRESSION,
     {'num_test': 70}, 11390),
    ('downstream_task_logistic_regression', 'disentanglement_lib', 300, 70, _DOWNSTREAM_TASK_LOGISTIC_REGRESSION,
     {'num_train': 300, 'num_test': 70}, 370),
    ('downstream_task_boosted_trees', 'disentanglement_lib', None, None, _DOWNSTREAM_TASK_BOOSTED_TREES,
     {}, 31110),
    ('downstream_task_boosted_trees', 'disentanglement_lib', 300, None, _DOWNSTREAM_TASK_BOOSTED_TREES,
     {'num_train': 300}, 5300),
    ('downstream_task_boosted_trees', 'disentanglement_lib', None, 70, _DOWNSTREAM_TASK_BOOSTED_TREES,
     {'num_test': 70}, 11390),
    ('downstream_task_boosted_trees', 'disentanglement_lib', 300, 70, _DOWNSTREAM_TASK_BOOSTED_TREES,
     {'num_train': 300, 'num_test': 70}, 370),
    ('reduced_downstream_task', 'disentanglement_lib', None, None, _REDUCED_DOWNSTREAM_TASK,
     {}, 31110),
    ('reduced_downstream_task', 'disentanglement_lib', 300, None, _REDUCED_DOWNSTREAM_TASK,
     {'num_train': 300}, 5300),
    ('reduced_downstream_task', 'disentanglement_lib', None, 70, _REDUCED_DOWNSTREAM_TASK,
     {'num_test': 70}, 11390),
    ('reduced_downstream_task', 'disentanglement_lib', 300, 70, _REDUCED_DOWNSTREAM_TASK,
     {'num_train': 300, 'num_test': 70}, 370),
    ('strong_downstream_task', 'disentanglement_lib', None, None, _STRONG_DOWNSTREAM_TASK,
     {}, 1586610),
    ('strong_downstream_task', 'disentanglement_lib', 300, None, _STRONG_DOWNSTREAM_TASK,
     {'num_train': 300}, 270300),
    ('strong_downstream_task', 'disentanglement_lib', None, 70, _STRONG_DOWNSTREAM_TASK,
     {'num_test': 70}, 580890),
    ('strong_downstream_task', 'disentanglement_lib', 300, 70, _STRONG_DOWNSTREAM_TASK,
     {'num_train': 300, 'num_test': 70}, 18870),
    ('fairness', 'disentanglement_lib', None, None, _FAIRNESS,
     {}, 55200),
    ('fairness', 'disentanglement_lib', 300, None, _FAIRNESS,
     {'num_train': 300}, 45500),
    ('fairness', 'disentanglement_lib', None, 70, _FAIRNESS,
     {'num_test_points_per_class': 70}, 41640),
    ('fairness', 'disentanglement_lib', 300, 70, _FAIRNESS,
     {'num_train': 300, 'num_test_points_per_class': 70}, 31940),
    ('unsupervised', 'disentanglement_lib', None, None, _UNSUPERVISED,
     {}, 10000),
    ('unsupervised', 'disentanglement_lib', 300, None, _UNSUPERVISED,
     {'num_train': 300}, 300),
    ('unsupervised', 'disentanglement_lib', None, 70, _UNSUPERVISED,
     {}, 10000),
    ('unsupervised', 'disentanglement_lib', 300, 70, _UNSUPERVISED,
     {'num_train': 300}, 300),
]


@pytest.mark.parametrize(
    "name,protocol,num_train,num_eval,defaults,changed,images", EXPECTED)
def test_sizes_and_planned_images_are_pinned(name, protocol, num_train,
                                             num_eval, defaults, changed,
                                             images):
  sizes = dict(defaults, **changed)
  resolved = metrics.metric_sizes(name, protocol, num_train, num_eval)
  assert resolved == sizes
  assert list(resolved) == list(sizes)  # the same key order
  assert code_table.planned_images(name, resolved) == images


def test_every_metric_is_pinned():
  assert {row[0] for row in EXPECTED} == set(metrics.METRICS)
  assert set(metrics.METRICS) == set(registry.REGISTRY)
  assert list(metrics.METRICS) == [
      "beta_vae", "mig", "factor_vae", "dci", "sap",
      "modularity_explicitness", "irs", "downstream_task_logistic_regression",
      "downstream_task_boosted_trees", "reduced_downstream_task",
      "strong_downstream_task", "fairness", "unsupervised"]
  # disentanglement_lib's unsupervised study scores each of these.
  assert set(registry.UNSUPERVISED_STUDY_METRICS) <= set(registry.REGISTRY)


def test_unknown_metric_messages():
  with pytest.raises(ValueError, match="unknown metric 'nope'; choose from"):
    metrics.metric_sizes("nope")
  with pytest.raises(ValueError, match="unknown metric 'nope'; choose from"):
    metrics.run_metric("nope", None, None, np.random.RandomState(0))
  with pytest.raises(ValueError, match="unknown metric 'nope'"):
    code_table.planned_images("nope", {})


@pytest.mark.parametrize("name", sorted(registry.REGISTRY))
def test_run_metric_passes_the_overrides(name, monkeypatch):
  """run_metric hands compute_* exactly the sizes metric_sizes resolves."""
  calls = []
  spec = registry.REGISTRY[name]
  fake = registry.MetricSpec(
      lambda gt, fn, rs, **kwargs: calls.append(kwargs) or {"score": 0.0},
      spec.default_sizes, spec.size_overrides, spec.images_sampled,
      spec.takes_protocol)
  monkeypatch.setitem(registry.REGISTRY, name, fake)
  metrics.run_metric(name, None, None, np.random.RandomState(0),
                     num_train=30, num_eval=20)
  metrics.run_metric(name, None, None, np.random.RandomState(0))
  with_overrides, without = calls
  resolved = metrics.metric_sizes(name, num_train=30, num_eval=20)
  for key, value in with_overrides.items():
    if key not in ("protocol", "paper_factors"):
      assert resolved[key] == value
  assert {k: v for k, v in without.items()
          if k not in ("protocol", "paper_factors")} == {}


# Keys of disentanglement_lib's result dict each registered metric returns
# (at num_train=50: the downstream tasks' one training size).  The reduced
# and strong downstream tasks fit tens of boosted-tree models even at these
# sizes; their own tests check their exact key sets.
_DLIB_KEYS = {
    "modularity_explicitness": ("modularity_score",
                                "explicitness_score_test"),
    "irs": ("IRS", "num_active_dims"),
    "downstream_task_logistic_regression": ("50:mean_test_accuracy",
                                            "50:test_accuracy_factor_0"),
    "downstream_task_boosted_trees": ("50:mean_test_accuracy",
                                      "50:min_train_accuracy"),
    "fairness": ("mean_fairness:mean_pred:mean_sens",
                 "max_fairness:max_pred:max_sens"),
    "unsupervised": ("gaussian_total_correlation", "mutual_info_score"),
}


@pytest.mark.parametrize("name", sorted(_DLIB_KEYS))
def test_each_metric_returns_disentanglement_libs_keys(name, gt, synthetic):
  result = metrics.run_metric(name, gt, synthetic.identity(gt),
                              np.random.RandomState(0), num_train=50,
                              num_eval=20)
  for key in _DLIB_KEYS[name]:
    assert np.isfinite(result[key]), key
  assert np.isfinite(result["score"]) and "parameters" in result
  if name.startswith("downstream_task_"):
    predictor = name.rsplit("_", 2)[-2:]
    assert result["parameters"]["predictor"] == (
        "logistic_regression_cv" if predictor == ["logistic", "regression"]
        else "gradient_boosting_classifier")
