"""The pair streams of the weakly-supervised methods: a pure function of
(seed, worker, batch), resumable, from every kind of source."""

import numpy as np
import pytest

from tf_betavae import data
from tf_betavae.data import ground_truth_data
from tf_betavae.data import pairs
from tests.data import data_test_utils as utils


def _take(dataset, num):
  return [(images.numpy(), labels.numpy())
          for images, labels in dataset.take(num)]


@pytest.mark.parametrize("k", [1, 3, ground_truth_data.K_RANDOM])
def test_batch_i_is_the_ground_truths_pairs_under_the_batch_seed(k):
  gt = data.ground_truth("dsprites")
  stream = _take(pairs.pair_batches(gt, 8, seed=11, k=k), 3)
  for index, (images, labels) in enumerate(stream):
    expected_images, expected_labels = pairs.pair_arrays(
        gt, 8, k, pairs.batch_random_state(11, 0, index))
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    assert images.shape == (8, 2, 64, 64, 1)
  # The pair really is the rendering of two factor vectors that share all
  # but the redrawn factors.
  pair_factors = gt.sample_factor_pairs(8, k,
                                        pairs.batch_random_state(11, 0, 0))
  np.testing.assert_array_equal(
      stream[0][0][:, 1],
      gt.sample_observations_from_factors(pair_factors.second))
  assert pair_factors.redrawn[np.arange(8), stream[0][1]].all()


def test_a_resumed_stream_continues_where_it_stopped():
  gt = data.ground_truth("dsprites")
  fresh = _take(pairs.pair_batches(gt, 4, seed=2, k=1), 5)
  resumed = _take(pairs.pair_batches(gt, 4, seed=2, k=1, start_batch=3), 2)
  for a, b in zip(resumed, fresh[3:]):
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_seeds_and_workers_give_other_pairs():
  gt = data.ground_truth("dsprites")
  first = _take(pairs.pair_batches(gt, 4, seed=1, k=1), 1)[0][0]
  for kwargs in ({"seed": 2}, {"seed": -1}, {"seed": 1, "worker_index": 1}):
    other = _take(pairs.pair_batches(gt, 4, k=1, **kwargs), 1)[0][0]
    assert not np.array_equal(first, other), kwargs
  again = _take(pairs.pair_batches(gt, 4, seed=1, k=1), 1)[0][0]
  np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("name", ["dsprites", "color_dsprites",
                                  "noisy_dsprites", "scream_dsprites"])
def test_the_registry_makes_pairs_of_the_simulator_family(name, tmp_path):
  locations = {}
  if name == "scream_dsprites":
    locations["scream_image"] = utils.write_png(
        tmp_path / "picture.png",
        np.random.RandomState(0).randint(256, size=(70, 80, 3)))
  dataset, shape = data.pair_dataset(name, 4, seed=0, k=2, **locations)
  images, labels = _take(dataset, 1)[0]
  assert images.shape == (4, 2) + shape
  assert images.dtype == np.float32
  assert 0.0 <= images.min() and images.max() <= 1.0
  assert set(labels.tolist()) <= set(range(5))


def test_frames_pairs_carry_the_unknown_label(tmp_path):
  for sequence in ("a", "b"):
    for frame in range(3):
      utils.write_png(tmp_path / sequence / f"{frame}.png",
                      np.full((8, 8, 3), 40 * frame, np.uint8))
  dataset, shape = data.pair_dataset(f"frames:{tmp_path}", 3, seed=0)
  images, labels = _take(dataset, 1)[0]
  assert images.shape == (3, 2) + shape
  np.testing.assert_array_equal(labels, pairs.UNKNOWN_LABEL)


@pytest.mark.parametrize("name", ["celeb_a", "folder:/tmp"])
def test_datasets_without_factors_make_no_pairs(name):
  with pytest.raises(data.DatasetUnavailableError, match="no ground-truth"):
    data.pair_dataset(name, 4, seed=0)


def test_k_out_of_range_is_refused_before_any_pair():
  with pytest.raises(ValueError, match=r"--k must be an integer in 1\.\.5"):
    data.pair_dataset("dsprites", 4, seed=0, k=6)


def test_num_factors_is_known_from_the_name():
  assert data.num_factors("dsprites") == 5
  assert data.num_factors("shapes3d") == 6
  assert data.num_factors("smallnorb") == 4
  with pytest.raises(data.DatasetUnavailableError):
    data.num_factors("frames:/tmp")
