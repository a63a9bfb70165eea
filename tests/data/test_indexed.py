"""Stored images indexed by factors: one or several images per vector."""

import numpy as np
import pytest

from tf_betavae.data import indexed
from tf_betavae.data.ground_truth_data import FiniteGroundTruth

_NUM_VALUES = (2, 3)


def _rows(copies):
  """Every combination of a 2 x 3 grid ``copies`` times, shuffled; image
  pixel 0 is the row number, pixel 1 the combination's flat index.

  Returns:
    (uint8 images [6 * copies, 1, 2, 1], int64 classes [6 * copies, 2]).
  """
  grid = np.stack(np.meshgrid(*[np.arange(n) for n in _NUM_VALUES],
                              indexing="ij"), -1).reshape(-1, 2)
  classes = np.random.RandomState(0).permutation(np.tile(grid, (copies, 1)))
  keys = np.ravel_multi_index(tuple(classes.T), _NUM_VALUES)
  images = np.stack([np.arange(len(classes)), keys], 1).astype(np.uint8)
  return images.reshape(-1, 1, 2, 1), classes


def _multi(images, classes):
  return indexed.MultiRowGroundTruth("toy", images, classes, ("a", "b"),
                                     _NUM_VALUES, (1, 2, 1),
                                     decode=lambda x: x.astype(np.float32))


def test_several_images_per_vector_are_drawn_among_their_rows():
  images, classes = _rows(copies=4)
  gt = _multi(images, classes)
  assert gt.complete and gt.num_rows == 24 and gt.num_combinations == 6
  assert not isinstance(gt, FiniteGroundTruth)
  factors = np.repeat([[1, 2]], 400, axis=0)
  observed = gt.sample_observations_from_factors(factors,
                                                 np.random.RandomState(0))
  rows = observed[:, 0, 0, 0].astype(int)
  # Every image is one of the combination's four rows, each drawn ~ 1/4.
  expected = set(np.flatnonzero((classes == [1, 2]).all(axis=1)))
  assert set(rows) == expected
  assert np.all(observed[:, 0, 1, 0] == 5)
  counts = np.bincount(rows, minlength=24)[sorted(expected)]
  assert counts.min() > 70
  # The random state decides which.
  np.testing.assert_array_equal(
      observed, gt.sample_observations_from_factors(
          factors, np.random.RandomState(0)))
  assert not np.array_equal(observed, gt.sample_observations_from_factors(
      factors, np.random.RandomState(1)))


def test_sampling_and_errors():
  images, classes = _rows(copies=3)
  keep = ~(classes == [0, 1]).all(axis=1)  # one combination missing
  gt = _multi(images[keep], classes[keep])
  assert not gt.complete and gt.num_combinations == 5
  sampled = gt.sample_factors(300, np.random.RandomState(0))
  assert sampled.shape == (300, 2) and sampled.dtype == np.int64
  assert not (sampled == [0, 1]).all(axis=1).any()
  assert len(np.unique(sampled, axis=0)) == 5
  factors, observed = gt.sample(50, np.random.RandomState(2))
  np.testing.assert_array_equal(
      observed[:, 0, 1, 0], np.ravel_multi_index(tuple(factors.T),
                                                 _NUM_VALUES))
  with pytest.raises(indexed.MissingFactorsError,
                     match=r"'a': 0, 'b': 1.*holds 5 of the 6"):
    gt.sample_observations_from_factors(np.array([[0, 1]]),
                                        np.random.RandomState(0))
  with pytest.raises(ValueError, match="out of range"):
    gt.sample_observations_from_factors(np.array([[2, 0]]),
                                        np.random.RandomState(0))
  with pytest.raises(ValueError, match="toy: .*several images.*RandomState"):
    gt.sample_observations_from_factors(np.array([[1, 1]]))
  empty = gt.sample_observations_from_factors(np.zeros((0, 2), int),
                                              np.random.RandomState(0))
  assert empty.shape == (0, 1, 2, 1)


def test_one_image_per_vector_stays_finite_and_keeps_the_first_row():
  images, classes = _rows(copies=2)
  gt = indexed.IndexedGroundTruth("toy", images, classes, ("a", "b"),
                                  _NUM_VALUES, (1, 2, 1),
                                  decode=lambda x: x.astype(np.float32))
  assert isinstance(gt, FiniteGroundTruth) and gt.num_rows == 6
  first = np.flatnonzero((classes == [1, 2]).all(axis=1))[0]
  for seed in range(3):
    observed = gt.sample_observations_from_factors(
        np.array([[1, 2]]), np.random.RandomState(seed))
    assert observed[0, 0, 0, 0] == first
