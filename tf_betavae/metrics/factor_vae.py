"""FactorVAE disentanglement score (Kim & Mnih 2018), disentanglement_lib sizes.

1. Global scale: the variance (ddof=1) of every code dimension over
   ``num_variance_estimate`` (10,000) i.i.d. samples.  Dimensions whose
   standard deviation is below ``prune_threshold`` (0.05) are collapsed and
   pruned.
2. One example: pick a factor k uniformly, draw ``batch_size`` (64) factor
   vectors with factor k fixed to one value, encode their images, divide the
   per-dimension variances (ddof=1) by the global variances (i.e. normalise
   each dimension by its global std) and take the argmin over the active
   dimensions.  The example votes (argmin dimension -> k).
3. The majority-vote classifier maps each dimension to the factor it got most
   training votes for; the score is its accuracy on ``num_eval`` (5,000)
   evaluation examples (``num_train`` = 10,000 training examples).
"""

from absl import logging
import numpy as np

from tf_betavae.metrics import sampling

DEFAULTS = {
    "batch_size": 64,
    "num_train": 10000,
    "num_eval": 5000,
    "num_variance_estimate": 10000,
    "prune_threshold": 0.05,
}

# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set.
SIZE_OVERRIDES = {
    "num_train": ("num_train", "num_variance_estimate"),
    "num_eval": ("num_eval",),
}


def images_sampled(sizes):
  """Images the metric renders and encodes at ``sizes`` (without a table).

  Args:
    sizes: dict with ``num_train``, ``num_eval``, ``batch_size`` and
      ``num_variance_estimate``.

  Returns:
    int.
  """
  return ((sizes["num_train"] + sizes["num_eval"]) * sizes["batch_size"]
          + sizes["num_variance_estimate"])


def active_dimensions(global_variances, threshold=0.05):
  """Mask of dimensions whose global std is at least ``threshold``.

  Args:
    global_variances: float [D], variances (code units squared).
    threshold: float, in code units (std).

  Returns:
    bool np.ndarray [D].
  """
  return np.sqrt(np.asarray(global_variances)) >= threshold


def factor_vae_votes(group_codes, fixed_factors, global_variances, active,
                     num_factors):
  """Pure core, part 1: the votes of a set of examples.

  Args:
    group_codes: float [num_examples, batch_size, D], codes of each example's
      batch (one factor held fixed within a batch).
    fixed_factors: int [num_examples], the fixed factor of each example.
    global_variances: float [D].
    active: bool [D], dimensions that may be chosen.
    num_factors: int.

  Returns:
    int64 np.ndarray [num_factors, D]: votes[k, j] counts examples with fixed
    factor k whose normalised-variance argmin is dimension j.
  """
  group_codes = np.asarray(group_codes, np.float64)
  local = np.var(group_codes, axis=1, ddof=1)
  active_index = np.flatnonzero(active)
  ratio = local[:, active_index] / np.asarray(global_variances)[active_index]
  argmin = active_index[np.argmin(ratio, axis=1)]
  votes = np.zeros((num_factors, group_codes.shape[2]), np.int64)
  np.add.at(votes, (np.asarray(fixed_factors), argmin), 1)
  return votes


def compute_factor_vae_from_votes(train_votes, eval_votes):
  """Pure core, part 2: majority-vote classifier and its accuracies.

  Args:
    train_votes: int [num_factors, D].
    eval_votes: int [num_factors, D].

  Returns:
    dict: ``train_accuracy``, ``eval_accuracy`` (fractions) and
    ``dimension_to_factor`` [D] (the classifier).
  """
  train_votes = np.asarray(train_votes)
  eval_votes = np.asarray(eval_votes)
  classifier = np.argmax(train_votes, axis=0)
  columns = np.arange(train_votes.shape[1])
  return {
      "train_accuracy": float(train_votes[classifier, columns].sum() /
                              train_votes.sum()),
      "eval_accuracy": float(eval_votes[classifier, columns].sum() /
                             eval_votes.sum()),
      "dimension_to_factor": classifier.tolist(),
  }


def sample_votes(ground_truth, representation_fn, num_examples, batch_size,
                 global_variances, active, random_state,
                 chunk_images=sampling.DEFAULT_CHUNK_IMAGES, prefetch=True):
  """Samples ``num_examples`` examples (batched) and returns their votes.

  Returns:
    int64 np.ndarray [num_factors, D].
  """
  per_chunk = max(1, chunk_images // batch_size)
  fixed_all = []

  def factor_chunks():
    for start in range(0, num_examples, per_chunk):
      n = min(per_chunk, num_examples - start)
      fixed, factors = sampling.sample_fixed_factor_groups(
          ground_truth, n, batch_size, random_state)
      fixed_all.append(fixed)
      yield factors.reshape(n * batch_size, -1)

  votes = 0
  for i, codes in enumerate(sampling.map_chunks(
      ground_truth, representation_fn, factor_chunks(), random_state,
      prefetch, total_images=num_examples * batch_size,
      what="encoding for the factor_vae metric")):
    votes = votes + factor_vae_votes(
        codes.reshape(-1, batch_size, codes.shape[1]), fixed_all[i],
        global_variances, active, ground_truth.num_factors)
  return votes


def compute_factor_vae(ground_truth, representation_fn, random_state,
                       batch_size=DEFAULTS["batch_size"],
                       num_train=DEFAULTS["num_train"],
                       num_eval=DEFAULTS["num_eval"],
                       num_variance_estimate=DEFAULTS["num_variance_estimate"],
                       prune_threshold=DEFAULTS["prune_threshold"],
                       chunk_images=sampling.DEFAULT_CHUNK_IMAGES,
                       prefetch=True):
  """FactorVAE score of a representation.

  Args:
    ground_truth: ground-truth object (see ``sampling``).
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState.
    batch_size: int, images per example (64).
    num_train: int, training examples (10,000).
    num_eval: int, evaluation examples (5,000).
    num_variance_estimate: int, samples for the global variances (10,000).
    prune_threshold: float, minimum global std of an active dimension (0.05).
    chunk_images: int, images rendered and encoded per call.
    prefetch: see ``sampling.map_chunks``.

  Returns:
    dict: ``score`` (= eval accuracy; chance ~1/num_factors),
    ``train_accuracy``, ``eval_accuracy``, ``num_active_dims``,
    ``active_dims``, ``dimension_to_factor``, ``global_variances`` and
    ``parameters``.  With no active dimension every accuracy is 0.
  """
  params = {"batch_size": int(batch_size), "num_train": int(num_train),
            "num_eval": int(num_eval),
            "num_variance_estimate": int(num_variance_estimate),
            "prune_threshold": float(prune_threshold)}
  logging.info("FactorVAE: global variances from %d samples.",
               num_variance_estimate)
  codes, _ = sampling.sample_codes_and_factors(
      ground_truth, representation_fn, num_variance_estimate, random_state,
      chunk_images, prefetch)
  global_variances = np.var(codes, axis=0, ddof=1)
  active = active_dimensions(global_variances, prune_threshold)
  result = {
      "num_active_dims": int(active.sum()),
      "active_dims": np.flatnonzero(active).tolist(),
      "global_variances": global_variances.tolist(),
      "parameters": params,
  }
  if not active.any():
    result.update(score=0.0, train_accuracy=0.0, eval_accuracy=0.0)
    return result
  logging.info("FactorVAE: %d training examples.", num_train)
  train_votes = sample_votes(ground_truth, representation_fn, num_train,
                             batch_size, global_variances, active,
                             random_state, chunk_images, prefetch)
  logging.info("FactorVAE: %d evaluation examples.", num_eval)
  eval_votes = sample_votes(ground_truth, representation_fn, num_eval,
                            batch_size, global_variances, active,
                            random_state, chunk_images, prefetch)
  result.update(compute_factor_vae_from_votes(train_votes, eval_votes))
  result["score"] = result["eval_accuracy"]
  return result
