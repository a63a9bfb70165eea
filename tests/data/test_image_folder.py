"""folder:PATH: JPEGs and PNGs of mixed sizes, corrupt and non-image files."""

import logging
import os

import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import data
from tf_betavae.data import image_folder
import data_test_utils as utils

_SIZES = [(218, 178), (100, 150), (64, 64), (300, 200), (48, 90), (120, 120)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
  """6 good images (3 JPEG, 3 PNG, some grey, in subfolders) + 3 bad files."""
  root = tmp_path_factory.mktemp("images")
  rng = np.random.RandomState(0)
  for i, (h, w) in enumerate(_SIZES):
    channels = 1 if i == 4 else 3
    image = rng.randint(0, 255, (h, w, channels)).astype(np.uint8)
    sub = root / "a" if i % 2 else root / "b" / "deep"
    sub.mkdir(parents=True, exist_ok=True)
    if i % 2 == 0:
      tf.io.write_file(str(sub / f"im{i}.JPG"), tf.io.encode_jpeg(image))
    else:
      tf.io.write_file(str(sub / f"im{i}.png"), tf.io.encode_png(image))
  (root / "readme.txt").write_text("not an image")
  (root / "a" / "broken.jpg").write_bytes(b"this is no jpeg")
  # Right signature, garbage body: fails only when decoded.
  (root / "a" / "truncated.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 40)
  return str(root)


def _warnings(caplog):
  return [r.getMessage() for r in caplog.records
          if r.levelno >= logging.WARNING]


def test_listing_skips_and_counts_bad_files(folder, caplog):
  with caplog.at_level(logging.WARNING):
    paths, counts = image_folder.list_images(folder)
  assert counts == {"images": 7, "not_images": 1, "bad_signature": 1}
  assert len(paths) == 7 and paths == sorted(paths, key=paths.index)
  messages = " | ".join(_warnings(caplog))
  assert "skipped 1 non-image file(s)" in messages and "readme.txt" in messages
  assert "skipped 1 corrupt image file(s)" in messages
  assert "broken.jpg" in messages


@pytest.mark.parametrize("cache_limit", [None, 0])  # in memory / streamed
def test_mixed_sizes_stream_and_resume(folder, cache_limit, caplog):
  def batches(start, count, seed=0):
    dataset, shape = data.training_dataset(
        f"folder:{folder}", 3, seed, start_batch=start,
        cache_limit_bytes=cache_limit)
    assert shape == (64, 64, 3)
    return [b.numpy() for b in dataset.take(count)]

  # A process-wide seed of 0 (what train() sets for --seed=0) must neither
  # break the streamed shuffle nor change its order.
  tf.random.set_seed(0)
  with caplog.at_level(logging.WARNING):
    run = batches(0, 4)
  tf.random.set_seed(1)
  np.testing.assert_array_equal(run[0], batches(0, 1)[0])
  assert run[0].shape == (3, 64, 64, 3) and run[0].dtype == np.float32
  assert 0.0 <= run[0].min() and run[0].max() <= 1.0
  # 6 decodable images = 2 batches per epoch, each image once per epoch.
  epoch = np.concatenate(run[:2]).reshape(6, -1)
  assert len(np.unique(epoch, axis=0)) == 6
  if cache_limit is None:  # decode failures are counted in one warning
    assert any("skipped 1 image file(s) that failed to decode: a/truncated"
               in m for m in _warnings(caplog))
    np.testing.assert_array_equal(run[2], batches(2, 1)[0])


def test_fixed_crop_option():
  """A 148 centre crop (the CelebA option) keeps only the window."""
  image = np.zeros((218, 178, 3), np.uint8)
  image[35:183, 15:163] = 255
  png = tf.io.encode_png(image)
  out = image_folder.pipeline.decode_crop_resize(png, crop=148).numpy()
  assert out.min() == 255
  whole = image_folder.pipeline.decode_crop_resize(png).numpy()
  assert whole.min() < 255  # the central 178 square includes black rows


def test_train_cli_on_a_folder(folder, tmp_path):
  code = utils.run_train(utils.QUICK_TRAIN + [
      f"--dataset=folder:{folder}", "--likelihood=gaussian",
      f"--model_dir={tmp_path}/run"])
  assert code == 0
  summary = utils.read_json(tmp_path / "run" / "train_summary.json")
  assert summary["step"] == 2 and np.isfinite(summary["metrics"]["loss"])


def test_empty_folder_is_a_clear_error(tmp_path):
  (tmp_path / "notes.txt").write_text("x")
  with pytest.raises(data.DatasetUnavailableError,
                     match="no JPEG or PNG image under it"):
    data.training_dataset(f"folder:{tmp_path}", 4, 0)
