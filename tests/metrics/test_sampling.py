import numpy as np

from tf_betavae.metrics import sampling


def test_codes_and_factors_are_batched_and_aligned(gt, synthetic):
  fn = synthetic.identity(gt)
  codes, factors = sampling.sample_codes_and_factors(
      gt, fn, 1000, np.random.RandomState(0), chunk_images=300)
  assert codes.shape == (1000, 5) and factors.shape == (1000, 5)
  assert gt.render_calls == [300, 300, 300, 100]
  np.testing.assert_allclose(
      codes, factors / (np.asarray(gt.factors_num_values) - 1), rtol=1e-6)


def test_prefetch_does_not_change_results(synthetic):
  results = []
  for prefetch in (False, True):
    gt = synthetic.FactorGroundTruth()
    rs = np.random.RandomState(3)
    chunks = (gt.sample_factors(n, rs) for n in (50, 70, 30))
    results.append(list(sampling.map_chunks(
        gt, synthetic.identity(gt), chunks, rs, prefetch=prefetch)))
  for a, b in zip(*results):
    np.testing.assert_array_equal(a, b)
  assert [len(c) for c in results[1]] == [50, 70, 30]


def test_fixed_factor_groups(gt):
  fixed, factors = sampling.sample_fixed_factor_groups(
      gt, 400, 16, np.random.RandomState(0))
  assert factors.shape == (400, 16, 5)
  for g in range(400):
    column = factors[g, :, fixed[g]]
    assert np.all(column == column[0])
  # The other factors still vary within a group.
  assert np.all(factors[np.arange(400), :, (fixed + 1) % 5].std(axis=1) > 0)
  # The fixed factor is uniform.
  counts = np.bincount(fixed, minlength=5)
  assert counts.min() > 50


def test_encode_checks_output_shape():
  import pytest
  with pytest.raises(ValueError, match=r"\[num_images, latent_dim\]"):
    sampling.encode(lambda x: np.zeros(len(x)), np.zeros((4, 1, 1, 1)))


def test_long_encodings_log_their_progress(gt, synthetic, monkeypatch,
                                           caplog):
  import logging  # pylint: disable=g-import-not-at-top
  import re  # pylint: disable=g-import-not-at-top
  # A line after every chunk but the last (no waiting between lines).
  monkeypatch.setattr(sampling, "PROGRESS_EVERY_SECONDS", 0.0)
  with caplog.at_level(logging.INFO, logger="absl"):
    sampling.sample_codes_and_factors(gt, synthetic.identity(gt), 1000,
                                      np.random.RandomState(0),
                                      chunk_images=300)
  lines = [r.getMessage() for r in caplog.records
           if r.getMessage().startswith("encoding sampled points")]
  # Counts, rate, and (from the second chunk on) the time left.
  pattern = (r"encoding sampled points: (\d+) of 1,000 images, [\d,]+ "
             r"images/s, \d+ s elapsed, (time left unknown|about \d+ s "
             r"left)")
  matches = [re.fullmatch(pattern, line) for line in lines]
  assert all(matches), lines
  assert [m.group(1) for m in matches] == ["300", "600", "900"]
  assert [m.group(2).startswith("about") for m in matches] == [
      False, True, True]
