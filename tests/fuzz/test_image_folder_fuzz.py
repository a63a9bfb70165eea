"""folder:PATH datasets made of hostile files, mixed by hypothesis.

Kinds: RGB JPEGs, CMYK JPEGs, truncated JPEGs, 0-byte files, palette PNGs,
16-bit PNGs, grey-with-alpha PNGs, RGBA PNGs, a 10,000 x 10 px PNG, text
files with and without an image extension, and a directory symlink to its
parent (a loop).  Every file must be decoded correctly (RGB, 64 x 64, close
to what Pillow makes of it) or skipped with a warning that names it; a
folder with no decodable image is a DatasetUnavailableError naming the
folder.  Nothing may hang, list a file twice or raise anything else.
"""

import io
import logging
import os

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from tf_betavae import data
from tf_betavae.data import image_folder

# Mean absolute difference on [0, 1] allowed between the decoded image and
# Pillow's reference (JPEG and resampling differences).
_TOLERANCE = 0.06

DECODABLE = ("rgb_jpeg", "cmyk_jpeg", "palette_png", "png16", "gray_alpha_png",
             "rgba_png", "wide_png")
BROKEN = ("empty_png", "truncated_jpeg", "text_jpg", "notes_txt")
KINDS = DECODABLE + BROKEN


def _smooth(height, width, seed):
  """A smooth RGB uint8 [height, width, 3] (JPEG keeps it nearly exact)."""
  rng = np.random.RandomState(seed)
  y = np.linspace(0, 1, height)[:, None, None]
  x = np.linspace(0, 1, width)[None, :, None]
  a, b, c = rng.uniform(0.1, 0.9, (3, 1, 1, 3))
  return np.clip(255 * (a * y + b * x * (1 - y) + c * 0.3), 0, 255).astype(
      np.uint8)


def _jpeg(image, mode="RGB"):
  buffer = io.BytesIO()
  Image.fromarray(image).convert(mode).save(buffer, "JPEG", quality=95)
  return buffer.getvalue()


def _make(kind, index, directory):
  """Writes one file of ``kind``; returns (path, RGB uint8 reference or
  None when it must be skipped)."""
  seed = index + 1
  image = _smooth(40 + 7 * index, 52, seed)
  if kind == "wide_png":
    image = _smooth(10, 10000, seed)
  suffix = ".jpg" if "jpeg" in kind or kind == "text_jpg" else ".png"
  if kind == "notes_txt":
    suffix = ".txt"
  path = os.path.join(directory, f"f{index:02d}_{kind}{suffix}")
  reference = image
  if kind == "rgb_jpeg":
    payload = _jpeg(image)
  elif kind == "cmyk_jpeg":
    payload = _jpeg(image, "CMYK")
    reference = np.asarray(Image.open(io.BytesIO(payload)).convert("RGB"))
  elif kind == "truncated_jpeg":
    payload, reference = _jpeg(image)[:300], None
  elif kind in ("empty_png", "text_jpg", "notes_txt"):
    payload, reference = (b"" if kind == "empty_png" else b"not a picture\n",
                          None)
  else:
    buffer = io.BytesIO()
    if kind == "palette_png":
      picture = Image.fromarray(image).quantize(16)
      reference = np.asarray(picture.convert("RGB"))
    elif kind == "png16":
      grey16 = (image[..., 0].astype(np.uint16) * 257)
      picture = Image.fromarray(grey16)
      reference = np.repeat(image[..., :1], 3, axis=-1)
    elif kind == "gray_alpha_png":
      picture = Image.fromarray(image[..., 0]).convert("LA")
      reference = np.repeat(image[..., :1], 3, axis=-1)
    elif kind == "rgba_png":
      picture = Image.fromarray(
          np.concatenate([image, image[..., :1]], axis=-1), "RGBA")
    else:
      picture = Image.fromarray(image)
    picture.save(buffer, "PNG")
    payload = buffer.getvalue()
  with open(path, "wb") as f:
    f.write(payload)
  return path, reference


def _expected(reference):
  """Pillow's central square, resized to 64 x 64, in [0, 1]."""
  h, w = reference.shape[:2]
  side = min(h, w)
  top, left = (h - side) // 2, (w - side) // 2
  square = Image.fromarray(reference[top:top + side, left:left + side])
  return np.asarray(square.resize((64, 64), Image.BILINEAR),
                    np.float32) / 255.0


def _warnings(caplog):
  return " | ".join(r.getMessage() for r in caplog.records
                    if r.levelno >= logging.WARNING)


def _check_folder(root, kinds, with_loop, caplog):
  files = {}
  for index, kind in enumerate(kinds):
    sub = os.path.join(root, "sub") if index % 2 else root
    os.makedirs(sub, exist_ok=True)
    path, reference = _make(kind, index, sub)
    files[path] = reference
  if with_loop:
    os.symlink("..", os.path.join(root, "sub" if len(kinds) > 1 else "",
                                  "loop"))
  decodable = [p for p, r in files.items() if r is not None]

  caplog.clear()
  with caplog.at_level(logging.WARNING):
    try:
      paths, counts = image_folder.list_images(root)
    except data.DatasetUnavailableError as e:
      assert not decodable, f"{e} although {decodable} are images"
      assert root in str(e)
      return
  warned = _warnings(caplog)
  real = sorted(map(os.path.realpath, paths))
  assert len(real) == len(set(real)), (
      f"{len(real) - len(set(real))} files listed more than once")
  for path, reference in files.items():
    if path not in paths:
      assert reference is None, f"{path} was skipped: {warned}"
      assert os.path.relpath(path, root) in warned, (path, warned)
  assert counts["images"] == len(paths)

  # Each listed file decodes to its reference, or fails (and is dropped,
  # with a warning, by the training stream below).
  failed = []
  for path in paths:
    try:
      decoded = image_folder.preprocess(path).numpy()
    except tf.errors.InvalidArgumentError:
      failed.append(path)
      continue
    assert decoded.shape == (64, 64, 3) and decoded.dtype == np.uint8
    reference = files[path]
    assert reference is not None, f"{path} is broken but decoded"
    difference = np.abs(decoded / 255.0 - _expected(reference)).mean()
    assert difference < _TOLERANCE, (path, difference)
  assert not [p for p in failed if files[p] is not None], failed

  caplog.clear()
  with caplog.at_level(logging.WARNING):
    try:
      dataset, shape = data.training_dataset(f"folder:{root}", 2, 0)
    except data.DatasetUnavailableError as e:
      assert len(failed) == len(paths), e
      assert root in str(e)
      return
    batch = next(iter(dataset)).numpy()
  assert shape == (64, 64, 3) and batch.shape == (2, 64, 64, 3)
  assert batch.dtype == np.float32 and 0 <= batch.min() <= batch.max() <= 1
  warned = _warnings(caplog)
  for path in failed:
    assert os.path.relpath(path, root) in warned, (path, warned)


@st.composite
def _mixes(draw):
  kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
  return kinds, draw(st.booleans())


def _fuzz(tmp_path_factory, caplog, budget):

  @settings(max_examples=budget, deadline=None, derandomize=True,
            database=None, suppress_health_check=list(HealthCheck))
  @given(_mixes())
  def check(mix):
    kinds, with_loop = mix
    root = str(tmp_path_factory.mktemp("hostile"))
    _check_folder(root, kinds, with_loop, caplog)

  check()


def test_every_kind_once(tmp_path, caplog):
  """All kinds in one folder with a loop: the fixed case of the default run."""
  _check_folder(str(tmp_path), list(KINDS), True, caplog)


@pytest.mark.parametrize("budget", [
    pytest.param(6, id="default"),
    pytest.param(150, id="long", marks=pytest.mark.slow)])
def test_hostile_folders(tmp_path_factory, caplog, budget):
  _fuzz(tmp_path_factory, caplog, budget)
