"""scream_dsprites: dSprites sprites cut out of a picture.

As disentanglement_lib's ``ScreamDSprites``, with a picture the user gives
(disentanglement_lib uses Munch's *The Scream*; it is not shipped here and
nothing is downloaded): per image,

* a random 64x64 patch of the picture is mixed with a random colour, each
  channel uniform in [0, 1]: ``background = (patch + colour) / 2``;
* the sprite's pixels are the inverse of that background,
  ``1 - background``; the other pixels are the background.

Images are 64x64x3 in [0, 1].  The ground truth has dSprites's five factors;
patch and colour are nuisances, not factors (see
tf_betavae.data.dsprites_variants).

The picture (``--scream_image=PATH``, any JPEG/PNG at least 64x64 pixels)
is first shrunk, keeping its aspect ratio, to fit 350 x 274 pixels (width x
height) as disentanglement_lib shrinks its painting, but never below 64
pixels on a side; a smaller picture is never enlarged.
"""

import os

import numpy as np
import tensorflow as tf

from tf_betavae.data import dsprites_variants
from tf_betavae.data.errors import DatasetUnavailableError

NAME = "scream_dsprites"
PATCH_SIZE = 64
# disentanglement_lib's thumbnail bound for The Scream, (width, height).
MAX_WIDTH, MAX_HEIGHT = 350, 274
HOW_TO_GIVE = "pass --scream_image=PATH (a JPEG/PNG at least 64x64)"


def _unavailable(what):
  return DatasetUnavailableError(f"dataset {NAME!r}: {what}; {HOW_TO_GIVE}")


def shrunk_size(height, width):
  """The size a picture is shrunk to before patches are cut from it.

  Args:
    height, width: int, the picture's size in pixels, both >= 64.

  Returns:
    (height, width) in pixels: the picture's aspect ratio, within 350 x 274
    (width x height) where that keeps both sides >= 64, never larger than
    the picture.
  """
  scale = min(1.0, MAX_WIDTH / width, MAX_HEIGHT / height)
  # A long thin picture would shrink below one patch; keep a patch's side.
  scale = max(scale, PATCH_SIZE / min(height, width))
  return (max(PATCH_SIZE, int(round(height * scale))),
          max(PATCH_SIZE, int(round(width * scale))))


def load_background(path):
  """Reads and shrinks the picture patches are cut from.

  Args:
    path: str, a JPEG or PNG (GIF and BMP work too); grey and alpha
      channels become RGB.

  Returns:
    float32 np.ndarray [H, W, 3] in [0, 1], H and W >= 64 (see
    ``shrunk_size``).

  Raises:
    DatasetUnavailableError: no path, an unreadable or undecodable file, or
      a picture smaller than 64x64; the one-line message says which.
  """
  if not path:
    raise _unavailable("no picture was given for its backgrounds")
  path = os.fspath(path)
  try:
    with open(path, "rb") as f:
      contents = f.read()
  except OSError as e:
    raise _unavailable(f"cannot read {path}: {e.strerror or e}") from None
  try:
    image = tf.io.decode_image(contents, channels=3, expand_animations=False)
  except (tf.errors.InvalidArgumentError, ValueError):
    raise _unavailable(f"{path} is not a readable JPEG/PNG image") from None
  height, width = int(image.shape[0]), int(image.shape[1])
  if height < PATCH_SIZE or width < PATCH_SIZE:
    raise _unavailable(f"{path} is {width}x{height} pixels (width x height), "
                       f"smaller than {PATCH_SIZE}x{PATCH_SIZE}")
  image = tf.cast(image, tf.float32)
  size = shrunk_size(height, width)
  if size != (height, width):
    image = tf.image.resize(image, size, method="bilinear", antialias=True)
  return np.clip(image.numpy() / 255.0, 0.0, 1.0).astype(np.float32)


def make_nuisance(background):
  """The scream nuisance over one picture.

  Args:
    background: float32 np.ndarray [H, W, 3] in [0, 1], H, W >= 64 (from
      ``load_background``).

  Returns:
    callable (sprites float32 [B, 64, 64, 1] in {0, 1}, seed int tensor [2])
    -> float32 [B, 64, 64, 3] in [0, 1]: per image a patch at a random
    offset (uniform over every offset where it fits) and a random colour
    (each channel uniform in [0, 1)), mixed and inverted on the sprite.
  """
  height, width = background.shape[:2]
  pixels = tf.constant(background.reshape(-1, 3), tf.float32)
  patch_range = tf.range(PATCH_SIZE)

  def nuisance(sprites, seed):
    batch = tf.shape(sprites)[0]
    top_seed, left_seed, colour_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 3))
    top = tf.random.stateless_uniform(
        [batch], top_seed, minval=0, maxval=height - PATCH_SIZE + 1,
        dtype=tf.int32)
    left = tf.random.stateless_uniform(
        [batch], left_seed, minval=0, maxval=width - PATCH_SIZE + 1,
        dtype=tf.int32)
    colour = tf.random.stateless_uniform([batch, 1, 1, 3], colour_seed)
    rows = top[:, None] + patch_range  # [B, 64]
    cols = left[:, None] + patch_range  # [B, 64]
    patch = tf.gather(pixels, rows[:, :, None] * width + cols[:, None, :])
    mixed = (patch + colour) / 2.0  # [B, 64, 64, 3]
    return tf.where(dsprites_variants.sprite_mask(sprites), 1.0 - mixed,
                    mixed)

  return nuisance


def check_available(scream_image):
  """Raises DatasetUnavailableError unless the picture is usable."""
  load_background(scream_image)


def ground_truth(scream_image):
  """The scream_dsprites ground truth (dSprites factors, random patch).

  Raises:
    DatasetUnavailableError: see ``load_background``.
  """
  return dsprites_variants.DSpritesVariant(
      NAME, make_nuisance(load_background(scream_image)))


def training_dataset(batch_size, seed, start_batch=0, worker_index=0,
                     scream_image=None):
  """Endless seeded stream, float32 [batch_size, 64, 64, 3] in [0, 1].

  Args:
    batch_size, seed, start_batch, worker_index: see
      tf_betavae.data.dsprites_simulator.training_dataset.
    scream_image: str, the picture (see ``load_background``).

  Raises:
    DatasetUnavailableError: see ``load_background``.
  """
  nuisance = make_nuisance(load_background(scream_image))
  return dsprites_variants.training_dataset(
      nuisance, batch_size, seed, start_batch, worker_index)
