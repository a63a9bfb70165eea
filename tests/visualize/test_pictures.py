"""Pictures of tf_betavae.visualize: sizes, content, traversal behaviour."""

import os

import keras
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from tf_betavae import models
from tf_betavae.models import latent_stats
from tf_betavae.visualize import factor_response
from tf_betavae.visualize import image_utils
from tf_betavae.visualize import kl_chart
from tf_betavae.visualize import reconstructions
from tf_betavae.visualize import sources
from tf_betavae.visualize import summaries
from tf_betavae.visualize import traversals

LATENT_DIM = 4
USED = 1       # the decoder relies on it strongly, the encoder spreads it
COLLAPSED = 2  # encoder gives N(0, 1) exactly, decoder ignores it
GAP = image_utils.GAP


@pytest.fixture(scope="module")
def model():
  """A small conv BetaVAE with one strongly used and one collapsed latent.

  Constructed, not trained: the encoder head's columns for COLLAPSED are
  zero (posterior mean 0, log-variance 0: KL exactly 0) and the decoder's
  first kernel row for it is zero (the decoder ignores it); USED gets a
  large encoder and decoder weight.
  """
  keras.utils.set_random_seed(0)  # deterministic weights
  m = models.build_model(arch="conv", latent_dim=LATENT_DIM, seed=0)
  head = m.encoder.head
  kernel, bias = [np.array(w) for w in head.get_weights()]
  for col in (COLLAPSED, LATENT_DIM + COLLAPSED):
    kernel[:, col] = 0.0
    bias[col] = 0.0
  kernel[:, USED] *= 100.0
  bias[USED] = 2.0
  head.set_weights([kernel, bias])
  hidden = m.decoder.hidden
  kernel, bias = [np.array(w) for w in hidden.get_weights()]
  kernel[COLLAPSED, :] = 0.0
  kernel[USED, :] *= 100.0
  hidden.set_weights([kernel, bias])
  return m


@pytest.fixture(scope="module")
def source(model):
  return sources.from_model(model, dataset="dsprites")


@pytest.fixture(scope="module")
def images():
  return summaries.sample_images("dsprites", 24, seed=1)


def test_kl_per_latent_matches_the_model(model, images):
  mean, log_variance = model.encode(tf.constant(images))
  ours = latent_stats.kl_per_latent(mean.numpy(), log_variance.numpy())
  terms = model.compute_terms(tf.constant(images), tf.constant([0, 0]))
  np.testing.assert_allclose(
      ours, terms["kl_per_latent"].numpy().mean(axis=0), rtol=1e-4,
      atol=1e-6)
  assert ours.shape == (LATENT_DIM,)
  assert ours[COLLAPSED] < 1e-6
  assert ours[USED] == ours.max() and ours[USED] > 0.5
  np.testing.assert_array_equal(sources.kl_order([0.5, 2.0, 0.0, 2.0]),
                                [1, 3, 0, 2])


def test_traversal_grid_size_and_content(source, images):
  picture, details = traversals.traversal_grid(
      source.encode_fn, source.decode_fn, images, index=0, num_steps=7,
      return_details=True)
  assert picture.dtype == np.uint8 and picture.ndim == 3
  height = traversals.HEADER_HEIGHT + LATENT_DIM * 64 + (LATENT_DIM + 1) * GAP
  assert picture.shape[0] == height
  body_width = 7 * 64 + 8 * GAP
  assert body_width + 30 < picture.shape[1] < body_width + 150
  assert picture.shape[2] == 3
  assert picture.std() > 10  # not blank
  np.testing.assert_allclose(details["values"], np.linspace(-3, 3, 7))
  assert details["tiles"].shape == (LATENT_DIM, 7, 64, 64, 1)
  # Most informative first, the collapsed latent last.
  assert details["order"][0] == USED and details["order"][-1] == COLLAPSED


def test_used_latent_changes_the_image_collapsed_latent_does_not(
    source, images):
  _, details = traversals.traversal_grid(
      source.encode_fn, source.decode_fn, images, index=2, num_steps=5,
      return_details=True)
  tiles = details["tiles"]
  order = list(details["order"])
  used = tiles[order.index(USED)]
  collapsed = tiles[order.index(COLLAPSED)]
  used_change = np.abs(used[-1] - used[0]).mean()
  collapsed_change = np.abs(collapsed[-1] - collapsed[0]).max()
  assert used_change > 0.02, used_change
  assert collapsed_change < 1e-4, collapsed_change
  # The same holds for the pixels of the picture's rows.
  picture = traversals.traversal_grid(source.encode_fn, source.decode_fn,
                                      images, index=2, num_steps=5)
  body = picture[traversals.HEADER_HEIGHT:, -(5 * 64 + 6 * GAP):]

  def cell(row, col):
    y, x = GAP + row * (64 + GAP), GAP + col * (64 + GAP)
    return body[y:y + 64, x:x + 64].astype(np.int32)

  last = LATENT_DIM - 1
  assert np.abs(cell(last, 0) - cell(last, 4)).max() <= 1
  assert np.abs(cell(0, 0) - cell(0, 4)).mean() > 2


def test_absolute_traversal_sets_the_value(model):
  decoded = []

  def decode_fn(latents):
    decoded.append(latents.copy())
    return np.zeros((len(latents), 4, 4, 1), np.float32)

  code = np.array([0.5, -1.0, 2.0], np.float32)
  traversals.traverse(decode_fn, code, [2], [-1.0, 1.0], absolute=True)
  traversals.traverse(decode_fn, code, [2], [-1.0, 1.0], absolute=False)
  np.testing.assert_allclose(decoded[0], [[0.5, -1, -1], [0.5, -1, 1]])
  np.testing.assert_allclose(decoded[1], [[0.5, -1, 1], [0.5, -1, 3]])


def test_traversal_gif(source, images, tmp_path):
  frames = traversals.traversal_animation(
      source.encode_fn, source.decode_fn, images, indices=(0, 1),
      num_frames=6)
  assert frames.dtype == np.uint8
  assert frames.shape[0] == 10  # 6 forward, 4 back
  assert frames.shape[3] == 3
  assert frames.shape[1] >= 2 * 64 and frames.shape[2] >= 5 * 64
  assert frames.std() > 10
  assert np.abs(frames[0].astype(int) - frames[5].astype(int)).mean() > 0.5
  path = image_utils.write_gif(frames, str(tmp_path / "t.gif"))
  with Image.open(path) as gif:
    assert gif.n_frames == 10
    assert gif.size == (frames.shape[2], frames.shape[1])


def test_reconstruction_grid(source, images):
  grid = reconstructions.reconstruction_grid(
      source.encode_fn, source.decode_fn, images[:5])
  assert grid.shape == (2 * 64 + 3 * GAP, 5 * 64 + 6 * GAP, 3)
  assert grid.std() > 10
  inputs = image_utils.to_rgb_uint8(images[:5])
  recon = image_utils.to_rgb_uint8(reconstructions.reconstruct(
      source.encode_fn, source.decode_fn, images[:5]))
  for i in range(5):  # inputs above their reconstructions
    x = GAP + i * (64 + GAP)
    np.testing.assert_array_equal(grid[GAP:GAP + 64, x:x + 64], inputs[i])
    y = 2 * GAP + 64
    np.testing.assert_array_equal(grid[y:y + 64, x:x + 64], recon[i])
  wrapped = reconstructions.reconstruction_grid(
      source.encode_fn, source.decode_fn, images[:12], columns=8)
  assert wrapped.shape == (2 * (2 * 64 + 3 * GAP) + 2, 8 * 64 + 9 * GAP, 3)


def test_kl_bar_chart_colours_active_latents():
  blue = np.array([31, 119, 180])

  def blue_pixels(picture):
    return int((np.abs(picture.astype(int) - blue).sum(axis=-1) < 10).sum())

  chart = kl_chart.kl_bar_chart([2.0, 0.01, 0.5])
  assert chart.shape == (320, 640, 3) and chart.dtype == np.uint8
  assert chart.std() > 10
  assert blue_pixels(chart) > 500
  assert blue_pixels(kl_chart.kl_bar_chart([0.0, 0.01, 0.02])) == 0


def _centroid_encoder(images):
  """A fake encoder: latent 0 = x centroid, 1 = y centroid, 2 = mass."""
  images = np.asarray(images, np.float64)[..., 0]
  mass = images.sum(axis=(1, 2)) + 1e-6
  xs = np.arange(images.shape[2])
  x = (images.sum(axis=1) * xs).sum(axis=1) / mass
  y = (images.sum(axis=2) * xs).sum(axis=1) / mass
  mean = np.stack([(x - 32) / 10, (y - 32) / 10, mass / 200 - 1], axis=1)
  return mean.astype(np.float32), np.zeros_like(mean, np.float32)


def test_factor_response_finds_the_position_latent():
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  gt = data.ground_truth("dsprites")
  response = factor_response.compute_factor_response(
      _centroid_encoder, gt, np.random.RandomState(0), samples_per_value=8,
      position_samples=1)
  names = response["factor_names"]
  assert [m.shape for m in response["mean"]] == [
      (n, 3) for n in gt.factors_num_values]
  assert response["position"].shape == (32, 32, 3)
  pos_x = response["mean"][names.index("pos_x")]
  orientation = response["mean"][names.index("orientation")]
  x_values = response["factor_values"][names.index("pos_x")]
  assert np.corrcoef(x_values, pos_x[:, 0])[0, 1] > 0.99
  # Orientation leaves the x centroid alone: its curve is sampling noise.
  assert np.var(pos_x[:, 0]) > 3 * np.var(orientation[:, 0])
  assert abs(np.corrcoef(np.arange(40), orientation[:, 0])[0, 1]) < 0.6
  scale = response["mean"][names.index("scale")][:, 2]
  assert np.all(np.diff(scale) > 0)  # mass grows with scale
  heat = response["position"][:, :, 0]
  assert np.all(np.diff(heat.mean(axis=1)) > 0)  # along pos_x
  picture = factor_response.factor_response_plot(response, dpi=50)
  assert picture.dtype == np.uint8 and picture.shape[2] == 3
  cols = len(names) + 1
  assert picture.shape[1] == round((1.6 * cols + 0.6) * 50)
  assert picture.shape[0] == round((1.1 * 3 + 0.7) * 50)
  assert picture.std() > 10


def test_image_summaries_reach_tensorboard(source, images, tmp_path):
  writer = tf.summary.create_file_writer(str(tmp_path / "train"))
  pictures = summaries.write_image_summaries(
      writer, 7, source.encode_fn, source.decode_fn, images, num_steps=4)
  writer.close()
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  acc = event_accumulator.EventAccumulator(
      str(tmp_path / "train"), size_guidance={"tensors": 0})
  acc.Reload()
  tags = set(acc.Tags()["tensors"])
  expected = {"images/traversal", "images/reconstructions",
              "images/kl_per_latent"}
  assert expected <= tags
  for tag in expected:
    event, = acc.Tensors(tag)
    assert event.step == 7
    width, height = [int(v) for v in tf.make_ndarray(event.tensor_proto)[:2]]
    name = tag.split("/")[1]
    assert (height, width) == pictures[name].shape[:2]


def test_image_files(source, images, tmp_path):
  from tf_betavae import data  # pylint: disable=g-import-not-at-top
  paths = summaries.write_image_files(
      str(tmp_path / "run"), source.encode_fn, source.decode_fn, images,
      ground_truth=data.ground_truth("dsprites"), gif_inputs=2, gif_frames=4,
      samples_per_value=2, num_steps=6)
  names = {os.path.basename(p) for p in paths.values()}
  assert names == {"traversal.png", "traversal.gif", "reconstructions.png",
                   "kl_per_latent.png", "factor_response.png"}
  for path in paths.values():
    with Image.open(path) as picture:
      array = np.asarray(picture.convert("RGB"))
      assert array.shape[0] > 100 and array.shape[1] > 100
      assert array.std() > 10, path
  with Image.open(paths["traversal"]) as picture:
    assert picture.size[1] == (traversals.HEADER_HEIGHT + LATENT_DIM * 64 +
                               (LATENT_DIM + 1) * GAP)
  no_gt = summaries.write_image_files(
      str(tmp_path / "other"), source.encode_fn, source.decode_fn, images,
      gif_inputs=1, gif_frames=3)
  assert "factor_response" not in no_gt
