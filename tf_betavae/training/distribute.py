"""tf.distribute: the strategy of a run, this process's role in its cluster,
and the input pipeline split over replicas and workers."""

import collections
import os

import tensorflow as tf

from tf_betavae import data as data_lib
from tf_betavae.models import methods as methods_lib
from tf_betavae.training import config as config_lib

Task = collections.namedtuple("Task", ["task_type", "task_id", "is_chief"])


def make_strategy(name="default", devices=None, collective_timeout=None):
  """The tf.distribute strategy of a run.

  Args:
    name: 'default' (one device), 'mirrored' (all local GPUs, or
      ``devices``) or 'multi_worker' (MultiWorkerMirroredStrategy configured
      by the TF_CONFIG environment variable).  Create it before any other
      TensorFlow work in the process (multi_worker requires that).
    devices: list of device names for 'mirrored', e.g. ['/gpu:0', '/gpu:1'].
    collective_timeout: seconds after which a multi-worker collective
      (e.g. waiting on a dead worker) fails instead of hanging.

  Raises:
    ConfigError: unknown name, or multi_worker without TF_CONFIG.
  """
  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    return tf.distribute.MirroredStrategy(devices=devices or None)
  if name == "multi_worker":
    if not os.environ.get("TF_CONFIG"):
      raise config_lib.ConfigError(
          "--strategy=multi_worker needs the TF_CONFIG environment variable "
          "(cluster and this task)")
    options = tf.distribute.experimental.CommunicationOptions(
        timeout_seconds=collective_timeout)
    return tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=options)
  raise config_lib.ConfigError(f"unknown --strategy {name!r}; choose "
                               "default, mirrored or multi_worker")


def task(strategy):
  """This process's Task (task_type, task_id, is_chief) in its cluster.

  Without a cluster: (None, 0, True).  The chief is the 'chief' task, or
  worker 0 when the cluster has no 'chief'.
  """
  resolver = getattr(strategy, "cluster_resolver", None)
  cluster = resolver.cluster_spec().as_dict() if resolver else {}
  if not cluster:
    return Task(None, 0, True)
  task_type, task_id = resolver.task_type, resolver.task_id or 0
  is_chief = (task_type == "chief" or
              (task_type == "worker" and task_id == 0 and
               "chief" not in cluster))
  return Task(task_type, task_id, is_chief)


def distributed_dataset(config, strategy, start_step):
  """Batches of the global batch, split over replicas (and workers).

  Every input pipeline renders the same global batch of step ``i`` and keeps
  its own slice, and each replica receives a contiguous part of it, so the
  examples (and the latent noise, see BetaVAE) that make up a step do not
  depend on how many devices or workers share it: a run on several replicas
  follows the single-device run.

  Returns:
    a tf.distribute.DistributedDataset of float32 image batches
    [per-replica batch, H, W, C], starting at batch ``start_step``; for
    the weakly-supervised methods of (pairs [per-replica batch, 2, H, W,
    C], labels [per-replica batch]).
  """
  global_batch = config.batch_size

  def dataset_fn(context):
    per_replica = context.get_per_replica_batch_size(global_batch)
    per_pipeline = global_batch // context.num_input_pipelines
    first = context.input_pipeline_id * per_pipeline
    dataset, _ = training_batches(config, global_batch, start_step)
    if context.num_input_pipelines > 1:
      # Every part of an element (images; or pairs and labels) is batched
      # along its first axis; tf.data passes a tuple's parts as arguments.
      def keep_slice(*batch):
        parts = tuple(part[first:first + per_pipeline] for part in batch)
        return parts if len(parts) > 1 else parts[0]
      dataset = dataset.map(keep_slice)
    if per_replica != per_pipeline:
      dataset = dataset.rebatch(per_replica)
    return dataset.prefetch(tf.data.AUTOTUNE)

  return strategy.distribute_datasets_from_function(dataset_fn)


def training_batches(config, batch_size, start_batch):
  """The run's training stream: single images, or pairs for the
  weakly-supervised methods (tf_betavae.models.methods.is_weak).

  Returns:
    (tf.data.Dataset, (H, W, C)); see tf_betavae.data.training_dataset and
    pair_dataset.
  """
  source = data_lib.source_of(config)
  if methods_lib.is_weak(config.method):
    return source.pair_dataset(batch_size, config.seed, k=config.k,
                               frame_gap=config.frame_gap,
                               start_batch=start_batch)
  return source.training_dataset(batch_size, config.seed,
                                 start_batch=start_batch)
