"""noisy_dsprites: white dSprites sprites on uniform noise.

As disentanglement_lib's ``NoisyDSprites``: every background pixel and
channel is uniform in [0, 1], drawn per image; the sprite's pixels are white
(exactly 1).  Images are 64x64x3 in [0, 1].  The ground truth has
dSprites's five factors; the noise is a nuisance, not a factor (see
tf_betavae.data.dsprites_variants).
"""

import tensorflow as tf

from tf_betavae.data import dsprites_variants

NAME = "noisy_dsprites"


def add_noise(sprites, seed):
  """Puts each sprite, white, on a background of uniform noise.

  Args:
    sprites: float32 tensor [B, 64, 64, 1] in {0, 1}.
    seed: int tensor [2], a stateless random seed.

  Returns:
    float32 tensor [B, 64, 64, 3]: 1 on the sprite, uniform [0, 1) noise
    (per pixel and channel) elsewhere.
  """
  shape = tf.concat([tf.shape(sprites)[:3], [3]], axis=0)
  noise = tf.random.stateless_uniform(shape, seed)
  return tf.where(dsprites_variants.sprite_mask(sprites), 1.0, noise)


def ground_truth():
  """The noisy_dsprites ground truth (dSprites factors, random noise)."""
  return dsprites_variants.DSpritesVariant(NAME, add_noise)


def training_dataset(batch_size, seed, start_batch=0, worker_index=0):
  """Endless seeded stream, float32 [batch_size, 64, 64, 3] in [0, 1].

  Args: see tf_betavae.data.dsprites_simulator.training_dataset.
  """
  return dsprites_variants.training_dataset(
      add_noise, batch_size, seed, start_batch, worker_index)
