"""The procedural dSprites simulator: geometry, determinism, interface."""

import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import data
from tf_betavae.data import dsprites_simulator


@pytest.fixture(scope="module")
def simulator():
  return data.ground_truth("dsprites")


def _render(simulator, shape=0, scale=5, orientation=0, pos_x=15, pos_y=15):
  factors = np.array([[shape, scale, orientation, pos_x, pos_y]])
  return simulator.sample_observations_from_factors(factors)[0, :, :, 0]


def _centre_of_mass(image):
  rows, cols = np.nonzero(image)
  return rows.mean(), cols.mean()


def test_interface_matches_the_official_grid(simulator):
  assert simulator.factor_names == ("shape", "scale", "orientation", "pos_x",
                                    "pos_y")
  assert simulator.factors_num_values == [3, 6, 40, 32, 32]
  assert np.prod(simulator.factors_num_values) == 737280
  assert simulator.num_factors == 5
  assert simulator.observation_shape == (64, 64, 1)
  factors = simulator.sample_factors(1000, np.random.RandomState(0))
  assert factors.shape == (1000, 5) and factors.dtype == np.int64
  assert np.all(factors >= 0)
  assert np.all(factors < np.array(simulator.factors_num_values))
  # Uniform: every value of every factor shows up in 1000 draws of shape.
  assert set(factors[:, 0]) == {0, 1, 2}
  images = simulator.sample_observations_from_factors(factors[:10])
  assert images.shape == (10, 64, 64, 1) and images.dtype == np.float32


def test_images_are_binary_and_deterministic(simulator):
  factors = simulator.sample_factors(200, np.random.RandomState(1))
  first = simulator.sample_observations_from_factors(factors)
  second = simulator.sample_observations_from_factors(factors[::-1])[::-1]
  assert set(np.unique(first)) <= {0.0, 1.0}
  np.testing.assert_array_equal(first, second)
  assert np.all(first.reshape(200, -1).sum(1) > 20)  # never empty


def test_pos_x_moves_the_centre_of_mass_right(simulator):
  cols = [_centre_of_mass(_render(simulator, pos_x=x))[1] for x in range(32)]
  assert np.all(np.diff(cols) > 0.5)
  assert cols[-1] - cols[0] == pytest.approx(31, abs=0.5)


def test_pos_y_moves_the_centre_of_mass_down(simulator):
  for shape in range(3):
    rows = [_centre_of_mass(_render(simulator, shape=shape, pos_y=y))[0]
            for y in range(32)]
    assert np.all(np.diff(rows) > 0.5)


def test_scale_grows_the_area(simulator):
  for shape in range(3):
    areas = [_render(simulator, shape=shape, scale=s).sum() for s in range(6)]
    assert np.all(np.diff(areas) > 0)
    # Linear size 0.5 -> 1.0 quadruples the area (up to pixelisation).
    assert areas[-1] / areas[0] == pytest.approx(4.0, rel=0.15)


def test_orientation_rotates(simulator):
  # The heart has no rotational symmetry: every orientation differs, but the
  # area is preserved and the centre stays put.
  hearts = [_render(simulator, shape=2, orientation=o) for o in range(40)]
  areas = np.array([h.sum() for h in hearts])
  assert areas.std() / areas.mean() < 0.05
  for o in range(1, 40):
    assert np.abs(hearts[o] - hearts[0]).sum() > 10
  # A square repeats every quarter turn (10 of 40 steps) and an ellipse every
  # half turn: rotation by the symmetry angle gives the same picture.
  square = [_render(simulator, shape=0, orientation=o) for o in (0, 5, 10)]
  assert np.abs(square[0] - square[2]).sum() <= 4
  assert np.abs(square[0] - square[1]).sum() > 40
  ellipse = [_render(simulator, shape=1, orientation=o) for o in (0, 10, 20)]
  assert np.abs(ellipse[0] - ellipse[2]).sum() <= 4
  assert np.abs(ellipse[0] - ellipse[1]).sum() > 40


def test_the_three_shapes_differ(simulator):
  shapes = [_render(simulator, shape=s) for s in range(3)]
  for a in range(3):
    for b in range(a + 1, 3):
      assert np.abs(shapes[a] - shapes[b]).sum() > 40


def test_sprites_stay_inside_the_frame():
  templates = dsprites_simulator.render_templates().numpy()
  assert templates.shape == (720, 32, 32)
  border = np.concatenate([templates[:, 0], templates[:, -1],
                           templates[:, :, 0], templates[:, :, -1]], axis=1)
  assert border.max() == 0.0


def test_bad_factors_are_refused(simulator):
  with pytest.raises(ValueError, match=r"shape \[num, 5\]"):
    simulator.sample_observations_from_factors(np.zeros((2, 4), int))
  with pytest.raises(ValueError, match="out of range"):
    simulator.sample_observations_from_factors(np.array([[3, 0, 0, 0, 0]]))


def test_training_stream_is_seeded_and_resumable():
  def batches(seed, start, worker=0, count=3):
    dataset = dsprites_simulator.training_dataset(
        16, seed, start_batch=start, worker_index=worker)
    return [b.numpy() for b in dataset.take(count)]
  run = batches(5, 0, count=4)
  np.testing.assert_array_equal(run[0], batches(5, 0)[0])
  resumed = batches(5, 2, count=2)
  np.testing.assert_array_equal(run[2], resumed[0])
  np.testing.assert_array_equal(run[3], resumed[1])
  assert not np.array_equal(run[0], batches(6, 0)[0])
  assert not np.array_equal(run[0], batches(5, 0, worker=1)[0])
  assert run[0].shape == (16, 64, 64, 1) and run[0].dtype == np.float32


def test_registry_names():
  with pytest.raises(data.UnknownDatasetError, match="valid names"):
    data.training_dataset("mnist", 8, 0)
  with pytest.raises(data.DatasetUnavailableError, match="celeb_a"):
    data.training_dataset("celeb_a", 8, 0)
  dataset, shape = data.training_dataset("dsprites", 8, 0)
  assert shape == (64, 64, 1)
  assert next(iter(dataset)).shape == (8, 64, 64, 1)


def test_observation_index_is_the_official_row_order(simulator):
  assert simulator.num_observations == 3 * 6 * 40 * 32 * 32
  factors = np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0],
                      [1, 0, 0, 0, 0], [2, 5, 39, 31, 31]])
  np.testing.assert_array_equal(
      simulator.observation_index(factors),
      [0, 1, 32, 6 * 40 * 32 * 32, simulator.num_observations - 1])
  rs = np.random.RandomState(4)
  factors = simulator.sample_factors(50, rs)
  np.testing.assert_array_equal(
      simulator.observations_at(simulator.observation_index(factors)),
      simulator.sample_observations_from_factors(factors))
  with pytest.raises(ValueError, match="out of range"):
    simulator.observations_at([simulator.num_observations])
  with pytest.raises(ValueError, match="factors must have shape"):
    simulator.observation_index(factors[:, :4])
