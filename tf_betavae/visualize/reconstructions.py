"""Reconstruction grid: inputs above their reconstructions."""

import numpy as np

from tf_betavae.visualize import image_utils


def reconstruct(encode_fn, decode_fn, images):
  """Decodes the posterior means of ``images``.

  Args:
    encode_fn: images float32 [N, H, W, C] -> (mean, log_variance) [N, D].
    decode_fn: latents float32 [N, D] -> images float32 [N, H, W, C].
    images: float32 [N, H, W, C] in [0, 1].

  Returns:
    float32 np.ndarray [N, H, W, C] in [0, 1] (the likelihood's mean).
  """
  mean, _ = encode_fn(np.asarray(images, np.float32))
  return np.asarray(decode_fn(mean), np.float32)


def reconstruction_grid(encode_fn, decode_fn, images, max_images=16,
                        columns=8):
  """Inputs above their reconstructions, as an RGB picture.

  Args:
    encode_fn, decode_fn: see ``reconstruct``.
    images: float32 [N, H, W, C] in [0, 1]; the first ``max_images`` are
      shown.
    max_images: int, most images shown.
    columns: int, images per row pair; more images wrap into further pairs
      of rows (input row, reconstruction row), separated by a thin grey line.

  Returns:
    uint8 np.ndarray [height, width, 3]; with n = min(N, max_images) images
    of size h x w, width = c*w + (c+1)*2 for c = min(n, columns).
  """
  images = np.asarray(images, np.float32)[:max_images]
  if len(images) == 0:
    raise ValueError("reconstruction_grid needs at least one image")
  recon = reconstruct(encode_fn, decode_fn, images)
  columns = min(columns, len(images))
  pairs = []
  for start in range(0, len(images), columns):
    block = np.stack([images[start:start + columns],
                      recon[start:start + columns]])
    block = image_utils.to_rgb_uint8(block)
    if block.shape[1] < columns:  # pad the last pair of rows with white
      pad = np.full((2, columns - block.shape[1]) + block.shape[2:],
                    image_utils.BACKGROUND, np.uint8)
      block = np.concatenate([block, pad], axis=1)
    pairs.append(image_utils.tile(block))
  separator = np.full((2, pairs[0].shape[1], 3), 160, np.uint8)
  parts = []
  for i, pair in enumerate(pairs):
    if i:
      parts.append(separator)
    parts.append(pair)
  return np.concatenate(parts, axis=0)
