"""The global batch of a step from inside one replica.

Under a tf.distribute strategy each replica runs the step on its slice of
the global batch.  Regularisers that are statistics of the whole batch (the
total-correlation estimate, DIP-VAE's covariances, FactorVAE's
permutations) gather the replicas' slices first, so a run on several
replicas computes what the single-device run computes.
"""

import tensorflow as tf


def num_replicas():
  """Replicas in sync under the current strategy (1 without one)."""
  return tf.distribute.get_strategy().num_replicas_in_sync


def gather_global_batch(tensor):
  """The replicas' ``tensor`` slices concatenated along axis 0, in replica
  order (the order the global batch was split in).

  Differentiable: the gradient of a loss that every replica computes
  identically from the gathered tensor reaches each replica's own slice
  summed over replicas, so with the loss divided by the number of replicas
  (as train_step does) the summed gradient is the single-device one.

  Args:
    tensor: [local_batch, ...].

  Returns:
    [global_batch, ...]; ``tensor`` itself with one replica.
  """
  context = tf.distribute.get_replica_context()
  if context is None or context.num_replicas_in_sync == 1:
    return tensor
  return context.all_gather(tensor, axis=0)


def local_slice(global_tensor, local_batch):
  """This replica's contiguous rows of a global-batch tensor.

  Args:
    global_tensor: [global_batch, ...], the same on every replica.
    local_batch: int32 scalar, rows per replica.

  Returns:
    [local_batch, ...].
  """
  context = tf.distribute.get_replica_context()
  replica = context.replica_id_in_sync_group if context is not None else 0
  start = tf.cast(replica, tf.int32) * local_batch
  return global_tensor[start:start + local_batch]
