"""Code tables: every observation encoded once, scores unchanged."""

import numpy as np
import pytest

from tf_betavae import metrics
from tf_betavae.metrics import code_table
from tf_betavae.metrics import sampling

from conftest import FactorGroundTruth
from conftest import mixed_representation


class TabulatedGroundTruth(FactorGroundTruth):
  """FactorGroundTruth with the code-table interface (grid order)."""

  @property
  def num_observations(self):
    return int(np.prod(self.factors_num_values))

  def observation_index(self, factors):
    return np.ravel_multi_index(tuple(np.asarray(factors, np.int64).T),
                                tuple(self.factors_num_values))

  def observations_at(self, index):
    factors = np.stack(np.unravel_index(np.asarray(index, np.int64),
                                        self.factors_num_values), axis=1)
    return self.sample_observations_from_factors(factors)


class Counting:
  """A representation that counts the images it is given."""

  def __init__(self, fn):
    self.fn = fn
    self.images = 0

  def __call__(self, images):
    self.images += len(images)
    return self.fn(images)


@pytest.fixture
def tab_gt():
  return TabulatedGroundTruth((3, 4, 5, 4))  # 240 observations


def test_table_holds_the_code_of_every_observation(tab_gt):
  fn = Counting(mixed_representation(tab_gt, weight=0.5))
  table = code_table.build_code_table(tab_gt, fn, chunk_images=64)
  assert table.codes.shape == (240, 4) and table.codes.dtype == np.float32
  assert fn.images == 240 == table.encoded_images  # each one once
  factors = tab_gt.sample_factors(500, np.random.RandomState(0))
  expected = fn.fn(tab_gt.sample_observations_from_factors(factors))
  np.testing.assert_array_equal(table.codes_of_factors(factors), expected)
  # Called on images it still encodes them (it is a representation).
  images = tab_gt.sample_observations_from_factors(factors[:3])
  np.testing.assert_array_equal(table(images), expected[:3])
  unprefetched = code_table.build_code_table(tab_gt, fn, chunk_images=50,
                                             prefetch=False)
  np.testing.assert_array_equal(unprefetched.codes, table.codes)


@pytest.mark.parametrize("name", ["beta_vae", "mig", "factor_vae", "dci",
                                  "sap"])
def test_every_metric_gives_the_same_result_from_a_table(tab_gt, name):
  fn = Counting(mixed_representation(tab_gt, weight=0.5))
  table = code_table.build_code_table(tab_gt, fn, chunk_images=100)
  encoded_for_table = fn.images
  direct = metrics.run_metric(name, tab_gt, fn, np.random.RandomState(3),
                              num_train=200, num_eval=100)
  assert fn.images > encoded_for_table  # sampling encodes images
  renders = len(tab_gt.render_calls)
  fn.images = 0
  looked_up = metrics.run_metric(name, tab_gt, table,
                                 np.random.RandomState(3), num_train=200,
                                 num_eval=100)
  assert fn.images == 0 and len(tab_gt.render_calls) == renders
  assert looked_up == direct  # every score, detail and parameter
  assert 0.0 < direct["score"] <= 1.0


def test_table_refuses_what_would_not_fit(tab_gt):
  fn = mixed_representation(tab_gt)
  with pytest.raises(code_table.CodeTableError, match=r"240 observations x 4"):
    code_table.build_code_table(tab_gt, fn, max_bytes=240 * 4 * 4 - 1)
  with pytest.raises(code_table.CodeTableError, match="cannot be tabulated"):
    code_table.build_code_table(FactorGroundTruth(), fn)


def test_auto_decision(tab_gt):
  # The break-even: as many sampled images as observations (240).
  build, reason = code_table.should_build("auto", tab_gt, 240, code_dim=4)
  assert build and "240" in reason
  build, reason = code_table.should_build("auto", tab_gt, 239, code_dim=4)
  assert not build and "fewer" in reason
  build, reason = code_table.should_build("auto", tab_gt, 10**6,
                                          code_dim=10**9)
  assert not build and "exceed" in reason
  assert code_table.should_build("never", tab_gt, 10**6)[0] is False
  assert code_table.should_build("auto", FactorGroundTruth(), 10**6) == (
      False, "the ground truth cannot be tabulated")
  with pytest.raises(code_table.CodeTableError, match="cannot be tabulated"):
    code_table.should_build("always", FactorGroundTruth(), 1)
  with pytest.raises(code_table.CodeTableError, match="MiB"):
    code_table.should_build("always", tab_gt, 1, code_dim=10**9)
  with pytest.raises(ValueError, match="code_table must be one of"):
    code_table.should_build("sometimes", tab_gt, 1)


def test_planned_images_match_what_sampling_encodes(tab_gt):
  for name in ("beta_vae", "mig", "factor_vae", "dci", "sap"):
    fn = Counting(mixed_representation(tab_gt))
    metrics.run_metric(name, tab_gt, fn, np.random.RandomState(0),
                       num_train=40, num_eval=30)
    sizes = metrics.metric_sizes(name, num_train=40, num_eval=30)
    assert code_table.planned_images(name, sizes) == fn.images, name


def test_prepare_representation(tab_gt):
  fn = Counting(mixed_representation(tab_gt))
  # beta_vae at 2 + 1 examples x 64 pairs x 2 = 384 images >= 120: a table.
  prepared, info = metrics.prepare_representation(
      tab_gt, fn, ["beta_vae"], num_train=2, num_eval=1)
  assert isinstance(prepared, code_table.CodeTable)
  assert info["used"] and info["planned_images"] == 384
  assert info["observations"] == 240 and info["latent_dim"] == 4
  # MIG alone at 50 samples: sampling is cheaper, no table.
  prepared, info = metrics.prepare_representation(
      tab_gt, fn, ["mig"], num_train=50)
  assert prepared is fn and not info["used"]
  prepared, info = metrics.prepare_representation(
      tab_gt, fn, ["mig"], num_train=50, code_table="always")
  assert isinstance(prepared, code_table.CodeTable)


def test_map_chunks_looks_up_without_rendering(tab_gt):
  fn = mixed_representation(tab_gt)
  table = code_table.build_code_table(tab_gt, fn)
  renders = len(tab_gt.render_calls)
  factors = tab_gt.sample_factors(70, np.random.RandomState(1))
  chunks = list(sampling.map_chunks(tab_gt, table, [factors[:30],
                                                    factors[30:]],
                                    np.random.RandomState(0)))
  assert len(tab_gt.render_calls) == renders
  assert [c.dtype for c in chunks] == [np.float64] * 2
  np.testing.assert_array_equal(
      np.concatenate(chunks),
      fn(tab_gt.sample_observations_from_factors(factors)).astype(np.float64))


def test_building_a_table_logs_its_progress(tab_gt, caplog):
  import logging  # pylint: disable=g-import-not-at-top
  # A clock that the encoder advances: 30 s of tracing in the first call,
  # then 5 s per chunk of 24 images (10 chunks).
  now = [0.0]

  def slow_encoder(images, fn=mixed_representation(tab_gt, weight=0.5)):
    now[0] += 35.0 if now[0] == 0.0 else 5.0
    return fn(images)

  with caplog.at_level(logging.INFO, logger="absl"):
    table = code_table.build_code_table(
        tab_gt, slow_encoder, chunk_images=24, prefetch=False,
        clock=lambda: now[0], progress_every_seconds=10.0)
  assert table.build_seconds == 80.0
  lines = [r.getMessage() for r in caplog.records
           if r.getMessage().startswith("encoding the code table")]
  assert lines == [
      # After the first chunk only its rate is known, not the steady one.
      "encoding the code table: 24 of 240 images, 1 images/s, 35 s "
      "elapsed, time left unknown",
      # 48 images in 10 s; 168 left take 35 s (7 chunks of 5 s).
      "encoding the code table: 72 of 240 images, 5 images/s, 45 s "
      "elapsed, about 35 s left",
      "encoding the code table: 120 of 240 images, 5 images/s, 55 s "
      "elapsed, about 25 s left",
      "encoding the code table: 168 of 240 images, 5 images/s, 1 min 05 s "
      "elapsed, about 15 s left",
      "encoding the code table: 216 of 240 images, 5 images/s, 1 min 15 s "
      "elapsed, about 5 s left",
  ]
