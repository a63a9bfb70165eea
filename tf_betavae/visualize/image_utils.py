"""Small helpers: float images -> uint8 RGB, grids, labels, PNG/GIF files."""

import os

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

BACKGROUND = 255  # white around and between tiles
GAP = 2  # pixels between tiles


def to_rgb_uint8(images):
  """Float images in [0, 1] -> uint8 RGB.

  Args:
    images: float [..., H, W, C] with C in {1, 3} (values clipped to [0, 1]).

  Returns:
    uint8 np.ndarray [..., H, W, 3].
  """
  images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
  if images.shape[-1] == 1:
    images = np.repeat(images, 3, axis=-1)
  elif images.shape[-1] != 3:
    raise ValueError(f"images need 1 or 3 channels, got shape {images.shape}")
  return np.round(images * 255.0).astype(np.uint8)


def tile(images, gap=GAP, background=BACKGROUND):
  """Lays out a grid of equally sized images.

  Args:
    images: uint8 [rows, cols, h, w, 3].
    gap: pixels between tiles (and around the grid).
    background: uint8 value of the gaps.

  Returns:
    uint8 [rows*h + (rows+1)*gap, cols*w + (cols+1)*gap, 3].
  """
  images = np.asarray(images, np.uint8)
  rows, cols, h, w, c = images.shape
  out = np.full((rows * h + (rows + 1) * gap, cols * w + (cols + 1) * gap, c),
                background, np.uint8)
  for r in range(rows):
    for col in range(cols):
      y = gap + r * (h + gap)
      x = gap + col * (w + gap)
      out[y:y + h, x:x + w] = images[r, col]
  return out


def font():
  """Pillow's default font (a bitmap font; no files needed)."""
  return ImageFont.load_default()


def text_size(text, the_font=None):
  """(width, height) in pixels of ``text`` in pillow's default font."""
  the_font = the_font or font()
  left, top, right, bottom = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox(
      (0, 0), text, font=the_font)
  return right - left, bottom - top


def label_column(labels, row_height, gap=GAP, width=None, top=0):
  """A white column with one text block per row, vertically centred.

  Args:
    labels: list of str (may hold newlines), one per row.
    row_height: int, tile height in pixels.
    gap: pixels between rows (as in ``tile``).
    width: int or None; default fits the widest label.
    top: extra pixels above the first row (e.g. a header band).

  Returns:
    uint8 [top + rows*row_height + (rows+1)*gap, width, 3].
  """
  the_font = font()
  sizes = [text_size(l, the_font) for l in labels]
  width = width or (max((s[0] for s in sizes), default=0) + 8)
  height = top + len(labels) * row_height + (len(labels) + 1) * gap
  image = Image.new("RGB", (width, height), (255, 255, 255))
  draw = ImageDraw.Draw(image)
  for i, (label, (_, h)) in enumerate(zip(labels, sizes)):
    y = top + gap + i * (row_height + gap) + max((row_height - h) // 2, 0)
    draw.multiline_text((4, y), label, fill=(0, 0, 0), font=the_font)
  return np.asarray(image, np.uint8)


def header_band(labels, tile_width, height, gap=GAP, offset=0, width=None):
  """A white band with one centred label above each column of tiles.

  Returns:
    uint8 [height, width or offset + cols*tile_width + (cols+1)*gap, 3].
  """
  the_font = font()
  cols = len(labels)
  width = width or offset + cols * tile_width + (cols + 1) * gap
  image = Image.new("RGB", (width, height), (255, 255, 255))
  draw = ImageDraw.Draw(image)
  for i, label in enumerate(labels):
    w, h = text_size(label, the_font)
    x = offset + gap + i * (tile_width + gap) + (tile_width - w) // 2
    draw.text((x, max((height - h) // 2, 0)), label, fill=(0, 0, 0),
              font=the_font)
  return np.asarray(image, np.uint8)


def write_png(image, path):
  """Writes uint8 [H, W, 3] as a PNG; creates the directory; returns path."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  Image.fromarray(np.asarray(image, np.uint8)).save(path, format="PNG")
  return path


def write_gif(frames, path, frame_ms=100):
  """Writes an endlessly looping animated GIF.

  Args:
    frames: uint8 [T, H, W, 3] (or a list of [H, W, 3]).
    path: str.
    frame_ms: int, milliseconds per frame.

  Returns:
    path.
  """
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  images = [Image.fromarray(np.asarray(f, np.uint8)) for f in frames]
  images[0].save(path, format="GIF", save_all=True,
                 append_images=images[1:], duration=int(frame_ms), loop=0,
                 optimize=False, disposal=1)
  return path


def figure_to_array(figure):
  """Renders a matplotlib Figure (Agg canvas) to uint8 RGB [H, W, 3]."""
  from matplotlib.backends import backend_agg  # pylint: disable=g-import-not-at-top
  canvas = backend_agg.FigureCanvasAgg(figure)
  canvas.draw()
  rgba = np.asarray(canvas.buffer_rgba(), np.uint8)
  return rgba[..., :3].copy()
