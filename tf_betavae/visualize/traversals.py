"""Latent traversals: a PNG grid (one row per latent) and an animated GIF.

A traversal fixes the posterior mean μ of one chosen input, then sweeps a
single latent d over ``values`` while the others keep their μ, and decodes
each code.  By default the sweep is around the input's mean,
z_d = μ_d + v for v in linspace(−limit, +limit, num_steps) (``absolute=False``);
``absolute=True`` sets z_d = v instead, the form of the PyTorch β-VAE
repositories.  Rows are ordered by the latent's KL to the prior over a batch
of images (most informative first) and carry that KL in nats.
"""

import numpy as np

from tf_betavae.models import latent_stats
from tf_betavae.visualize import image_utils
from tf_betavae.visualize import sources

DEFAULT_LIMIT = 3.0
DEFAULT_NUM_STEPS = 10
HEADER_HEIGHT = 14


def traversal_values(num_steps=DEFAULT_NUM_STEPS, limit=DEFAULT_LIMIT):
  """float32 [num_steps]: linspace(−limit, +limit, num_steps)."""
  if num_steps < 2:
    raise ValueError(f"num_steps must be >= 2, got {num_steps}")
  if not limit > 0:
    raise ValueError(f"limit must be > 0, got {limit}")
  return np.linspace(-limit, limit, int(num_steps)).astype(np.float32)


def traverse(decode_fn, code, latents, values, absolute=False):
  """Decodes a code with one latent at a time swept over ``values``.

  Args:
    decode_fn: latents float32 [N, D] -> images float32 [N, H, W, C].
    code: float [D], the fixed code (usually a posterior mean).
    latents: int sequence [L], the latents to sweep (rows).
    values: float [S], the sweep (columns).
    absolute: False: z_d = code_d + v; True: z_d = v.

  Returns:
    float32 np.ndarray [L, S, H, W, C] in [0, 1].
  """
  code = np.asarray(code, np.float32)
  values = np.asarray(values, np.float32)
  latents = [int(d) for d in latents]
  codes = np.repeat(code[None, None, :], len(latents) * len(values),
                    axis=0).reshape(len(latents), len(values), -1)
  for row, d in enumerate(latents):
    codes[row, :, d] = values if absolute else code[d] + values
  images = decode_fn(codes.reshape(-1, code.shape[0]))
  return np.asarray(images, np.float32).reshape(
      (len(latents), len(values)) + images.shape[1:])


def _rows(encode_fn, images, kl, max_latents):
  """(posterior means [N, D], KL [D] nats, latent order [L])."""
  mean, log_variance = encode_fn(np.asarray(images, np.float32))
  if kl is None:
    kl = latent_stats.kl_per_latent(mean, log_variance)
  kl = np.asarray(kl, np.float64)
  order = sources.kl_order(kl)
  if max_latents is not None:
    order = order[:int(max_latents)]
  return mean, kl, order


def traversal_grid(encode_fn, decode_fn, images, index=0,
                   num_steps=DEFAULT_NUM_STEPS, limit=DEFAULT_LIMIT,
                   absolute=False, kl=None, max_latents=None,
                   return_details=False):
  """The traversal grid of one input as an RGB picture.

  Args:
    encode_fn: images float32 [N, H, W, C] -> (mean, log_variance) [N, D].
    decode_fn: latents float32 [N, D] -> images float32 [N, H, W, C].
    images: float32 [N, H, W, C] in [0, 1]; their KL per latent orders the
      rows (pass ``kl`` to order by something else).
    index: which of ``images`` is traversed.
    num_steps: columns, S >= 2.
    limit: the sweep spans −limit..+limit (prior standard deviations).
    absolute: see the module docstring.
    kl: optional float [D] nats, KL per latent to print and sort by.
    max_latents: optional int, keep only the first rows after sorting.

  Returns:
    uint8 np.ndarray [height, width, 3]: a header of sweep values, then one
    row per latent (label 'z<d>' and its KL in nats on the left, S tiles).
    With return_details=True: (picture, dict(order [L], kl [D] nats,
    values [S], tiles float32 [L, S, H, W, C])).
  """
  images = np.asarray(images, np.float32)
  if not 0 <= index < len(images):
    raise ValueError(f"index {index} is outside the {len(images)} images")
  mean, kl, order = _rows(encode_fn, images, kl, max_latents)
  values = traversal_values(num_steps, limit)
  tiles = traverse(decode_fn, mean[index], order, values, absolute)
  height, width = tiles.shape[2:4]
  body = image_utils.tile(image_utils.to_rgb_uint8(tiles))
  labels = [f"z{d}\n{kl[d]:.2f} nats" for d in order]
  left = image_utils.label_column(labels, height, top=HEADER_HEIGHT)
  prefix = "" if absolute else "+"
  header = image_utils.header_band(
      [f"{prefix}{v:g}" if v > 0 else f"{v:g}" for v in np.round(values, 1)],
      width, HEADER_HEIGHT, width=body.shape[1])
  picture = np.concatenate(
      [left, np.concatenate([header, body], axis=0)], axis=1)
  if return_details:
    return picture, {"order": order, "kl": kl, "values": values,
                     "tiles": tiles}
  return picture


def ping_pong(values):
  """values [S] -> [2S − 2]: forward then back without repeating the ends."""
  values = np.asarray(values)
  return np.concatenate([values, values[-2:0:-1]])


def traversal_animation(encode_fn, decode_fn, images, indices=(0, 1, 2),
                        num_frames=DEFAULT_NUM_STEPS * 2,
                        limit=DEFAULT_LIMIT, absolute=False, kl=None,
                        max_latents=None):
  """Frames of an animated traversal of several inputs at once.

  Each frame is a grid: one row per input (its original image first), one
  column per latent (most informative first, labelled 'z<d> (KL nats)'), every
  tile decoded with that column's latent set to the frame's value.  The
  frames sweep −limit → +limit → −limit (ping-pong), so the GIF loops
  smoothly.

  Args:
    encode_fn, decode_fn: see ``traversal_grid``.
    images: float32 [N, H, W, C] in [0, 1]; they order the latents by KL.
    indices: which of ``images`` are animated (rows).
    num_frames: frames of the forward half-sweep (>= 2).
    limit, absolute, kl, max_latents: see ``traversal_grid``.

  Returns:
    uint8 np.ndarray [T, height, width, 3], T = 2 * num_frames − 2.
  """
  images = np.asarray(images, np.float32)
  indices = [int(i) for i in indices if 0 <= int(i) < len(images)]
  if not indices:
    raise ValueError(f"no valid input index among the {len(images)} images")
  mean, kl, order = _rows(encode_fn, images, kl, max_latents)
  values = traversal_values(num_frames, limit)
  # [inputs, L, S, H, W, C]
  per_input = np.stack([
      traverse(decode_fn, mean[i], order, values, absolute) for i in indices])
  height, width = per_input.shape[3:5]
  originals = image_utils.to_rgb_uint8(images[indices])
  header_labels = ["input"] + [f"z{d} ({kl[d]:.1f})" for d in order]
  tile_width = max(width, max(image_utils.text_size(l)[0]
                              for l in header_labels) + 4)
  frames = []
  for step in ping_pong(np.arange(len(values))):
    tiles = np.concatenate(
        [originals[:, None], image_utils.to_rgb_uint8(per_input[:, :, step])],
        axis=1)
    if tile_width > width:
      pad = tile_width - width
      tiles = np.pad(tiles, ((0, 0), (0, 0), (0, 0),
                             (pad // 2, pad - pad // 2), (0, 0)),
                     constant_values=image_utils.BACKGROUND)
    body = image_utils.tile(tiles)
    header = image_utils.header_band(header_labels, tile_width, HEADER_HEIGHT,
                                     width=body.shape[1])
    value = values[step]
    caption = (f"z = {value:+.2f}" if absolute else
               f"z = mean {'+' if value >= 0 else '-'} {abs(value):.2f}")
    footer = image_utils.header_band([caption], body.shape[1] - 4,
                                     HEADER_HEIGHT, width=body.shape[1])
    frames.append(np.concatenate([header, body, footer], axis=0))
  return np.stack(frames)
