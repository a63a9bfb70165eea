"""Adam whose update is TensorFlow's fused kernel (one pass per variable).

keras.optimizers.Adam updates each variable with a chain of elementwise ops
(m, v, then the variable), each a full pass over memory; for FactorVAE's
discriminator (5 million weights, a tiny compute per weight) those passes
cost more than its forward and backward pass together on a CPU.
``tf.raw_ops.ResourceApplyAdam`` does the same update in one pass:
m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², var ← var − lr_t·m / (√v + ε)
with lr_t = lr·√(1 − β2^t) / (1 − β1^t): Keras' formula, and the same slot
variables, so checkpoints are interchangeable with keras.optimizers.Adam's.
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tf_betavae")
class FusedAdam(keras.optimizers.Adam):
  """keras.optimizers.Adam (without amsgrad) with a fused update step.

  Falls back to Keras' update for variables that are not float32 or
  float64 (the fused kernel's types).
  """

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    if self.amsgrad:
      raise ValueError("FusedAdam has no amsgrad")

  def update_step(self, gradient, variable, learning_rate):
    if variable.dtype not in ("float32", "float64"):
      return super().update_step(gradient, variable, learning_rate)
    dtype = variable.dtype
    index = self._get_variable_index(variable)
    m = self._momentums[index]
    v = self._velocities[index]
    local_step = tf.cast(self.iterations + 1, dtype)
    beta_1 = tf.cast(self.beta_1, dtype)
    beta_2 = tf.cast(self.beta_2, dtype)
    tf.raw_ops.ResourceApplyAdam(
        var=_handle(variable), m=_handle(m), v=_handle(v),
        beta1_power=tf.pow(beta_1, local_step),
        beta2_power=tf.pow(beta_2, local_step),
        lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
        epsilon=tf.cast(self.epsilon, dtype),
        grad=tf.cast(gradient, dtype), use_locking=False)


def _handle(variable):
  """The resource handle of a tf.Variable or a Keras variable (whose
  ``value`` is its tf.Variable)."""
  if isinstance(variable, tf.Variable):
    return variable.handle
  return variable.value.handle
