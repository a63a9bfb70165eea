"""Label-free scores of a representation, as disentanglement_lib defines them.

From ``evaluation/metrics/unsupervised_metrics.py``: the latent means of
``num_train`` (default 10,000) i.i.d. samples, and

* ``gaussian_total_correlation`` (nats): the KL divergence between a Gaussian
  with the means' covariance C and the product of its marginals,
  ``0.5 * (sum(log diag(C)) - log det(C))``; 0 for uncorrelated latents.
* ``gaussian_wasserstein_correlation``: the squared 2-Wasserstein distance
  between that Gaussian and the product of its marginals as
  disentanglement_lib computes it, ``2 trace(C) - 2 trace(sqrtm(C *
  diag(C)[:, None]))`` (units of the code, squared); 0 for uncorrelated
  latents.
* ``gaussian_wasserstein_correlation_norm``: the same divided by trace(C).
* ``mutual_info_score`` (nats): means discretised into 20 equal-width bins
  per latent (``mig.histogram_discretize``), the discrete mutual information
  of every pair of distinct latents, summed and divided by D^2 - D.

Lower is "more factorised" for all four.  C is the unbiased sample
covariance (``np.cov``, N - 1).  A latent with zero variance makes the
Gaussian scores nan or inf, as in disentanglement_lib.
"""

from absl import logging
import numpy as np
import scipy.linalg

from tf_betavae.metrics import mig
from tf_betavae.metrics import sampling

DEFAULTS = {"num_train": 10000, "num_bins": 20}
# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set,
# and the images sampled at ``sizes`` (without a table): num_train.
SIZE_OVERRIDES = sampling.TRAIN_ONLY_OVERRIDES
images_sampled = sampling.train_images_sampled
# The one number a results table shows for this metric: disentanglement_lib
# reports all four, none as its headline; the total correlation of the
# fitted Gaussian (nats, 0 for independent latents, lower is more
# factorised) is the one its paper discusses.
SCORE_KEY = "gaussian_total_correlation"


def gaussian_total_correlation(covariance):
  """Total correlation (nats) of a Gaussian with this covariance.

  Args:
    covariance: float np.ndarray [D, D], symmetric positive definite.

  Returns:
    float.
  """
  covariance = np.asarray(covariance, np.float64)
  with np.errstate(divide="ignore", invalid="ignore"):
    log_diag = np.sum(np.log(np.diag(covariance)))
    return float(0.5 * (log_diag - np.linalg.slogdet(covariance)[1]))


def gaussian_wasserstein_correlation(covariance):
  """disentanglement_lib's Wasserstein correlation of a covariance.

  Args:
    covariance: float np.ndarray [D, D], symmetric positive semi-definite.

  Returns:
    float, ``2 trace(C) - 2 trace(sqrtm(C * diag(C)[:, None]))`` (the real
    part; sqrtm may return negligible imaginary parts).
  """
  covariance = np.asarray(covariance, np.float64)
  root = scipy.linalg.sqrtm(covariance * np.diag(covariance)[:, None])
  return float(2 * np.trace(covariance) - 2 * np.real(np.trace(root)))


def pairwise_mutual_info_score(latent_means, num_bins=DEFAULTS["num_bins"]):
  """Mean discrete mutual information over pairs of distinct latents.

  Args:
    latent_means: float np.ndarray [N, D], D >= 2.
    num_bins: int, equal-width bins per latent.

  Returns:
    (score in nats, mutual information matrix float64 [D, D] with its
    diagonal set to 0).
  """
  discrete = mig.histogram_discretize(latent_means, num_bins)
  mutual_info = mig.discrete_mutual_info(discrete, discrete)
  np.fill_diagonal(mutual_info, 0.0)
  dim = mutual_info.shape[0]
  with np.errstate(divide="ignore", invalid="ignore"):
    score = np.sum(mutual_info) / (dim * dim - dim)
  return float(score), mutual_info


def compute_unsupervised_from_codes(latent_means,
                                    num_bins=DEFAULTS["num_bins"]):
  """Pure core: the four label-free scores of a sample of latent means.

  Args:
    latent_means: float np.ndarray [N, D].
    num_bins: int, histogram bins for the mutual-information score.

  Returns:
    dict: ``gaussian_total_correlation``,
    ``gaussian_wasserstein_correlation``,
    ``gaussian_wasserstein_correlation_norm``, ``mutual_info_score`` (floats),
    ``covariance`` [D][D].
  """
  latent_means = np.asarray(latent_means, np.float64)
  covariance = np.atleast_2d(np.cov(latent_means, rowvar=False))
  wasserstein = gaussian_wasserstein_correlation(covariance)
  with np.errstate(divide="ignore", invalid="ignore"):
    wasserstein_norm = wasserstein / np.trace(covariance)
  mutual_info_score, _ = pairwise_mutual_info_score(latent_means, num_bins)
  return {
      "gaussian_total_correlation": gaussian_total_correlation(covariance),
      "gaussian_wasserstein_correlation": wasserstein,
      "gaussian_wasserstein_correlation_norm": float(wasserstein_norm),
      "mutual_info_score": mutual_info_score,
      "covariance": covariance.tolist(),
  }


def compute_unsupervised(ground_truth, representation_fn, random_state,
                         num_train=DEFAULTS["num_train"],
                         num_bins=DEFAULTS["num_bins"],
                         chunk_images=sampling.DEFAULT_CHUNK_IMAGES,
                         prefetch=True):
  """Label-free scores of a representation on i.i.d. ground-truth samples.

  Factors are sampled only to render images; the scores never see them.

  Args:
    ground_truth: ground-truth object (see ``sampling``).
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState.
    num_train: int, samples (disentanglement_lib: 10,000).
    num_bins: int, histogram bins (disentanglement_lib: 20).
    chunk_images: int, images rendered and encoded per call.
    prefetch: see ``sampling.map_chunks``.

  Returns:
    dict of ``compute_unsupervised_from_codes`` plus ``score`` (the
    SCORE_KEY entry) and ``parameters``.
  """
  logging.info("Unsupervised scores: sampling %d points.", num_train)
  codes, _ = sampling.sample_codes_and_factors(
      ground_truth, representation_fn, num_train, random_state, chunk_images,
      prefetch)
  result = compute_unsupervised_from_codes(codes, num_bins)
  result["score"] = result[SCORE_KEY]
  result["parameters"] = {"num_train": int(num_train),
                          "num_bins": int(num_bins),
                          "discretizer": "histogram"}
  return result
