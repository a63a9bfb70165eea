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
* ``paper``: one Keras Dense layer with softmax trained with Adagrad at
  learning rate 0.01 on the negative log likelihood (from the paper); the
  remaining values (L, sizes, batch size, stopping rule) are our choices,
  see docs/metrics.md.

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
        "classifier": "keras Dense(num_factors, softmax)",
        "optimizer": "Adagrad",
        "learning_rate": 0.01,
        "batch_size": 64,
        "max_epochs": 1000,
        "tolerance": 1e-4,
        "patience": 10,
    },
}


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
                             prefetch=True):
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

  Returns:
    features: float64 np.ndarray [num_examples, D], z_diff.
    labels: int64 np.ndarray [num_examples], the fixed factor y.
  """
  per_chunk = max(1, chunk_images // (2 * num_pairs))
  labels = random_state.randint(ground_truth.num_factors, size=num_examples)

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
  for codes in sampling.map_chunks(ground_truth, representation_fn,
                                   factor_chunks(), random_state, prefetch):
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


def _fit_keras_linear(train_x, train_y, num_classes, random_state, params):
  """The paper's classifier: Dense(num_classes, softmax), Adagrad, NLL loss.

  Trained full epochs in shuffled mini-batches (shuffling drawn from
  ``random_state``; the initialiser is seeded from it) until the mean
  training loss of an epoch has not improved by ``tolerance`` for
  ``patience`` epochs, or ``max_epochs``.
  """
  import keras
  import tensorflow as tf

  seed = int(random_state.randint(2**31 - 1))
  dim = train_x.shape[1]
  model = keras.Sequential([
      keras.Input((dim,)),
      keras.layers.Dense(
          num_classes, activation="softmax",
          kernel_initializer=keras.initializers.GlorotUniform(seed=seed)),
  ])
  optimizer = keras.optimizers.Adagrad(learning_rate=params["learning_rate"])
  loss_fn = keras.losses.SparseCategoricalCrossentropy()
  batch_size = params["batch_size"]
  x = tf.constant(train_x, tf.float32)
  y = tf.constant(train_y, tf.int64)
  num_batches = len(train_x) // batch_size + bool(len(train_x) % batch_size)
  optimizer.build(model.trainable_variables)

  @tf.function
  def run_epoch(permutation):
    total = tf.constant(0.0)
    for b in tf.range(num_batches):
      index = permutation[b * batch_size:(b + 1) * batch_size]
      xb = tf.gather(x, index)
      yb = tf.gather(y, index)
      with tf.GradientTape() as tape:
        loss = loss_fn(yb, model(xb, training=True))
      grads = tape.gradient(loss, model.trainable_variables)
      optimizer.apply_gradients(zip(grads, model.trainable_variables))
      total += loss * tf.cast(tf.shape(index)[0], tf.float32)
    return total / len(train_x)

  best = np.inf
  since_best = 0
  epochs = 0
  for epochs in range(1, params["max_epochs"] + 1):
    loss = float(run_epoch(tf.constant(random_state.permutation(len(x)))))
    if loss < best - params["tolerance"]:
      best, since_best = loss, 0
    else:
      since_best += 1
      if since_best >= params["patience"]:
        break

  def predict(features):
    probabilities = model.predict_on_batch(np.asarray(features, np.float32))
    return np.argmax(probabilities, axis=1)

  details = {
      "epochs": epochs,
      "final_train_loss": loss,
      "converged": since_best >= params["patience"],
  }
  return predict, details


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
  return _fit_keras_linear(train_features, train_labels, num_factors,
                           random_state, params)


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
  return _score(predict, details, train_features, train_labels,
                eval_features, eval_labels)


def _score(predict, details, train_x, train_y, eval_x, eval_y):
  return {
      "train_accuracy": float(np.mean(predict(train_x) == train_y)),
      "eval_accuracy": float(np.mean(predict(eval_x) == eval_y)),
      "classifier": details,
  }


def compute_beta_vae(ground_truth, representation_fn, random_state,
                     protocol="disentanglement_lib", num_train=None,
                     num_eval=None, num_pairs=None, classifier_params=None,
                     chunk_images=sampling.DEFAULT_CHUNK_IMAGES,
                     prefetch=True):
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
      (e.g. ``max_epochs`` of the paper protocol).
    chunk_images: int, images rendered and encoded per call.
    prefetch: render the next chunk while encoding the current one.

  Returns:
    dict with ``score`` (= eval accuracy, a fraction), ``train_accuracy``,
    ``eval_accuracy``, ``classifier`` details, ``protocol``, ``chance``
    (1/num_factors) and ``parameters`` (every setting used).
  """
  overrides = dict(classifier_params or {})
  overrides.update(num_train=num_train, num_eval=num_eval,
                   num_pairs=num_pairs)
  params = _resolve_params(protocol, overrides)
  logging.info("beta_vae metric (%s): %d training examples.", protocol,
               params["num_train"])
  train_x, train_y = sample_beta_vae_examples(
      ground_truth, representation_fn, params["num_train"],
      params["num_pairs"], random_state, chunk_images, prefetch)
  predict, details = fit_classifier(train_x, train_y, ground_truth.num_factors,
                                    random_state, protocol, params)
  logging.info("beta_vae metric: %d evaluation examples.", params["num_eval"])
  eval_x, eval_y = sample_beta_vae_examples(
      ground_truth, representation_fn, params["num_eval"],
      params["num_pairs"], random_state, chunk_images, prefetch)
  result = _score(predict, details, train_x, train_y, eval_x, eval_y)
  result.update({
      "score": result["eval_accuracy"],
      "protocol": protocol,
      "chance": 1.0 / ground_truth.num_factors,
      "parameters": params,
  })
  return result
