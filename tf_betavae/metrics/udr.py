"""Unsupervised Disentanglement Ranking (Duan et al., ICLR 2020).

UDR ranks trained models without labels: disentangled representations of
the same data are alike up to a permutation and sign flips of their latents,
entangled ones are alike in many different ways.  Definitions follow
disentanglement_lib (``evaluation/udr/metrics/udr.py``) so scores compare:

1. Every model encodes one shared sample of ``num_points`` (default 10,000)
   images; its latent means are standardised over the sample (zero mean,
   unit population std; a constant latent becomes all zeros).
2. A latent is *informative* when its mean KL divergence from the prior over
   the sample, ``0.5 * (mu^2 + exp(logvar) - logvar - 1)`` averaged over
   images, is above ``kl_filter_threshold`` (default 0.01 nats).
   Uninformative latents are set to zero before the correlations and left
   out of the score.
3. For every ordered pair of models (i, j) a [D_i, D_j] matrix of
   similarities: ``lasso`` (|coefficients| of
   ``sklearn.linear_model.Lasso(alpha=0.1)`` predicting model j's latents
   from model i's, transposed so rows are model i's latents) or ``spearman``
   (|Spearman rank correlation| of every latent of i with every latent of j).
4. The pair score is the relative-strength score of the matrix restricted to
   informative latents: the mean over columns of max(column)^2 / sum(column)
   and the mean over rows likewise, averaged (0/0 counts as 0).  It is 1 for
   a permutation matrix.  A pair in which one model has no informative
   latent scores 0 (disentanglement_lib would fail on the empty matrix).
5. A model's UDR is the median of the scores of the pairs (j, i), j != i.

With ``lasso`` the ceiling is ``1 - alpha`` (0.9), not 1: regressing a
standardised latent on an identical standardised one, the L1 penalty
shrinks the coefficient from 1 to 1 - alpha, and the relative-strength
score of ``c * P`` (P a permutation matrix) is c.
"""

import itertools
import math

from absl import logging
import numpy as np
import scipy.stats
from sklearn import linear_model

from tf_betavae.metrics import sampling

CORRELATIONS = ("lasso", "spearman")
DEFAULTS = {
    "num_points": 10000,
    "correlation": "lasso",
    "lasso_alpha": 0.1,
    "kl_filter_threshold": 0.01,
}


def mean_kl_per_latent(latent_mean, log_variance):
  """KL(q(z|x) || N(0, 1)) per latent, averaged over the sample.

  Args:
    latent_mean: float np.ndarray [N, D], the encoder's means.
    log_variance: float np.ndarray [N, D], the encoder's log-variances.

  Returns:
    float64 np.ndarray [D], nats.
  """
  mu = np.asarray(latent_mean, np.float64)
  log_var = np.asarray(log_variance, np.float64)
  kl = 0.5 * (np.square(mu) + np.exp(log_var) - log_var - 1.0)
  return kl.mean(axis=0)


def standardise(codes):
  """Each column to zero mean and unit population std over the rows.

  Constant columns become zeros (as sklearn's StandardScaler does).

  Args:
    codes: float np.ndarray [N, D].

  Returns:
    float64 np.ndarray [N, D].
  """
  codes = np.asarray(codes, np.float64)
  centred = codes - codes.mean(axis=0)
  std = codes.std(axis=0)
  return centred / np.where(std > 0, std, 1.0)


def lasso_correlation(codes_i, codes_j, alpha=DEFAULTS["lasso_alpha"]):
  """|Lasso coefficients| predicting ``codes_j`` from ``codes_i``.

  Args:
    codes_i: float np.ndarray [N, D_i] (standardised latents of model i).
    codes_j: float np.ndarray [N, D_j] (standardised latents of model j).
    alpha: float, the L1 weight of sklearn's Lasso
      (1/(2N) * squared error + alpha * L1 norm).

  Returns:
    float64 np.ndarray [D_i, D_j]: entry (a, b) is |weight of latent a of
    model i in the prediction of latent b of model j|.
  """
  regression = linear_model.Lasso(alpha=alpha)
  regression.fit(codes_i, codes_j)
  # coef_ is [D_j, D_i] (one row per target), or [D_i] for one target.
  coefficients = np.reshape(regression.coef_, (codes_j.shape[1], -1))
  return np.abs(coefficients).T.astype(np.float64)


def spearman_correlation(codes_i, codes_j):
  """|Spearman rank correlation| of every latent of i with every one of j.

  Args:
    codes_i: float np.ndarray [N, D_i].
    codes_j: float np.ndarray [N, D_j].

  Returns:
    float64 np.ndarray [D_i, D_j]; nan where a latent is constant.
  """
  out = np.full((codes_i.shape[1], codes_j.shape[1]), np.nan)
  # scipy gives up on the whole matrix (one nan) for some placements of
  # constant columns, so they are left out here and stay nan.
  keep_i = np.ptp(codes_i, axis=0) > 0
  keep_j = np.ptp(codes_j, axis=0) > 0
  if not keep_i.any() or not keep_j.any():
    return out
  rho = scipy.stats.spearmanr(codes_i[:, keep_i], codes_j[:, keep_j]).statistic
  # The [D_i + D_j] square matrix of both sets of columns, or one number
  # for two single columns.
  d_i = int(keep_i.sum())
  rho = np.reshape(rho, (1, 1)) if np.ndim(rho) == 0 else rho[:d_i, d_i:]
  out[np.ix_(keep_i, keep_j)] = np.abs(rho)
  return out


def relative_strength_score(matrix):
  """disentanglement_lib's relative-strength score of a similarity matrix.

  The mean over columns of max(column)^2 / sum(column) and the same over
  rows, averaged; ratios that are nan (0/0) count as 0.

  Args:
    matrix: float np.ndarray [A, B] of non-negative similarities.

  Returns:
    float in [0, max(matrix)]; 1 for a permutation matrix.  0.0 for an
    empty matrix.
  """
  matrix = np.asarray(matrix, np.float64)
  if matrix.size == 0:
    return 0.0
  with np.errstate(invalid="ignore", divide="ignore"):
    by_column = np.nan_to_num(
        np.square(matrix.max(axis=0)) / matrix.sum(axis=0), nan=0.0)
    by_row = np.nan_to_num(
        np.square(matrix.max(axis=1)) / matrix.sum(axis=1), nan=0.0)
  return float((np.nanmean(by_column) + np.nanmean(by_row)) / 2)


def compute_udr_from_codes(latent_means, kl_per_latent,
                           correlation=DEFAULTS["correlation"],
                           kl_filter_threshold=DEFAULTS["kl_filter_threshold"],
                           lasso_alpha=DEFAULTS["lasso_alpha"]):
  """Pure core of UDR over several models' codes of one shared sample.

  Args:
    latent_means: list of M float np.ndarray [N, D_m], row n of every array
      encodes the same image.
    kl_per_latent: list of M float np.ndarray [D_m], mean KL per latent over
      the sample (nats; see ``mean_kl_per_latent``).
    correlation: "lasso" or "spearman".
    kl_filter_threshold: float, nats; latents with mean KL at or below it
      are ignored.
    lasso_alpha: float, the Lasso's L1 weight (used with "lasso").

  Returns:
    dict: ``model_scores`` [M] (UDR per model), ``pairwise_scores`` [M][M]
    (entry (i, j) scores the pair with model i as rows; 0 on the diagonal),
    ``informative_latents`` [M] (ints), ``parameters``.

  Raises:
    ValueError: fewer than 2 models, unknown correlation, or arrays whose
      numbers of rows or latents do not agree.
  """
  if correlation not in CORRELATIONS:
    raise ValueError(f"correlation must be one of {CORRELATIONS}, got "
                     f"{correlation!r}")
  num_models = len(latent_means)
  if num_models < 2 or len(kl_per_latent) != num_models:
    raise ValueError("UDR needs the codes and KLs of at least 2 models, got "
                     f"{num_models} and {len(kl_per_latent)}")
  num_points = len(latent_means[0])
  codes, masks = [], []
  for means, kl in zip(latent_means, kl_per_latent):
    means = np.asarray(means, np.float64)
    kl = np.asarray(kl, np.float64)
    if means.ndim != 2 or len(means) != num_points or kl.shape != (
        means.shape[1],):
      raise ValueError(
          f"every model needs codes [{num_points}, D] and KLs [D]; got "
          f"{means.shape} and {kl.shape}")
    mask = kl > kl_filter_threshold
    codes.append(standardise(means) * mask)
    masks.append(mask)

  pairwise = np.zeros((num_models, num_models))
  for i in range(num_models):
    for j in range(num_models):
      if i == j:
        continue
      if correlation == "lasso":
        matrix = lasso_correlation(codes[i], codes[j], lasso_alpha)
      else:
        matrix = spearman_correlation(codes[i], codes[j])
      pairwise[i, j] = relative_strength_score(matrix[masks[i]][:, masks[j]])
  model_scores = [float(np.median(np.delete(pairwise[:, i], i)))
                  for i in range(num_models)]
  parameters = {"correlation": correlation,
                "kl_filter_threshold": float(kl_filter_threshold),
                "num_points": int(num_points)}
  if correlation == "lasso":
    parameters["lasso_alpha"] = float(lasso_alpha)
  return {
      "model_scores": model_scores,
      "pairwise_scores": pairwise.tolist(),
      "informative_latents": [int(m.sum()) for m in masks],
      "parameters": parameters,
  }


def compute_udr_from_posteriors(
    posteriors, correlation=DEFAULTS["correlation"],
    kl_filter_threshold=DEFAULTS["kl_filter_threshold"],
    lasso_alpha=DEFAULTS["lasso_alpha"]):
  """``compute_udr_from_codes`` of encoder outputs on one shared sample.

  Args:
    posteriors: list of M (latent_mean, log_variance) pairs, float
      np.ndarray [N, D_m] each, row n of every array from the same image.
    correlation, kl_filter_threshold, lasso_alpha: see
      ``compute_udr_from_codes``.

  Returns:
    dict of ``compute_udr_from_codes``.
  """
  return compute_udr_from_codes(
      [mean for mean, _ in posteriors],
      [mean_kl_per_latent(mean, log_var) for mean, log_var in posteriors],
      correlation, kl_filter_threshold, lasso_alpha)


def stack_encoders(encoders):
  """One representation function encoding with every model at once.

  ``sampling`` works with functions images -> [N, D]; this one returns the
  means and log-variances of every model side by side, so one pass over a
  sample of images gives every model's posterior on the same images.

  Args:
    encoders: list of callables images float32 [N, H, W, C] ->
      (latent_mean [N, D_m], log_variance [N, D_m]).

  Returns:
    (representation_fn, split): ``representation_fn(images)`` is float64
    [N, 2 * sum(D_m)]; ``split(codes)`` turns such an array back into a list
    of (latent_mean, log_variance) per model.
  """
  widths = []

  def representation_fn(images):
    parts = []
    widths.clear()
    for encode in encoders:
      mean, log_variance = encode(images)
      mean = np.asarray(mean, np.float64)
      widths.append(mean.shape[1])
      parts += [mean, np.asarray(log_variance, np.float64)]
    return np.concatenate(parts, axis=1)

  def split(codes):
    out, start = [], 0
    for width in widths:
      out.append((codes[:, start:start + width],
                  codes[:, start + width:start + 2 * width]))
      start += 2 * width
    return out

  return representation_fn, split


def compute_udr(ground_truth, encoders, random_state,
                num_points=DEFAULTS["num_points"],
                correlation=DEFAULTS["correlation"],
                kl_filter_threshold=DEFAULTS["kl_filter_threshold"],
                lasso_alpha=DEFAULTS["lasso_alpha"],
                chunk_images=sampling.DEFAULT_CHUNK_IMAGES, prefetch=True):
  """UDR of several models on one i.i.d. sample of a ground-truth dataset.

  Factors are not used, only the images sampled with them.

  Args:
    ground_truth: ground-truth object (see ``sampling``).
    encoders: list of at least 2 callables images float32 [N, H, W, C] ->
      (latent_mean [N, D_m], log_variance [N, D_m]).
    random_state: np.random.RandomState.
    num_points: int, shared sample size (disentanglement_lib: 10,000).
    correlation, kl_filter_threshold, lasso_alpha: see
      ``compute_udr_from_codes``.
    chunk_images: int, images rendered and encoded per call.
    prefetch: see ``sampling.map_chunks``.

  Returns:
    dict of ``compute_udr_from_codes``.
  """
  logging.info("UDR: encoding %d images with %d models.", num_points,
               len(encoders))
  representation_fn, split = stack_encoders(encoders)
  codes, _ = sampling.sample_codes_and_factors(
      ground_truth, representation_fn, num_points, random_state,
      chunk_images, prefetch)
  return compute_udr_from_posteriors(split(codes), correlation,
                                     kl_filter_threshold, lasso_alpha)


# Pools enumerated at most by pool_picks: C(20, 10) is 184,756.
MAX_POOLS = 1_000_000


def pool_picks(pairwise_scores, pool_size):
  """How often each model is UDR's pick, over every pool of ``pool_size``.

  A pair's score depends only on the two models (and the shared sample), so
  the UDR of model i within a pool P is the median of ``pairwise_scores[j,
  i]`` over j in P, j != i; this scores every pool of the M models from one
  run's pair scores, which says how often a user who trains ``pool_size``
  seeds of a setting would get each model.

  Args:
    pairwise_scores: float array-like [M, M], entry (i, j) the pair with
      model i as rows (``compute_udr_from_codes``'s ``pairwise_scores``);
      the diagonal is ignored.
    pool_size: int in [2, M], models per pool.

  Returns:
    int np.ndarray [M]: the pools in which each model has the highest UDR
    (a tie goes to the lower index); sums to the number of pools, C(M,
    pool_size).

  Raises:
    ValueError: the matrix is not square with at least 2 models or holds a
      non-finite score, pool_size is out of range, or there would be more
      than MAX_POOLS pools.
  """
  pairwise = np.asarray(pairwise_scores, np.float64)
  if pairwise.ndim != 2 or pairwise.shape[0] != pairwise.shape[1] or (
      pairwise.shape[0] < 2):
    raise ValueError(f"pairwise scores must be a square matrix of at least 2 "
                     f"models, got shape {pairwise.shape}")
  num_models = pairwise.shape[0]
  off_diagonal = ~np.eye(num_models, dtype=bool)
  if not np.all(np.isfinite(pairwise[off_diagonal])):
    raise ValueError("pairwise scores must be finite")
  if not (isinstance(pool_size, (int, np.integer)) and not isinstance(
      pool_size, bool) and 2 <= pool_size <= num_models):
    raise ValueError(f"pool size must be an integer in [2, {num_models}] "
                     f"(the number of models), got {pool_size!r}")
  pool_size = int(pool_size)
  num_pools = math.comb(num_models, pool_size)
  if num_pools > MAX_POOLS:
    raise ValueError(f"{num_models} models give {num_pools} pools of "
                     f"{pool_size}, more than {MAX_POOLS}; choose a smaller "
                     "or larger pool size")
  counts = np.zeros(num_models, np.int64)
  # Row c of a pool's transposed sub-matrix holds the scores of the pairs
  # (j, c); dropping the diagonal leaves the pool_size - 1 pairs with j != c.
  off_diagonal = ~np.eye(pool_size, dtype=bool)
  for pool in itertools.combinations(range(num_models), pool_size):
    columns = pairwise[np.ix_(pool, pool)].T[off_diagonal]
    scores = np.median(columns.reshape(pool_size, pool_size - 1), axis=1)
    counts[pool[int(np.argmax(scores))]] += 1
  return counts
