"""The ground-truth contract: base class, shared sample(), finite Protocol."""

import re

import numpy as np
import pytest

from tf_betavae import data
from tf_betavae.data import dsprites_official
from tf_betavae.data import ground_truth_data
from tf_betavae.data.ground_truth_data import FiniteGroundTruth
from tf_betavae.data.ground_truth_data import GroundTruthData
import data_test_utils as utils


class _Minimal(GroundTruthData):
  """Only the abstract methods: observations are the factors, [N, 1, 1, 2]."""

  factor_names = ("a", "b")
  factors_num_values = [3, 4]
  num_factors = 2
  observation_shape = (1, 1, 2)

  def sample_factors(self, num, random_state):
    return ground_truth_data.sample_uniform_factors(self.factors_num_values,
                                                    num, random_state)

  def sample_observations_from_factors(self, factors, random_state=None):
    return np.asarray(factors, np.float32).reshape(-1, 1, 1, 2)


@pytest.fixture(scope="module")
def official_npz(tmp_path_factory):
  rows = np.stack(np.meshgrid(np.arange(3), [0, 5], [0], [1], [2],
                              indexing="ij"), -1).reshape(-1, 5)
  path = tmp_path_factory.mktemp("dsprites") / dsprites_official.FILE_NAMES[0]
  np.savez_compressed(path, **utils.official_dsprites_subset(rows))
  return str(path)


@pytest.fixture(scope="module")
def scream_png(tmp_path_factory):
  path = tmp_path_factory.mktemp("scream") / "picture.png"
  return utils.write_png(path, np.random.RandomState(0).randint(
      256, size=(70, 80, 3)))


@pytest.fixture
def tfds_mock():
  tfds = pytest.importorskip("tensorflow_datasets")
  with tfds.testing.mock_data(num_examples=24):
    yield


# One fixed observation per factor vector: tabulable.
_FINITE = ("dsprites", "dsprites_official", "shapes3d")


def _registered(name, official_npz, scream_png):
  if name == "dsprites_official":
    return data.ground_truth(name, dsprites_file=official_npz)
  if name in data.TFDS_DATASETS:
    return data.ground_truth(name, data_dir="/nonexistent")
  if name == "scream_dsprites":
    return data.ground_truth(name, scream_image=scream_png)
  return data.ground_truth(name)


@pytest.mark.parametrize("name", data.GROUND_TRUTH_DATASETS)
def test_every_registered_ground_truth_is_one(name, official_npz, scream_png,
                                              request):
  if name in data.TFDS_DATASETS:
    request.getfixturevalue("tfds_mock")
  gt = _registered(name, official_npz, scream_png)
  assert isinstance(gt, GroundTruthData)
  # The ground truths with one fixed observation per factor vector are
  # finite (tabulable), the simulator included: its observations are the
  # 737,280 grid images.  A random nuisance (the dSprites variants) or
  # several images per vector (smallnorb) make a ground truth not finite.
  assert isinstance(gt, FiniteGroundTruth) == (name in _FINITE)
  factors, images = gt.sample(5, np.random.RandomState(0))
  assert factors.shape == (5, gt.num_factors)
  assert images.shape == (5,) + tuple(gt.observation_shape)


def test_minimal_subclass_gets_sample():
  gt = _Minimal()
  factors, images = gt.sample(7, np.random.RandomState(3))
  assert factors.dtype == np.int64 and factors.shape == (7, 2)
  np.testing.assert_array_equal(
      factors, _Minimal().sample_factors(7, np.random.RandomState(3)))
  np.testing.assert_array_equal(images.reshape(7, 2), factors)
  assert images.dtype == np.float32


def test_sample_passes_its_random_state_on():
  seen = []

  class Recording(_Minimal):

    def sample_observations_from_factors(self, factors, random_state=None):
      seen.append(random_state)
      return super().sample_observations_from_factors(factors, random_state)

  random_state = np.random.RandomState(0)
  Recording().sample(3, random_state)
  assert seen == [random_state]


@pytest.mark.parametrize("name", _FINITE)
def test_sample_of_existing_datasets_is_unchanged(name, official_npz,
                                                  scream_png, request):
  """Their observations ignore the random state: sample() gives what the
  factors alone give."""
  if name in data.TFDS_DATASETS:
    request.getfixturevalue("tfds_mock")
  gt = _registered(name, official_npz, scream_png)
  factors, images = gt.sample(6, np.random.RandomState(4))
  np.testing.assert_array_equal(
      factors, gt.sample_factors(6, np.random.RandomState(4)))
  np.testing.assert_array_equal(images,
                                gt.sample_observations_from_factors(factors))


def test_abstract_methods_are_required():

  class OnlyFactors(GroundTruthData):

    def sample_factors(self, num, random_state):
      return np.zeros((num, 1), np.int64)

  with pytest.raises(TypeError):
    OnlyFactors()  # pylint: disable=abstract-class-instantiated


def test_finite_protocol_rejects_non_finite():
  assert not isinstance(_Minimal(), FiniteGroundTruth)
  assert not isinstance(object(), FiniteGroundTruth)


def test_uniform_factors_match_per_factor_randint():
  rs = np.random.RandomState(5)
  expected = np.stack([rs.randint(n, size=9) for n in (3, 6, 40)], axis=1)
  got = ground_truth_data.sample_uniform_factors((3, 6, 40), 9,
                                                 np.random.RandomState(5))
  np.testing.assert_array_equal(got, expected)
  assert got.dtype == np.int64


@pytest.mark.parametrize("name", data.GROUND_TRUTH_DATASETS)
def test_every_ground_truth_makes_pairs_that_share_all_but_k_factors(
    name, official_npz, scream_png, request):
  if name in data.TFDS_DATASETS:
    request.getfixturevalue("tfds_mock")
  gt = _registered(name, official_npz, scream_png)
  num_factors = gt.num_factors
  for k in list(range(1, num_factors + 1)) + [ground_truth_data.K_RANDOM]:
    first, second, redrawn, label = gt.sample_factor_pairs(
        40, k, np.random.RandomState(k + 10))
    # The label is one of the factors redrawn.
    assert redrawn[np.arange(40), label].all()
    # Outside the redrawn factors the pair is the same vector.
    np.testing.assert_array_equal(first[~redrawn], second[~redrawn])
    counts = redrawn.sum(axis=1)
    allowed = ({1, k} if k != ground_truth_data.K_RANDOM
               else set(range(1, num_factors)))
    assert set(counts.tolist()) <= allowed, (k, counts)
    for column, values in enumerate(gt.factors_num_values):
      assert second[:, column].min() >= 0
      assert second[:, column].max() < values
    again = gt.sample_factor_pairs(40, k, np.random.RandomState(k + 10))
    for a, b in zip(again, (first, second, redrawn, label)):
      np.testing.assert_array_equal(a, b)


def test_pairs_redraw_one_or_k_factors_as_disentanglement_lib_does():
  gt = _Minimal()
  first, second, redrawn, label = gt.sample_factor_pairs(
      4000, 2, np.random.RandomState(0))
  counts = redrawn.sum(axis=1)
  # A fair choice between 1 and k = 2 factors.
  assert abs(np.mean(counts == 1) - 0.5) < 0.03
  assert set(counts.tolist()) == {1, 2}
  # A redrawn factor takes a uniform value, its old one included: factor
  # a (3 values) keeps its value a third of the times it is redrawn.
  kept = np.mean(first[redrawn[:, 0], 0] == second[redrawn[:, 0], 0])
  assert abs(kept - 1 / 3) < 0.04
  # With two factors redrawn, the label is the second one drawn: either
  # factor, about equally often.
  two = redrawn.sum(axis=1) == 2
  assert abs(np.mean(label[two] == 0) - 0.5) < 0.04
  pairs, images_first, images_second = gt.sample_pairs(
      8, 1, np.random.RandomState(1))
  np.testing.assert_array_equal(pairs.redrawn.sum(axis=1), 1)
  assert images_first.shape == images_second.shape == (8, 1, 1, 2)


@pytest.mark.parametrize("k, message", [
    (0, "--k must be an integer in 1..2"), (3, "--k must be an integer"),
    (-2, "or -1 (a random k per pair"), (1.5, "got 1.5"), (True, "got True")])
def test_bad_k_is_refused_with_the_range(k, message):
  with pytest.raises(ValueError, match=re.escape(message)):
    _Minimal().sample_factor_pairs(3, k, np.random.RandomState(0))
