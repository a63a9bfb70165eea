"""β-VAE: a Keras model whose custom train_step weights the KL term.

Objectives (per example, in nats; averaged over the batch):

* ``H`` (Higgins et al. 2017): reconstruction + β · KL(q(z|x) || p(z)).
  β = 1 is the plain VAE (the negative ELBO).  A β warm-up keeps the KL
  weight at 1 (the plain VAE) for ``beta_hold_steps`` optimizer steps, then
  raises it linearly to β over ``beta_warmup_steps`` steps: a KL annealing
  in the manner of Bowman et al. 2016 (who start from 0).  It too is
  computed from the step counter.
* ``B`` (Burgess et al. 2018): reconstruction + γ · |KL − C|, where the
  capacity C rises linearly from 0 to ``capacity_max`` nats over
  ``capacity_steps`` optimizer steps.  C is computed in the graph from the
  optimizer's step counter, so it never freezes at trace time and a resumed
  run (which restores the counter) continues the schedule.

The posterior is a ``tfd.MultivariateNormalDiag`` built in float32 from the
encoder's mean and log-variance, the prior a standard normal of the same
size, the KL term ``tfd.kl_divergence`` (analytic), and the latent sample is
the distribution's reparameterised sample (through its own bijector, from
noise drawn by the prior for the global batch).

The methods that followed (tf_betavae.models.methods) subclass BetaVAE:
they add a regulariser to the negative ELBO by overriding
``regularized_loss`` (β-TCVAE, DIP-VAE) or the whole ``train_step``
(FactorVAE, which trains a discriminator beside the VAE).
"""

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tf_betavae.models import likelihoods as likelihoods_lib
from tf_betavae.models import replicas

tfd = tfp.distributions

OBJECTIVES = ("H", "B")


def _ramp_fraction(step, begin, length):
  """How far a linear ramp that starts at step ``begin`` and lasts ``length``
  steps is at ``step``: float32 in [0, 1]; ``length`` 0 is a jump at
  ``begin``.  The schedules of C and of the KL weight share it."""
  since = tf.cast(step, tf.float32) - float(begin)
  if not length:
    return tf.cast(since >= 0.0, tf.float32)
  return tf.clip_by_value(since / float(length), 0.0, 1.0)


@keras.saving.register_keras_serializable(package="tf_betavae")
class VectorMean(keras.metrics.Metric):
  """Running mean of a vector over examples.

  ``result()`` is a dict of scalars ``{prefix_0: ..., prefix_1: ...}`` so
  logs and TensorBoard show each entry on its own.

  Args:
    size: int, length of the vector.
    prefix: str, the metric's name and the prefix of its result keys.
    **kwargs: forwarded to keras.metrics.Metric (e.g. dtype).
  """

  def __init__(self, size, prefix, **kwargs):
    super().__init__(name=prefix, **kwargs)
    self.size = int(size)
    self.prefix = prefix
    self.total = self.add_variable(shape=(self.size,), initializer="zeros",
                                   name="total")
    self.count = self.add_variable(shape=(), initializer="zeros",
                                   name="count")

  def update_state(self, values):
    """values: float [batch, size]."""
    values = tf.cast(values, self.total.dtype)
    self.total.assign_add(tf.reduce_sum(values, axis=0))
    self.count.assign_add(tf.cast(tf.shape(values)[0], self.count.dtype))

  def result(self):
    """dict {prefix_i: scalar mean of entry i}."""
    mean = tf.math.divide_no_nan(self.total, self.count)
    return {f"{self.prefix}_{i}": mean[i] for i in range(self.size)}

  def get_config(self):
    return {"size": self.size, "prefix": self.prefix, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="tf_betavae")
class BetaVAE(keras.Model):
  """A β-VAE with objectives H (method beta_vae) and B (annealed_vae).

  Args:
    encoder: layer, images [batch, H, W, C] -> (mean, log_variance)
      [batch, latent_dim] each.
    decoder: layer, latents [batch, latent_dim] -> per-pixel parameters
      [batch, H, W, C].
    latent_dim: int, size of z.
    likelihood: 'bernoulli' (default, the paper's choice for binary images)
      or 'gaussian'.
    objective: 'H' (β · KL) or 'B' (γ · |KL − C|).
    beta: float >= 0, the KL weight of objective H (paper default 4 for
      2D shapes).
    beta_hold_steps: int >= 0, objective H of the β-VAE only: steps at the
      KL weight min(1, β) before the warm-up.
    beta_warmup_steps: int >= 0, objective H of the β-VAE only: steps over
      which the KL weight then rises linearly to β (0: a jump to β).  With
      both 0 the weight is β from the first step.
    gamma: float >= 0, the weight of objective B (Burgess et al.: 1000).
    capacity_max: float >= 0, final capacity C of objective B, nats.
    capacity_steps: int > 0, steps over which C rises linearly from 0.
    gaussian_stddev: float > 0, the fixed pixel std of the gaussian
      likelihood.
    seed: int, seeds the reparameterised samples (stateless, per step).
    image_shape: (height, width, channels) of the images.
    **kwargs: forwarded to keras.Model (name, dtype, ...).
  """

  # Names of the trackers a subclass's regularized_loss reports (nats unless
  # the name says otherwise); each becomes a keras.metrics.Mean.
  METHOD_TRACKERS = ()

  def __init__(self, encoder, decoder, latent_dim, likelihood="bernoulli",
               objective="H", beta=4.0, gamma=1000.0, capacity_max=25.0,
               capacity_steps=100000, gaussian_stddev=1.0, seed=0,
               image_shape=(64, 64, 1), beta_hold_steps=0,
               beta_warmup_steps=0, **kwargs):
    super().__init__(**kwargs)
    if objective not in OBJECTIVES:
      raise ValueError(f"unknown objective {objective!r}; choose H or B")
    for name, value in (("beta", beta), ("gamma", gamma),
                        ("capacity_max", capacity_max)):
      if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    if int(capacity_steps) <= 0:
      raise ValueError(f"capacity_steps must be > 0, got {capacity_steps}")
    for name, value in (("beta_hold_steps", beta_hold_steps),
                        ("beta_warmup_steps", beta_warmup_steps)):
      if int(value) < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    self.encoder = encoder
    self.decoder = decoder
    self.latent_dim = int(latent_dim)
    self.likelihood_name = likelihood
    self.gaussian_stddev = float(gaussian_stddev)
    likelihood_kwargs = ({"stddev": self.gaussian_stddev}
                         if likelihood == "gaussian" else {})
    self.likelihood = likelihoods_lib.get(likelihood, **likelihood_kwargs)
    self.objective = objective
    self.beta = float(beta)
    self.gamma = float(gamma)
    self.capacity_max = float(capacity_max)
    self.capacity_steps = int(capacity_steps)
    self.beta_hold_steps = int(beta_hold_steps)
    self.beta_warmup_steps = int(beta_warmup_steps)
    # Only objective H of the β-VAE itself weights the KL term by β; the
    # methods that subclass it weight other terms.
    if self.has_beta_warmup and (self.objective != "H" or
                                 type(self) is not BetaVAE):
      raise ValueError(
          f"a β warm-up (beta_hold_steps, beta_warmup_steps) ramps the KL "
          f"weight of the β-VAE's objective H; {type(self).__name__} with "
          f"objective {self.objective} has no such weight (use 0)")
    self.seed = int(seed)
    self.image_shape = tuple(int(d) for d in image_shape)
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
    self.kl_tracker = keras.metrics.Mean(name="kl")
    self.kl_per_latent_tracker = VectorMean(self.latent_dim, "kl_latent")
    self.capacity_tracker = keras.metrics.Mean(name="capacity")
    self.kl_weight_tracker = keras.metrics.Mean(name="kl_weight")
    self.method_trackers = [keras.metrics.Mean(name=name)
                            for name in self.METHOD_TRACKERS]

  @property
  def method(self):
    """The method's name (tf_betavae.models.methods)."""
    return "annealed_vae" if self.objective == "B" else "beta_vae"

  @property
  def vae_variables(self):
    """The encoder's and decoder's trainable variables (what the model's
    optimizer trains)."""
    return (self.encoder.trainable_variables +
            self.decoder.trainable_variables)

  @property
  def checkpointed_optimizers(self):
    """{name: optimizer} of every optimizer whose state a checkpoint
    keeps; "optimizer" (the model's own, whose step counter is the run's
    step) is always one."""
    return {"optimizer": self.optimizer}

  def build_optimizers(self):
    """Creates the optimizers' variables, so that a checkpoint can be
    restored into them before the first step."""
    self.optimizer.build(self.vae_variables)

  # -- distributions -------------------------------------------------------

  def posterior(self, images, training=False):
    """q(z|x) as a float32 MultivariateNormalDiag with batch shape [batch]."""
    mean, log_variance = self.encoder(images, training=training)
    mean = tf.cast(mean, tf.float32)
    log_variance = tf.cast(log_variance, tf.float32)
    return tfd.MultivariateNormalDiag(
        loc=mean, scale_diag=tf.exp(0.5 * log_variance))

  def prior(self):
    """p(z): a standard normal over latent_dim dimensions."""
    return tfd.MultivariateNormalDiag(
        loc=tf.zeros([self.latent_dim]), scale_diag=tf.ones([self.latent_dim]))

  def capacity(self, step):
    """Capacity C of objective B at optimizer step ``step``, nats (float32)."""
    return self.capacity_max * _ramp_fraction(step, 0, self.capacity_steps)

  @property
  def has_beta_warmup(self):
    """Whether the KL weight of objective H follows a warm-up."""
    return bool(self.beta_hold_steps or self.beta_warmup_steps)

  def kl_weight(self, step):
    """The KL weight of objective H at optimizer step ``step`` (float32).

    β without a warm-up; with one, s = min(1, β) until beta_hold_steps,
    then s + (β − s) · (step − hold) / beta_warmup_steps up to β.
    """
    if not self.has_beta_warmup:
      return tf.constant(self.beta, tf.float32)
    start = min(1.0, self.beta)
    fraction = _ramp_fraction(step, self.beta_hold_steps,
                              self.beta_warmup_steps)
    return start + (self.beta - start) * fraction

  # -- forward passes -------------------------------------------------------

  def encode(self, images):
    """images [batch, H, W, C] -> (mean, log_variance) float32 [batch, D]."""
    posterior = self.posterior(images)
    return posterior.mean(), 2.0 * tf.math.log(posterior.stddev())

  def decode(self, latents):
    """latents [batch, D] -> the likelihood's mean image float32 in [0, 1]."""
    params = tf.cast(self.decoder(latents), tf.float32)
    return self.likelihood.mean(params)

  def call(self, images, training=False):
    """images [batch, H, W, C] -> the likelihood's mean image float32
    [batch, H, W, C] in [0, 1], decoded from the posterior mean."""
    mean, _ = self.encoder(images, training=training)
    return self.decode(mean)

  def compute_terms(self, images, seed, training=False):
    """The per-example terms of the objective.

    Args:
      images: float32 [batch, H, W, C] in [0, 1].
      seed: int32 tensor [2], stateless seed of the latent sample.
      training: bool.

    Returns:
      dict of float32 tensors: reconstruction [batch] (nats), kl [batch]
      (nats), kl_per_latent [batch, latent_dim] (nats), and the posterior's
      mean and log_variance and the latent sample z, [batch, latent_dim]
      each.
    """
    posterior = self.posterior(images, training=training)
    latents = self._reparameterised_sample(posterior, seed)
    params = tf.cast(self.decoder(latents, training=training), tf.float32)
    images = tf.cast(images, tf.float32)
    reconstruction = self.likelihood.negative_log_likelihood(images, params)
    kl = tfd.kl_divergence(posterior, self.prior())
    kl_per_latent = tfd.kl_divergence(
        tfd.Normal(posterior.mean(), posterior.stddev()),
        tfd.Normal(0.0, 1.0))
    return {"reconstruction": reconstruction, "kl": kl,
            "kl_per_latent": kl_per_latent, "mean": posterior.mean(),
            "log_variance": 2.0 * tf.math.log(posterior.stddev()),
            "latents": latents}

  def _reparameterised_sample(self, posterior, seed):
    """z = posterior.bijector(ε): the posterior's own (TFP) reparameterisation.

    ε ~ N(0, I) is drawn by the prior for the *global* batch of the step
    from a stateless seed, and each replica takes its contiguous slice, so
    the noise an example gets does not depend on how many replicas share
    the batch (a mirrored run follows the single-device run).

    Args:
      posterior: MultivariateNormalDiag with batch shape [local_batch].
      seed: int32 [2] stateless seed, the same on every replica.

    Returns:
      float32 [local_batch, latent_dim], differentiable w.r.t. the
      posterior's parameters.
    """
    local_batch = tf.shape(posterior.loc)[0]
    noise = self.prior().sample(local_batch * replicas.num_replicas(),
                                seed=seed)
    return posterior.bijector.forward(
        replicas.local_slice(noise, local_batch))

  def objective_loss(self, reconstruction, kl, step):
    """Batch-mean objective from per-example terms (float32 scalar)."""
    reconstruction = tf.reduce_mean(reconstruction)
    kl = tf.reduce_mean(kl)
    if self.objective == "H":
      return reconstruction + self.kl_weight(step) * kl
    return reconstruction + self.gamma * tf.abs(kl - self.capacity(step))

  def regularized_loss(self, terms, step):
    """The method's batch-mean loss from compute_terms' output.

    Subclasses add their regulariser here.  Under a tf.distribute strategy
    the per-example terms are means over this replica's examples, while a
    batch statistic (a regulariser) is computed on the gathered global
    batch (tf_betavae.models.replicas): with the loss divided by the
    number of replicas the summed gradient is the single-device one.

    Args:
      terms: dict of compute_terms.
      step: the optimizer's step counter.

    Returns:
      (loss, tracked): float32 scalar loss; dict {METHOD_TRACKERS name:
      float32 scalar} of the regulariser's terms ({} here).
    """
    return self.objective_loss(terms["reconstruction"], terms["kl"],
                               step), {}

  def _step_seed(self, offset):
    """Stateless seed, distinct per step and per purpose (not per replica:
    replicas slice one global draw, see _reparameterised_sample)."""
    step = tf.cast(self.optimizer.iterations, tf.int32)
    return tf.stack([tf.constant(self.seed, tf.int32) + offset, step])

  def _update_trackers(self, loss, terms, step, tracked=None):
    self.loss_tracker.update_state(loss)
    for tracker in self.method_trackers:
      tracker.update_state(tracked[tracker.name])
    self.reconstruction_tracker.update_state(terms["reconstruction"])
    self.kl_tracker.update_state(terms["kl"])
    self.kl_per_latent_tracker.update_state(terms["kl_per_latent"])
    self.capacity_tracker.update_state(self.capacity(step))
    self.kl_weight_tracker.update_state(self.kl_weight(step))

  def step_terms(self, data, seed_offset, training):
    """The terms, loss and tracked regulariser terms of one batch.

    train_step and test_step share it; a model trained on another kind of
    batch (pairs, tf_betavae.models.weak_vae) overrides it alone.

    Args:
      data: images float32 [batch, H, W, C] in [0, 1], or a tuple whose
        first element they are (labels are ignored).
      seed_offset: int, see ``_step_seed`` (0 for training, 1 for tests).
      training: bool.

    Returns:
      (terms dict of compute_terms, float32 scalar loss, dict of the
      METHOD_TRACKERS' values).
    """
    images = data[0] if isinstance(data, (tuple, list)) else data
    terms = self.compute_terms(images, self._step_seed(seed_offset),
                               training=training)
    loss, tracked = self.regularized_loss(terms, self.optimizer.iterations)
    return terms, loss, tracked

  def train_step(self, data):
    """One optimizer step on a batch (see ``step_terms`` for ``data``).

    Returns:
      dict of the running metrics: loss, reconstruction and kl (nats per
      example), kl_latent_<i> (nats), and capacity (nats) for objective B.
    """
    step = self.optimizer.iterations
    with tf.GradientTape() as tape:
      terms, loss, tracked = self.step_terms(data, 0, training=True)
      # Each replica sees global_batch / replicas examples and the optimizer
      # sums replica gradients: dividing makes the sum the mean gradient.
      scaled_loss = self.optimizer.scale_loss(loss / replicas.num_replicas())
    # Before apply_gradients: the capacity logged is that of this step, not
    # of the incremented counter.
    self._update_trackers(loss, terms, step, tracked)
    variables = self.vae_variables
    gradients = tape.gradient(scaled_loss, variables)
    self.optimizer.apply_gradients(zip(gradients, variables))
    return self.get_metrics_result()

  def test_step(self, data):
    """The metrics of train_step on a batch, without an update."""
    terms, loss, tracked = self.step_terms(data, 1, training=False)
    self._update_trackers(loss, terms, self.optimizer.iterations, tracked)
    return self.get_metrics_result()

  @property
  def metrics(self):
    trackers = [self.loss_tracker, self.reconstruction_tracker,
                self.kl_tracker, self.kl_per_latent_tracker]
    if self.objective == "B":
      trackers.append(self.capacity_tracker)
    if self.has_beta_warmup:
      trackers.append(self.kl_weight_tracker)
    return trackers + self.method_trackers

  def get_config(self):
    """Settings and the serialized encoder and decoder (no weights)."""
    config = super().get_config()
    config.update(
        encoder=keras.saving.serialize_keras_object(self.encoder),
        decoder=keras.saving.serialize_keras_object(self.decoder),
        latent_dim=self.latent_dim, likelihood=self.likelihood_name,
        objective=self.objective, beta=self.beta, gamma=self.gamma,
        capacity_max=self.capacity_max, capacity_steps=self.capacity_steps,
        gaussian_stddev=self.gaussian_stddev, seed=self.seed,
        image_shape=list(self.image_shape),
        beta_hold_steps=self.beta_hold_steps,
        beta_warmup_steps=self.beta_warmup_steps)
    return config

  @classmethod
  def from_config(cls, config):
    """An unbuilt BetaVAE with fresh encoder and decoder layers."""
    config = dict(config)
    config["encoder"] = keras.saving.deserialize_keras_object(
        config["encoder"])
    config["decoder"] = keras.saving.deserialize_keras_object(
        config["decoder"])
    return cls(**config)
