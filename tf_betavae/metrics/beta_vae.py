"""The β-VAE disentanglement metric (Higgins et al. 2017, section 3, appendix).

One classifier example is made as follows: pick a factor ``y`` uniformly; draw
``L`` pairs of factor vectors that agree on factor ``y`` and are independent
elsewhere; render both images of every pair with the ground-truth simulator;
encode them (latent means); the feature is ``z_diff = mean over the L pairs of
|z1 - z2|`` (one value per latent dimension) and the label is ``y``.  A
low-capacity linear classifier predicts ``y`` from ``z_diff``; the score is
its accuracy on held-out examples.

Two protocols (``PROTOCOLS``), both recorded in the result:

* ``disentanglement_lib``: L = 64, 10,000 train / 5,000 eval examples,
  ``sklearn.linear_model.LogisticRegression(random_state=random_state)`` with
  the library defaults (lbfgs, max_iter=100; a run that hits the iteration
  cap is kept as is, like disentanglement_lib does, and reported as
  ``converged: False``).  Features are not standardised.
* ``paper``: the paper's classifier, one Keras Dense layer with softmax on
  the negative log likelihood, optimised with Adagrad, trained to
  convergence (full batch on standardised features); the factors whose
  fixing it predicts are ``paper_factors`` (default ``"auto"``: on
  dSprites the four factors scale, orientation, pos_x and pos_y, as the
  paper is recalled to have labelled them; elsewhere all factors).  The
  values the paper does not give (L, sizes, the factor set) are our
  choices, see docs/metrics.md.

All randomness comes from the numpy RandomState passed in, so the same seed
gives the same score.  Sampling is batched: ``chunk_images`` images (pairs of
whole examples) are rendered and encoded per call.
"""

import warnings

from absl import logging
import numpy as np

from tf_betavae.metrics import sampling

PROTOCOLS = {
    "disentanglement_lib": {
        "num_pairs": 64,
        "num_train": 10000,
        "num_eval": 5000,
        "classifier": "sklearn.linear_model.LogisticRegression(defaults)",
    },
    "paper": {
        "num_pairs": 64,
        "num_train": 10000,
        "num_eval": 5000,
        "classifier": "keras Dense(num_classes, softmax), full batch, "
                      "standardised features",
        "optimizer": "Adagrad",
        "learning_rate": 0.5,
        "steps_per_check": 200,
        "max_steps": 20000,
        "tolerance": 1e-5,
    },
}

# run_metric's ``num_train`` / ``num_eval`` overrides -> the sizes they set.
SIZE_OVERRIDES = {"num_train": ("num_train",), "num_eval": ("num_eval",)}


def images_sampled(sizes):
  """Images the metric renders and encodes at ``sizes`` (without a table).

  Args:
    sizes: dict with ``num_train``, ``num_eval`` and ``num_pairs`` (two images a pair).

  Returns:
    int.
  """
  return (sizes["num_train"] + sizes["num_eval"]) * sizes["num_pairs"] * 2


# dSprites factors the paper's classifier is recalled to have predicted: every
# factor but shape (see docs/metrics.md for why this is recalled, not quoted).
PAPER_DSPRITES_FACTORS = ("scale", "orientation", "pos_x", "pos_y")
DSPRITES_FACTORS = ("shape",) + PAPER_DSPRITES_FACTORS
# The factor sets of ``resolve_factors`` besides explicit name lists.
FACTOR_SETS = ("auto", "all")


def factor_names_of(ground_truth):
  """The ground truth's factor names (``factor<k>`` where it has none)."""
  names = getattr(ground_truth, "factor_names", None)
  if names is None:
    names = [f"factor{k}" for k in range(ground_truth.num_factors)]
  return [str(n) for n in names]


def resolve_factors(ground_truth, factors):
  """Indices of the factors whose fixing the classifier predicts.

  Args:
    ground_truth: ground-truth object (``num_factors``, ``factor_names``).
    factors: None or "all" (every factor); "auto" (PAPER_DSPRITES_FACTORS
      on a ground truth with exactly dSprites' factors, else every
      factor); a comma-separated string or a sequence of factor names.

  Returns:
    sorted list of int factor indices, at least two.

  Raises:
    ValueError: an unknown or repeated name, or fewer than two factors
      (the message names the dataset's factors).
  """
  names = factor_names_of(ground_truth)
  if factors is None or factors == "all":
    return list(range(len(names)))
  if factors == "auto":
    if tuple(names) == DSPRITES_FACTORS:
      return [names.index(n) for n in PAPER_DSPRITES_FACTORS]
    return list(range(len(names)))
  if isinstance(factors, str):
    factors = [f.strip() for f in factors.split(",") if f.strip()]
  factors = list(factors)
  unknown = [f for f in factors if f not in names]
  if unknown:
    raise ValueError(f"unknown factor(s) {', '.join(map(str, unknown))}; "
                     f"this dataset's factors are {', '.join(names)} (or "
                     f"use {' or '.join(FACTOR_SETS)})")
  if len(set(factors)) != len(factors):
    raise ValueError(f"factors repeated in {','.join(factors)}")
  if len(factors) < 2:
    raise ValueError(f"the classifier needs at least two factors to tell "
                     f"apart, got {','.join(factors) or 'none'}")
  return sorted(names.index(f) for f in factors)


def beta_vae_features(codes1, codes2, num_pairs):
  """Pure feature computation: z_diff per example.

  Args:
    codes1: float np.ndarray [num_examples * num_pairs, D], codes of the first
      image of every pair, grouped by example (pairs of example k at rows
      k * num_pairs ... (k + 1) * num_pairs - 1).
    codes2: same shape, codes of the second images.
    num_pairs: int, L.

  Returns:
    float64 np.ndarray [num_examples, D]: mean over the L pairs of
    |codes1 - codes2| (units of the code).
  """
  codes1 = np.asarray(codes1, np.float64)
  codes2 = np.asarray(codes2, np.float64)
  if codes1.shape != codes2.shape or len(codes1) % num_pairs:
    raise ValueError(
        f"codes must both be [num_examples * {num_pairs}, D], got "
        f"{codes1.shape} and {codes2.shape}")
  diff = np.abs(codes1 - codes2).reshape(-1, num_pairs, codes1.shape[1])
  return diff.mean(axis=1)


def sample_beta_vae_examples(ground_truth, representation_fn, num_examples,
                             num_pairs, random_state,
                             chunk_images=sampling.DEFAULT_CHUNK_IMAGES,
                             prefetch=True, factor_indices=None):
  """Samples classifier examples of the β-VAE metric, batched.

  Args:
    ground_truth: ground-truth object (see ``sampling``).
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    num_examples: int, number of (z_diff, y) examples.
    num_pairs: int, L, image pairs per example.
    random_state: np.random.RandomState.
    chunk_images: int, images rendered and encoded per call (rounded to whole
      examples: 2 * L images each).
    prefetch: render the next chunk while encoding the current one.
    factor_indices: the factors y is drawn from (uniformly), or None for
      every factor.  With every factor the draws are those of
      disentanglement_lib.

  Returns:
    features: float64 np.ndarray [num_examples, D], z_diff.
    labels: int64 np.ndarray [num_examples], the fixed factor y.
  """
  per_chunk = max(1, chunk_images // (2 * num_pairs))
  if factor_indices is None:
    factor_indices = range(ground_truth.num_factors)
  factor_indices = np.asarray(list(factor_indices), np.int64)
  labels = factor_indices[random_state.randint(len(factor_indices),
                                               size=num_examples)]

  def factor_chunks():
    for start in range(0, num_examples, per_chunk):
      y = labels[start:start + per_chunk]
      n = len(y) * num_pairs
      factors1 = np.asarray(ground_truth.sample_factors(n, random_state),
                            np.int64)
      factors2 = np.asarray(ground_truth.sample_factors(n, random_state),
                            np.int64)
      rows = np.arange(n)
      fixed = np.repeat(y, num_pairs)
      factors2[rows, fixed] = factors1[rows, fixed]
      yield np.concatenate([factors1, factors2], axis=0)

  features = []
  for codes in sampling.map_chunks(
      ground_truth, representation_fn, factor_chunks(), random_state,
      prefetch, total_images=2 * num_pairs * num_examples,
      what="encoding for the beta_vae metric"):
    half = len(codes) // 2
    features.append(beta_vae_features(codes[:half], codes[half:], num_pairs))
  return np.concatenate(features, axis=0), labels.astype(np.int64)


def _fit_logistic_regression(train_x, train_y, random_state):
  """disentanglement_lib's classifier: LogisticRegression, library defaults."""
  from sklearn import exceptions
  from sklearn import linear_model
  model = linear_model.LogisticRegression(random_state=random_state)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
    model.fit(train_x, train_y)
  n_iter = int(np.max(model.n_iter_))
  details = {
      "solver": model.solver,
      "max_iter": model.max_iter,
      "n_iter": n_iter,
      "converged": n_iter < model.max_iter,
  }
  if not details["converged"]:
    logging.info("LogisticRegression stopped at max_iter=%d (kept, as in "
                 "disentanglement_lib).", model.max_iter)
  return model.predict, details


def standardiser(train_x):
  """Per-dimension (mean, scale) of training features; a constant
  dimension gets scale 1 so it maps to 0 instead of NaN.

  Args:
    train_x: float [n, D].

  Returns:
    (mean, scale): float64 [D] each.
  """
  train_x = np.asarray(train_x, np.float64)
  mean = train_x.mean(axis=0)
  scale = train_x.std(axis=0)
  return mean, np.where(scale > 0, scale, 1.0)


def _fit_keras_linear(train_x, train_y, random_state, params):
  """The paper's classifier, trained to convergence.

  One Dense(num_classes, softmax) layer on standardised features, the
  negative log likelihood of all training examples (full batch) minimised
  with Adagrad, checked every ``steps_per_check`` steps: it stops when the
  loss fell by less than ``tolerance`` nats over a check, or at
  ``max_steps``.  Full-batch steps on standardised inputs make the
  optimum reachable in seconds; the mini-batch Adagrad at 0.01 on raw
  features that the paper names stopped short of it (docs/metrics.md).

  Classes are the distinct training labels; the initialiser is seeded from
  ``random_state``.
  """
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  seed = int(random_state.randint(2**31 - 1))
  classes = np.unique(train_y)
  mean, scale = standardiser(train_x)
  x = tf.constant((train_x - mean) / scale, tf.float32)
  y = tf.constant(np.searchsorted(classes, train_y), tf.int64)
  model = keras.Sequential([
      keras.Input((train_x.shape[1],)),
      keras.layers.Dense(
          len(classes), activation="softmax",
          kernel_initializer=keras.initializers.GlorotUniform(seed=seed)),
  ])
  optimizer = keras.optimizers.Adagrad(learning_rate=params["learning_rate"])
  loss_fn = keras.losses.SparseCategoricalCrossentropy()
  optimizer.build(model.trainable_variables)

  @tf.function
  def run_steps(num_steps):
    loss = tf.constant(0.0)
    for _ in tf.range(num_steps):
      with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
      grads = tape.gradient(loss, model.trainable_variables)
      optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss

  chunk = int(params["steps_per_check"])
  previous = np.inf
  steps = 0
  converged = False
  loss = np.inf
  while steps < params["max_steps"]:
    loss = float(run_steps(tf.constant(chunk)))
    steps += chunk
    if previous - loss < params["tolerance"]:
      converged = True
      break
    previous = loss

  def predict(features):
    standardised = (np.asarray(features, np.float64) - mean) / scale
    probabilities = model.predict_on_batch(standardised.astype(np.float32))
    return classes[np.argmax(probabilities, axis=1)]

  details = {
      "steps": steps,
      "final_train_loss": loss,
      "converged": converged,
      "classes": classes.tolist(),
  }
  return predict, details


def logistic_regression_train_accuracy(train_x, train_y, c=1e4):
  """Train accuracy of a nearly unregularised LogisticRegression (C = c)
  fitted to convergence on standardised features: what a linear softmax
  classifier trained to convergence reaches on these examples.

  Args:
    train_x: float [n, D]; train_y: int [n].
    c: inverse L2 strength.

  Returns:
    float in [0, 1].
  """
  from sklearn import linear_model  # pylint: disable=g-import-not-at-top
  mean, scale = standardiser(train_x)
  standardised = (np.asarray(train_x, np.float64) - mean) / scale
  model = linear_model.LogisticRegression(C=c, max_iter=10000)
  model.fit(standardised, train_y)
  return float(np.mean(model.predict(standardised) == train_y))


def _resolve_params(protocol, overrides):
  if protocol not in PROTOCOLS:
    raise ValueError(f"unknown protocol {protocol!r}; choose from "
                     f"{sorted(PROTOCOLS)}")
  params = dict(PROTOCOLS[protocol])
  params.update({k: v for k, v in (overrides or {}).items() if v is not None})
  return params


def fit_classifier(train_features, train_labels, num_factors, random_state,
                   protocol="disentanglement_lib", classifier_params=None):
  """Trains the protocol's linear classifier.

  Args:
    train_features: float [num_train, D], z_diff of the training examples.
    train_labels: int [num_train], the fixed factor of each example.
    num_factors: int, number of classes.
    random_state: np.random.RandomState (initialisation and shuffling of the
      Keras classifier; passed to LogisticRegression as disentanglement_lib
      does, where lbfgs does not use it).
    protocol: "disentanglement_lib" (LogisticRegression) or "paper" (Keras).
    classifier_params: dict overriding ``PROTOCOLS[protocol]`` entries.

  Returns:
    (predict, details): predict maps float [n, D] to int [n] labels; details
    is a dict (iterations or epochs, convergence).
  """
  params = _resolve_params(protocol, classifier_params)
  train_features = np.asarray(train_features, np.float64)
  train_labels = np.asarray(train_labels, np.int64)
  if protocol == "disentanglement_lib":
    return _fit_logistic_regression(train_features, train_labels,
                                    random_state)
  del num_factors  # the paper's classes are the labels present
  return _fit_keras_linear(train_features, train_labels, random_state, params)


def compute_beta_vae_from_examples(train_features, train_labels,
                                   eval_features, eval_labels, num_factors,
                                   random_state, protocol="disentanglement_lib",
                                   classifier_params=None):
  """Pure core: trains the linear classifier and scores it.

  Args:
    train_features: float [num_train, D], z_diff of the training examples.
    train_labels: int [num_train], fixed factor of each example.
    eval_features: float [num_eval, D].
    eval_labels: int [num_eval].
    num_factors: int, number of classes.
    random_state: np.random.RandomState (see ``fit_classifier``).
    protocol: "disentanglement_lib" or "paper".
    classifier_params: dict overriding ``PROTOCOLS[protocol]`` entries.

  Returns:
    dict: ``train_accuracy``, ``eval_accuracy`` (fractions in [0, 1]) and
    ``classifier`` (details).
  """
  predict, details = fit_classifier(train_features, train_labels, num_factors,
                                    random_state, protocol, classifier_params)
  result, _ = _score(predict, details, train_features, train_labels,
                     eval_features, eval_labels)
  return result


def confusion(labels, predictions, factor_indices, factor_names):
  """Which fixed factor the classifier takes for which.

  Args:
    labels: int [n], the fixed factor of each example.
    predictions: int [n], the classifier's answer for each.
    factor_indices: the K labelled factors, in the order rows and columns
      take.
    factor_names: their K names.

  Returns:
    dict: ``factors`` (the K names), ``counts`` (K x K list of ints, row =
    the fixed factor, column = the predicted one) and ``accuracy_per_factor``
    ({name: fraction of that factor's examples predicted right}, None for a
    factor with no example).
  """
  position = {int(k): i for i, k in enumerate(factor_indices)}
  counts = np.zeros((len(position), len(position)), np.int64)
  for label, prediction in zip(np.asarray(labels), np.asarray(predictions)):
    counts[position[int(label)], position[int(prediction)]] += 1
  totals = counts.sum(axis=1)
  return {
      "factors": list(factor_names),
      "counts": counts.tolist(),
      "accuracy_per_factor": {
          name: (float(counts[i, i] / totals[i]) if totals[i] else None)
          for i, name in enumerate(factor_names)},
  }


def _score(predict, details, train_x, train_y, eval_x, eval_y):
  eval_predictions = predict(eval_x)
  return {
      "train_accuracy": float(np.mean(predict(train_x) == train_y)),
      "eval_accuracy": float(np.mean(eval_predictions == eval_y)),
      "classifier": details,
  }, eval_predictions


def compute_beta_vae(ground_truth, representation_fn, random_state,
                     protocol="disentanglement_lib", num_train=None,
                     num_eval=None, num_pairs=None, classifier_params=None,
                     chunk_images=sampling.DEFAULT_CHUNK_IMAGES,
                     prefetch=True, paper_factors="auto"):
  """β-VAE metric of a representation.

  The order of random draws follows disentanglement_lib: training examples,
  classifier, evaluation examples.

  Args:
    ground_truth: ground-truth object (see ``sampling``).
    representation_fn: callable images [N, H, W, C] -> codes [N, D].
    random_state: np.random.RandomState; the same state gives the same score.
    protocol: "disentanglement_lib" or "paper" (see ``PROTOCOLS``).
    num_train: int, training examples (default: the protocol's).
    num_eval: int, evaluation examples (default: the protocol's).
    num_pairs: int, L (default: the protocol's, 64).
    classifier_params: dict overriding other ``PROTOCOLS[protocol]`` entries
      (e.g. ``max_steps`` of the paper protocol).
    chunk_images: int, images rendered and encoded per call.
    prefetch: render the next chunk while encoding the current one.
    paper_factors: the factors the paper protocol labels (see
      ``resolve_factors``: "auto", "all" or names); the
      disentanglement_lib protocol always labels every factor.

  Returns:
    dict with ``score`` (= eval accuracy, a fraction), ``train_accuracy``,
    ``eval_accuracy``, ``classifier`` details (the paper protocol adds
    ``logistic_regression_train_accuracy``, the reference its training
    accuracy should reach), ``protocol``, ``factors`` (names of the
    labelled factors), ``eval_confusion`` (``confusion`` of the evaluation
    examples: which fixed factor is taken for which), ``chance`` (1 / their
    number) and ``parameters`` (every setting used).

  Raises:
    ValueError: an unknown protocol or factor name.
  """
  overrides = dict(classifier_params or {})
  overrides.update(num_train=num_train, num_eval=num_eval,
                   num_pairs=num_pairs)
  params = _resolve_params(protocol, overrides)
  factor_indices = resolve_factors(
      ground_truth, paper_factors if protocol == "paper" else "all")
  factor_names = [factor_names_of(ground_truth)[k] for k in factor_indices]
  params["factors"] = factor_names
  logging.info("beta_vae metric (%s): %d training examples.", protocol,
               params["num_train"])
  train_x, train_y = sample_beta_vae_examples(
      ground_truth, representation_fn, params["num_train"],
      params["num_pairs"], random_state, chunk_images, prefetch,
      factor_indices)
  predict, details = fit_classifier(train_x, train_y, ground_truth.num_factors,
                                    random_state, protocol, params)
  if protocol == "paper":
    details["logistic_regression_train_accuracy"] = (
        logistic_regression_train_accuracy(train_x, train_y))
  logging.info("beta_vae metric: %d evaluation examples.", params["num_eval"])
  eval_x, eval_y = sample_beta_vae_examples(
      ground_truth, representation_fn, params["num_eval"],
      params["num_pairs"], random_state, chunk_images, prefetch,
      factor_indices)
  result, eval_predictions = _score(predict, details, train_x, train_y,
                                    eval_x, eval_y)
  result.update({
      "score": result["eval_accuracy"],
      "protocol": protocol,
      "factors": factor_names,
      "eval_confusion": confusion(eval_y, eval_predictions, factor_indices,
                                  factor_names),
      "chance": 1.0 / len(factor_indices),
      "parameters": params,
  })
  return result
