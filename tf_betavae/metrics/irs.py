"""Interventional Robustness Score (Suter et al. 2019), disentanglement_lib's.

Codes of ``num_train`` (default 10,000) i.i.d. samples are drawn; the factors
are discretised into ``num_bins`` (20) equal-width histogram bins (the same
discretiser as MIG; a factor with at most 20 values keeps one bin per value,
larger ones are merged).  Code dimensions with zero variance over the samples
are dropped ("inactive").  For each remaining dimension j and factor k:

* for every bin value v of factor k, the ``diff_quantile`` (0.99) quantile
  over the samples with that value of |z_j - E[z_j | v_k = v]| (linear
  interpolation, ``np.quantile``'s default);
* the mean of these quantiles over the values of k (each value counts once,
  whatever its sample count), divided by the dimension's largest absolute
  deviation from its overall mean, ``max_deviations[j]``;
* ``IRS_matrix[j, k] = 1 - that ratio``.

A dimension's score is its row maximum (its "parent" factor is the argmax);
IRS is the mean of the scores weighted by ``max_deviations``, so dimensions
that barely move count little.  With no active dimension IRS is 0.
``score`` is ``IRS``.  Units: the scores are ratios in (-inf, 1]; 1 means
that fixing the parent factor fixes the code exactly.
"""

from absl import logging
import numpy as np

from tf_betavae.metrics import mig
from tf_betavae.metrics import sampling

DEFAULTS = {"num_train": 10000, "diff_quantile": 0.99, "num_bins": 20}

# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set,
# and the images sampled at ``sizes`` (without a table): num_train.
SIZE_OVERRIDES = sampling.TRAIN_ONLY_OVERRIDES
images_sampled = sampling.train_images_sampled


def active_dimensions(codes):
  """Indices of the code dimensions with non-zero variance.

  Args:
    codes: float [N, D].

  Returns:
    int64 np.ndarray [D_active].
  """
  return np.flatnonzero(np.asarray(codes, np.float64).var(axis=0) > 0.0)


def irs_matrix(factors, codes, diff_quantile=DEFAULTS["diff_quantile"]):
  """IRS of every (code dimension, factor) pair and the normaliser.

  Args:
    factors: int [N, K], (discretised) factor values.
    codes: float [N, D], active code dimensions only (non-zero variance).
    diff_quantile: float in (0, 1], quantile of the within-group deviations
      (1.0 is the paper's maximum).

  Returns:
    matrix: float64 np.ndarray [D, K], 1 - normalised expected deviation.
    max_deviations: float64 np.ndarray [D], max |z_j - mean z_j| (code
      units).
  """
  factors = np.asarray(factors)
  codes = np.asarray(codes, np.float64)
  max_deviations = np.max(np.abs(codes - codes.mean(axis=0)), axis=0)
  deviations = np.zeros((codes.shape[1], factors.shape[1]))
  for k in range(factors.shape[1]):
    values = np.unique(factors[:, k])
    for v in values:
      group = codes[factors[:, k] == v]
      spread = np.abs(group - group.mean(axis=0))
      deviations[:, k] += np.quantile(spread, diff_quantile, axis=0)
    # Each value of the factor weighs the same, not each sample.
    deviations[:, k] /= len(values)
  return 1.0 - deviations / max_deviations[:, None], max_deviations


def scalable_disentanglement_score(factors, codes,
                                   diff_quantile=DEFAULTS["diff_quantile"]):
  """IRS of active codes (disentanglement_lib's function of the same name).

  Args:
    factors: int [N, K], discretised factors.
    codes: float [N, D], active code dimensions.
    diff_quantile: float in (0, 1].

  Returns:
    dict: ``disentanglement_scores`` [D] (row maxima), ``avg_score`` (their
    ``max_deviations``-weighted mean), ``parents`` [D] (argmax factor),
    ``IRS_matrix`` [D, K], ``max_deviations`` [D]; numpy values.
  """
  matrix, max_deviations = irs_matrix(factors, codes, diff_quantile)
  scores = matrix.max(axis=1)
  if np.sum(max_deviations) > 0.0:
    avg = np.average(scores, weights=max_deviations)
  else:
    avg = np.mean(scores)
  return {"disentanglement_scores": scores, "avg_score": float(avg),
          "parents": matrix.argmax(axis=1), "IRS_matrix": matrix,
          "max_deviations": max_deviations}


def _check(num_train, diff_quantile, num_bins):
  """Raises ValueError naming a bad size or parameter."""
  if num_train < 2:
    raise ValueError(f"IRS needs num_train >= 2 samples, got {num_train}")
  if not 0.0 < diff_quantile <= 1.0:
    raise ValueError(f"diff_quantile must be in (0, 1], got {diff_quantile}")
  if num_bins < 1:
    raise ValueError(f"num_bins must be >= 1, got {num_bins}")


def compute_irs_from_codes(codes, factors,
                           diff_quantile=DEFAULTS["diff_quantile"],
                           num_bins=DEFAULTS["num_bins"]):
  """Pure core of IRS.

  Args:
    codes: float [N, D], latent means.
    factors: int [N, K], factor indices (discretised here).
    diff_quantile: float in (0, 1].
    num_bins: int, histogram bins per factor.

  Returns:
    dict: ``score`` (= ``IRS``), ``IRS``, ``num_active_dims`` (count),
    ``active_dims`` (indices), and over the active dimensions
    ``disentanglement_scores``, ``parents``, ``max_deviations``,
    ``IRS_matrix`` [D_active][K] and ``avg_score`` (= IRS; absent from the
    result, like the other details, when no dimension is active).

  Raises:
    ValueError: mismatched shapes or bad sizes.
  """
  codes = np.asarray(codes, np.float64)
  factors = np.asarray(factors)
  if codes.ndim != 2 or factors.ndim != 2 or len(codes) != len(factors):
    raise ValueError(
        "codes [N, D] and factors [N, K] must be matrices with equally many "
        f"rows, got {codes.shape} and {factors.shape}")
  _check(len(codes), diff_quantile, num_bins)
  active = active_dimensions(codes)
  result = {"num_active_dims": int(len(active)),
            "active_dims": active.tolist()}
  if not len(active):
    result.update({"score": 0.0, "IRS": 0.0})
    return result
  details = scalable_disentanglement_score(
      mig.histogram_discretize(factors, num_bins), codes[:, active],
      diff_quantile)
  result.update({
      "score": details["avg_score"],
      "IRS": details["avg_score"],
      "avg_score": details["avg_score"],
      "disentanglement_scores": details["disentanglement_scores"].tolist(),
      "parents": details["parents"].tolist(),
      "max_deviations": details["max_deviations"].tolist(),
      "IRS_matrix": details["IRS_matrix"].tolist(),
  })
  return result


def compute_irs(ground_truth, representation_fn, random_state,
                num_train=DEFAULTS["num_train"],
                diff_quantile=DEFAULTS["diff_quantile"],
                num_bins=DEFAULTS["num_bins"],
                chunk_images=sampling.DEFAULT_CHUNK_IMAGES, prefetch=True):
  """IRS of a representation on i.i.d. samples of the ground truth.

  Args:
    ground_truth: ground-truth object (see ``sampling``).
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState.
    num_train: int, samples (disentanglement_lib: 10,000).
    diff_quantile: float (0.99).
    num_bins: int, histogram bins of the factor discretiser (20).
    chunk_images: int, images rendered and encoded per call.
    prefetch: see ``sampling.map_chunks``.

  Returns:
    dict of ``compute_irs_from_codes`` plus ``parameters``.

  Raises:
    ValueError: bad sizes.
  """
  _check(num_train, diff_quantile, num_bins)
  logging.info("IRS: sampling %d points.", num_train)
  codes, factors = sampling.sample_codes_and_factors(
      ground_truth, representation_fn, num_train, random_state, chunk_images,
      prefetch)
  result = compute_irs_from_codes(codes, factors, diff_quantile, num_bins)
  result["parameters"] = {"num_train": int(num_train),
                          "diff_quantile": float(diff_quantile),
                          "num_bins": int(num_bins),
                          "discretizer": "histogram"}
  return result
