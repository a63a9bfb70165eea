"""An independent, straightforward re-implementation of disentanglement_lib's
β-VAE-metric loop (one example at a time: two calls to the representation
function with 64 images each), for comparison with our batched version."""

import warnings

import numpy as np
from sklearn import exceptions
from sklearn import linear_model


def _one_example(gt, fn, num_pairs, rs):
  y = rs.randint(gt.num_factors)
  first = gt.sample_factors(num_pairs, rs)
  second = gt.sample_factors(num_pairs, rs)
  second[:, y] = first[:, y]
  z1 = fn(gt.sample_observations_from_factors(first, rs))
  z2 = fn(gt.sample_observations_from_factors(second, rs))
  return y, np.mean(np.abs(z1 - z2), axis=0)


def _examples(gt, fn, num, num_pairs, rs):
  labels, features = zip(*[_one_example(gt, fn, num_pairs, rs)
                           for _ in range(num)])
  return np.stack(features), np.asarray(labels)


def reference_beta_vae(gt, fn, rs, num_pairs=64, num_train=10000,
                       num_eval=5000):
  train_x, train_y = _examples(gt, fn, num_train, num_pairs, rs)
  model = linear_model.LogisticRegression(random_state=rs)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
    model.fit(train_x, train_y)
  eval_x, eval_y = _examples(gt, fn, num_eval, num_pairs, rs)
  return {"train_accuracy": np.mean(model.predict(train_x) == train_y),
          "eval_accuracy": model.score(eval_x, eval_y)}
