"""scream_dsprites: sprites cut out of random patches of a given picture."""

import os
import re

import numpy as np
import pytest

from tf_betavae import data
from tf_betavae.data import dsprites_simulator
from tf_betavae.data import scream_dsprites
from tf_betavae.data.ground_truth_data import FiniteGroundTruth
import data_test_utils as utils

# Small enough that it is not shrunk: patches are crops of the file itself.
_PICTURE_SHAPE = (72, 90, 3)


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
  """A noise picture (every 64x64 crop is unique): (path, uint8 array)."""
  image = np.random.RandomState(0).randint(256, size=_PICTURE_SHAPE)
  path = tmp_path_factory.mktemp("scream") / "picture.png"
  return utils.write_png(path, image), image.astype(np.uint8)


@pytest.fixture(scope="module")
def gt(picture):
  return data.ground_truth("scream_dsprites", scream_image=picture[0])


def _sprites(factors):
  """The simulator's sprite masks of factors: bool [n, 64, 64]."""
  simulator = dsprites_simulator.DSpritesSimulator()
  return simulator.sample_observations_from_factors(factors)[..., 0] == 1.0


def _find_patch(image, sprite, picture):
  """Undoes the inversion on the sprite and finds the patch and colour.

  Returns:
    (top, left, colour [3]) such that the image is (patch + colour) / 2
    off the sprite and 1 - that on it; fails if there is none.
  """
  background = np.where(sprite[..., None], 1.0 - image, image)
  relative = 2.0 * (background - background[0, 0])  # patch - patch[0, 0]
  pixels = picture.astype(np.float64) / 255.0
  height, width = picture.shape[:2]
  matches = []
  for top in range(height - 63):
    for left in range(width - 63):
      patch = pixels[top:top + 64, left:left + 64]
      if np.allclose(patch - patch[0, 0], relative, atol=1e-5):
        matches.append((top, left, 2.0 * background[0, 0] - patch[0, 0]))
  assert len(matches) == 1, f"{len(matches)} patches match"
  return matches[0]


def test_images_are_inverted_on_the_sprite(gt, picture):
  assert gt.factor_names == dsprites_simulator.FACTOR_NAMES
  assert gt.factors_num_values == [3, 6, 40, 32, 32]
  assert gt.observation_shape == (64, 64, 3)
  assert not isinstance(gt, FiniteGroundTruth)
  factors = gt.sample_factors(8, np.random.RandomState(0))
  images = gt.sample_observations_from_factors(factors,
                                               np.random.RandomState(1))
  assert images.shape == (8, 64, 64, 3) and images.dtype == np.float32
  assert images.min() >= 0.0 and images.max() <= 1.0
  sprites = _sprites(factors)
  offsets, colours = [], []
  for image, sprite in zip(images, sprites):
    top, left, colour = _find_patch(image, sprite, picture[1])
    assert np.all(colour >= -1e-5) and np.all(colour <= 1 + 1e-5)
    offsets.append((top, left))
    colours.append(colour)
  # Offsets and colours are drawn per image.
  assert len(set(offsets)) > 1
  assert len(np.unique(np.round(colours, 4), axis=0)) == 8


def test_inversion_of_a_one_colour_picture(tmp_path):
  """Known answer: every background pixel is b = (c + colour) / 2, every
  sprite pixel 1 - b."""
  path = utils.write_png(tmp_path / "grey.png",
                         np.full((64, 64, 3), 51, np.uint8))
  gt = data.ground_truth("scream_dsprites", scream_image=path)
  factors = np.array([[2, 5, 0, 10, 20], [0, 0, 3, 31, 0]])
  images = gt.sample_observations_from_factors(factors,
                                               np.random.RandomState(0))
  sprites = _sprites(factors)
  for image, sprite in zip(images, sprites):
    b = image[~sprite][0]
    np.testing.assert_allclose(image[~sprite],
                               np.broadcast_to(b, image[~sprite].shape),
                               atol=1e-6)
    np.testing.assert_allclose(image[sprite],
                               np.broadcast_to(1.0 - b, image[sprite].shape),
                               atol=1e-6)
    colour = 2.0 * b - 0.2  # the picture is 51 / 255 = 0.2 everywhere
    assert np.all(colour >= -1e-6) and np.all(colour <= 1.0 + 1e-6)


def test_determinism_and_required_random_state(gt):
  factors = gt.sample_factors(3, np.random.RandomState(0))
  first = gt.sample_observations_from_factors(factors,
                                              np.random.RandomState(7))
  np.testing.assert_array_equal(
      first, gt.sample_observations_from_factors(factors,
                                                 np.random.RandomState(7)))
  assert not np.array_equal(
      first, gt.sample_observations_from_factors(factors,
                                                 np.random.RandomState(8)))
  with pytest.raises(ValueError, match="scream_dsprites.*RandomState"):
    gt.sample_observations_from_factors(factors)


def test_stream_is_seeded_resumable_and_inverted(picture):
  run = utils.check_seeded_and_resumable("scream_dsprites",
                                         scream_image=picture[0])
  sprites = utils.stream_batches("dsprites", 1)[0][..., 0] == 1.0
  for image, sprite in zip(run[0][:3], sprites[:3]):
    _find_patch(image, sprite, picture[1])


@pytest.mark.parametrize("height, width, expected", [
    (548, 700, (274, 350)),     # landscape, halved to fit
    (1000, 800, (274, 219)),    # portrait, as The Scream
    (100, 2000, (64, 1280)),    # thin: never below a patch
    (72, 90, (72, 90)),         # fits: never enlarged
    (64, 64, (64, 64)),
])
def test_shrunk_size(height, width, expected):
  assert scream_dsprites.shrunk_size(height, width) == expected


def test_a_large_picture_is_shrunk(tmp_path):
  path = utils.write_png(tmp_path / "big.png",
                         np.full((548, 700, 3), 255, np.uint8))
  background = scream_dsprites.load_background(path)
  assert background.shape == (274, 350, 3)
  np.testing.assert_allclose(background, 1.0, atol=1e-6)


def _bad_inputs(tmp_path):
  text = tmp_path / "notes.png"
  text.write_text("not a picture")
  tiny = utils.write_png(tmp_path / "tiny.png", np.zeros((80, 63, 3)))
  return [
      (None, "no picture was given"),
      ("", "no picture was given"),
      (str(tmp_path / "missing.png"), "cannot read .*missing.png: No such "
       "file"),
      (str(text), "notes.png is not a readable JPEG/PNG image"),
      (tiny, r"tiny.png is 63x80 pixels \(width x height\), smaller than "
       "64x64"),
  ]


def test_bad_pictures_are_one_line_errors(tmp_path):
  for path, message in _bad_inputs(tmp_path):
    for call in (
        lambda: data.check_available("scream_dsprites", scream_image=path),
        lambda: data.training_dataset("scream_dsprites", 4, 0,
                                      scream_image=path),
        lambda: data.ground_truth("scream_dsprites", scream_image=path)):
      with pytest.raises(data.DatasetUnavailableError) as info:
        call()
      text = str(info.value)
      assert "\n" not in text
      assert text.startswith("dataset 'scream_dsprites': ")
      assert text.endswith("pass --scream_image=PATH (a JPEG/PNG at least "
                           "64x64)")
      assert re.search(message, text), text


def test_a_metric_runs_without_a_code_table(gt):
  utils.check_cheap_metric(gt)
  utils.check_no_code_table(gt)


def test_evaluate_passes_the_picture(picture, tmp_path):
  """The evaluate program's request reads --scream_image."""
  from tf_betavae.experiments import standalone  # pylint: disable=g-import-not-at-top
  request = standalone.EvaluationRequest(
      baseline="pixels", dataset="scream_dsprites", scream_image=picture[0],
      metrics="mig", num_train=100, output=str(tmp_path / "results.json"))
  results = standalone.evaluate(request)
  assert results["mig"]["dataset"] == "scream_dsprites"
  assert 0.0 <= results["mig"]["score"] <= 1.0
  assert not results["mig"]["code_table"]["used"]
  with pytest.raises(standalone.UsageError, match="--scream_image=PATH"):
    standalone.evaluate(standalone.EvaluationRequest(
        baseline="pixels", dataset="scream_dsprites", metrics="mig"))


def test_two_training_steps(picture, tmp_path):
  utils.check_two_training_steps("scream_dsprites", tmp_path / "run",
                                 scream_image=picture[0])


def test_training_pictures_use_the_picture(picture, tmp_path):
  """The end-of-training pictures (default hooks) read --scream_image too."""
  from tf_betavae import training  # pylint: disable=g-import-not-at-top
  model_dir = tmp_path / "run"
  training.train(training.TrainConfig(
      dataset="scream_dsprites", scream_image=picture[0], steps=2,
      log_every=2, checkpoint_every=2, batch_size=8, image_summary_every=0),
                 str(model_dir))
  written = set(os.listdir(model_dir))
  assert {"traversal.png", "reconstructions.png",
          "factor_response.png"} <= written, written
