"""Mutual Information Gap (Chen et al. 2018), as disentanglement_lib defines it.

Latent means of ``num_train`` (default 10,000) i.i.d. samples are discretised
per dimension into ``num_bins`` (default 20) equal-width histogram bins; the
discrete mutual information I(z_j; v_k) (nats) between every code dimension
and every factor is computed; for each factor the gap between the largest and
the second largest I over code dimensions is divided by the factor's entropy
H(v_k) (nats); MIG is the mean over factors, in [0, 1].
"""

from absl import logging
import numpy as np

from tf_betavae.metrics import sampling

DEFAULTS = {"num_train": 10000, "num_bins": 20}

# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set,
# and the images sampled at ``sizes`` (without a table): num_train.
SIZE_OVERRIDES = sampling.TRAIN_ONLY_OVERRIDES
images_sampled = sampling.train_images_sampled


def histogram_discretize(codes, num_bins=20):
  """Discretises each column into equal-width bins over its own range.

  Bin edges are those of ``np.histogram(column, num_bins)``; a value gets the
  number of left edges at or below it (1..num_bins), as disentanglement_lib's
  histogram discretiser does.

  Args:
    codes: float np.ndarray [N, D].
    num_bins: int.

  Returns:
    int64 np.ndarray [N, D] with values in 1..num_bins.
  """
  codes = np.asarray(codes, np.float64)
  out = np.empty(codes.shape, np.int64)
  for j in range(codes.shape[1]):
    edges = np.histogram(codes[:, j], num_bins)[1][:-1]
    out[:, j] = np.digitize(codes[:, j], edges)
  return out


def _compact(labels):
  """Maps each column of non-negative ints to 0..k-1; returns (labels, k)."""
  out = np.empty(labels.shape, np.int64)
  sizes = []
  for j in range(labels.shape[1]):
    _, out[:, j] = np.unique(labels[:, j], return_inverse=True)
    sizes.append(int(out[:, j].max()) + 1 if len(out) else 0)
  return out, sizes


def discrete_entropy(labels):
  """Entropy (nats) of each column of discrete labels.

  Args:
    labels: int np.ndarray [N, K].

  Returns:
    float64 np.ndarray [K].
  """
  labels, _ = _compact(np.asarray(labels))
  result = []
  for j in range(labels.shape[1]):
    p = np.bincount(labels[:, j]) / len(labels)
    p = p[p > 0]
    result.append(-np.sum(p * np.log(p)))
  return np.asarray(result)


def discrete_mutual_info(a, b):
  """Mutual information (nats) between every column of ``a`` and of ``b``.

  Equals ``sklearn.metrics.mutual_info_score`` per pair, computed with one
  joint histogram per column of ``b``.

  Args:
    a: int np.ndarray [N, D] (e.g. discretised codes).
    b: int np.ndarray [N, K] (e.g. factor indices).

  Returns:
    float64 np.ndarray [D, K].
  """
  a, a_sizes = _compact(np.asarray(a))
  b, b_sizes = _compact(np.asarray(b))
  n, d = a.shape
  na = max(a_sizes)
  result = np.zeros((d, b.shape[1]))
  for k in range(b.shape[1]):
    nb = b_sizes[k]
    # joint[i, x, y] counts rows with a[:, i] == x and b[:, k] == y.
    index = (np.arange(d)[None, :] * na + a) * nb + b[:, k:k + 1]
    joint = np.bincount(index.ravel(), minlength=d * na * nb).reshape(
        d, na, nb) / n
    pa = joint.sum(axis=2, keepdims=True)
    pb = joint.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
      terms = joint * (np.log(joint) - np.log(pa) - np.log(pb))
    result[:, k] = np.nansum(np.where(joint > 0, terms, 0.0), axis=(1, 2))
  return np.maximum(result, 0.0)


def compute_mig_from_codes(codes, factors, num_bins=20):
  """Pure core of MIG.

  Args:
    codes: float np.ndarray [N, D], latent means.
    factors: int np.ndarray [N, K], factor indices.
    num_bins: int, histogram bins per code dimension.

  Returns:
    dict: ``score`` (MIG in [0, 1]), ``per_factor_gap`` [K] (normalised gaps),
    ``mutual_info`` [D][K] (nats), ``factor_entropy`` [K] (nats).
  """
  discrete = histogram_discretize(codes, num_bins)
  mutual_info = discrete_mutual_info(discrete, factors)
  entropy = discrete_entropy(factors)
  ordered = np.sort(mutual_info, axis=0)[::-1]
  second = ordered[1] if len(ordered) > 1 else np.zeros_like(ordered[0])
  with np.errstate(divide="ignore", invalid="ignore"):
    gap = np.where(entropy > 0, (ordered[0] - second) / entropy, 0.0)
  return {
      "score": float(np.mean(gap)),
      "per_factor_gap": gap.tolist(),
      "mutual_info": mutual_info.tolist(),
      "factor_entropy": entropy.tolist(),
  }


def compute_mig(ground_truth, representation_fn, random_state,
                num_train=DEFAULTS["num_train"], num_bins=DEFAULTS["num_bins"],
                chunk_images=sampling.DEFAULT_CHUNK_IMAGES, prefetch=True):
  """MIG of a representation on i.i.d. samples of the ground truth.

  Args:
    ground_truth: ground-truth object (see ``sampling``).
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState.
    num_train: int, samples (disentanglement_lib: 10,000).
    num_bins: int, histogram bins (disentanglement_lib: 20).
    chunk_images: int, images rendered and encoded per call.
    prefetch: see ``sampling.map_chunks``.

  Returns:
    dict of ``compute_mig_from_codes`` plus ``parameters``.
  """
  logging.info("MIG: sampling %d points.", num_train)
  codes, factors = sampling.sample_codes_and_factors(
      ground_truth, representation_fn, num_train, random_state, chunk_images,
      prefetch)
  result = compute_mig_from_codes(codes, factors, num_bins)
  result["parameters"] = {"num_train": int(num_train),
                          "num_bins": int(num_bins),
                          "discretizer": "histogram"}
  return result
