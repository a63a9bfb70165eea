"""color_dsprites: dSprites sprites in a random colour, on black.

As disentanglement_lib's ``ColorDSprites``: the simulator's binary sprite
(tf_betavae.data.dsprites_simulator) is multiplied by a colour drawn per
image, each RGB channel uniform in [0.5, 1]; the background stays black.
Images are 64x64x3 in [0, 1].  The ground truth has dSprites's five
factors; the colour is a nuisance, not a factor (see
tf_betavae.data.dsprites_variants).
"""

import tensorflow as tf

from tf_betavae.data import dsprites_variants

NAME = "color_dsprites"
# Each channel of the sprite colour is uniform in [MIN, MAX].
COLOUR_MIN = 0.5
COLOUR_MAX = 1.0


def colorize(sprites, seed):
  """Multiplies each sprite by a random colour.

  Args:
    sprites: float32 tensor [B, 64, 64, 1] in {0, 1}.
    seed: int tensor [2], a stateless random seed.

  Returns:
    float32 tensor [B, 64, 64, 3]: the colour (each channel in [0.5, 1])
    on the sprite, 0 elsewhere.
  """
  colour = tf.random.stateless_uniform(
      [tf.shape(sprites)[0], 1, 1, 3], seed, minval=COLOUR_MIN,
      maxval=COLOUR_MAX)
  return sprites * colour


def ground_truth():
  """The color_dsprites ground truth (dSprites factors, random colour)."""
  return dsprites_variants.DSpritesVariant(NAME, colorize)


def training_dataset(batch_size, seed, start_batch=0, worker_index=0):
  """Endless seeded stream, float32 [batch_size, 64, 64, 3] in [0, 1].

  Args: see tf_betavae.data.dsprites_simulator.training_dataset.
  """
  return dsprites_variants.training_dataset(
      colorize, batch_size, seed, start_batch, worker_index)
