"""FusedAdam: Keras' Adam update in one fused kernel."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_betavae.models import fused_adam


def _train(optimizer, steps, dtype=np.float32):
  weights = keras.Variable(np.linspace(-1, 1, 500).astype(dtype))
  optimizer.build([weights])
  for step in range(steps):
    gradient = np.sin(np.arange(500) * 0.37 + step).astype(dtype)
    optimizer.apply_gradients([(tf.constant(gradient), weights)])
  return weights.numpy(), optimizer


def _numpy_adam(steps, lr, beta_1, beta_2, epsilon):
  """Adam in float64 numpy (Kingma & Ba, Keras' epsilon placement)."""
  weights = np.linspace(-1, 1, 500)
  m = np.zeros(500)
  v = np.zeros(500)
  for step in range(steps):
    gradient = np.sin(np.arange(500) * 0.37 + step)
    m = beta_1 * m + (1 - beta_1) * gradient
    v = beta_2 * v + (1 - beta_2) * gradient ** 2
    t = step + 1
    alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    weights = weights - alpha * m / (np.sqrt(v) + epsilon)
  return weights


@pytest.mark.parametrize("steps", [1, 25])
def test_matches_keras_adam_and_a_float64_reference(steps):
  settings = dict(learning_rate=1e-2, beta_1=0.5, beta_2=0.9)
  fused, optimizer = _train(fused_adam.FusedAdam(**settings), steps)
  keras_weights, _ = _train(keras.optimizers.Adam(**settings), steps)
  np.testing.assert_allclose(fused, keras_weights, atol=1e-6)
  np.testing.assert_allclose(
      fused, _numpy_adam(steps, 1e-2, 0.5, 0.9, optimizer.epsilon),
      atol=2e-6)
  assert int(optimizer.iterations.numpy()) == steps


def test_checkpoints_are_interchangeable_with_keras_adam(tmp_path):
  _, fused = _train(fused_adam.FusedAdam(1e-2), 3)
  path = tf.train.Checkpoint(optimizer=fused).save(str(tmp_path / "ckpt"))
  plain = keras.optimizers.Adam(1e-2)
  plain.build([keras.Variable(np.zeros(500, np.float32))])
  tf.train.Checkpoint(optimizer=plain).restore(path).assert_consumed()
  for a, b in zip(fused.variables, plain.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_amsgrad_is_refused():
  with pytest.raises(ValueError, match="amsgrad"):
    fused_adam.FusedAdam(amsgrad=True)
