"""Official dSprites files with hostile contents, mixed by hypothesis.

Each case writes a small .npz or .hdf5 whose arrays may be missing, of the
wrong shape or dtype, disagree in length, hold classes outside the grid,
or whose file is cut short.  Loading must give either a dataset that
matches the file (its images and factors) or DatasetUnavailableError /
ValueError naming the file; never a silently different dataset, never any
other exception.
"""

import os

import h5py
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import pytest

from tf_betavae import data
from tf_betavae.data import dsprites_official

_GRID = dsprites_official.FACTORS_NUM_VALUES

FAULTS = ("none", "no_imgs", "no_classes", "imgs_2d", "imgs_32px",
          "imgs_float", "imgs_rgb", "classes_5_columns", "classes_float",
          "classes_out_of_grid", "classes_negative", "fewer_classes",
          "no_rows", "truncated", "duplicate_rows")


def _arrays(rows, seed):
  """Consistent images uint8 [rows, 64, 64] and classes int64 [rows, 6] of
  distinct grid points."""
  rng = np.random.RandomState(seed)
  flat = rng.choice(int(np.prod(_GRID)), rows, replace=False)
  factors = np.stack(np.unravel_index(flat, _GRID), axis=1)
  classes = np.concatenate([np.zeros((rows, 1), np.int64), factors], axis=1)
  images = (rng.uniform(size=(rows, 64, 64)) < 0.2).astype(np.uint8)
  return images, classes


def _faulty(fault, images, classes):
  """(images or None, classes or None) with ``fault`` applied."""
  if fault == "no_imgs":
    return None, classes
  if fault == "no_classes":
    return images, None
  if fault == "imgs_2d":
    return images.reshape(len(images), -1), classes
  if fault == "imgs_32px":
    return images[:, :32, :32], classes
  if fault == "imgs_float":
    return images.astype(np.float64) * 0.7, classes
  if fault == "imgs_rgb":
    return np.repeat(images[..., None], 3, axis=-1), classes
  if fault == "classes_5_columns":
    return images, classes[:, 1:]
  if fault == "classes_float":
    return images, classes.astype(np.float64) + 0.5
  if fault == "classes_out_of_grid":
    classes = classes.copy()
    classes[0, 2] = 99
    return images, classes
  if fault == "classes_negative":
    classes = classes.copy()
    classes[-1, 4] = -1
    return images, classes
  if fault == "fewer_classes":
    return images, classes[:-1]
  if fault == "no_rows":
    return images[:0], classes[:0]
  if fault == "duplicate_rows":
    return (np.concatenate([images, images[:1]]),
            np.concatenate([classes, classes[:1]]))
  return images, classes


def _write(path, images, classes):
  if path.endswith(".npz"):
    arrays = {"latents_values": np.zeros((4, 6))}
    if images is not None:
      arrays["imgs"] = images
    if classes is not None:
      arrays["latents_classes"] = classes
    np.savez(path, **arrays)
    return
  with h5py.File(path, "w") as f:
    if images is not None:
      f.create_dataset("imgs", data=images)
    if classes is not None:
      f.create_dataset("latents/classes", data=classes)


def _check(path, fault, images, classes):
  dsprites_official._LOADED.clear()  # pylint: disable=protected-access
  try:
    gt = data.ground_truth("dsprites_official", dsprites_file=path)
  except (data.DatasetUnavailableError, ValueError) as e:
    assert fault != "none", f"a valid file was refused: {e}"
    assert os.path.basename(path) in str(e), (
        f"the error does not name the file: {e}")
    return
  # Accepted: it must be exactly the file's data.
  # Float images are thresholded like uint8 ones (nonzero = sprite); a
  # repeated grid point keeps its first row, with a warning.
  assert fault in ("none", "imgs_float", "duplicate_rows"), (
      f"{fault} was accepted silently")
  assert gt.observation_shape == (64, 64, 1)
  factors = classes[:, 1:]
  observed = gt.sample_observations_from_factors(
      factors, np.random.RandomState(0))
  assert observed.shape == (len(factors), 64, 64, 1)
  np.testing.assert_array_equal(observed[..., 0], (images > 0).astype(
      np.float32))


@st.composite
def _cases(draw):
  return (draw(st.sampled_from(FAULTS)), draw(st.sampled_from([".npz",
                                                                ".hdf5"])),
          draw(st.integers(1, 12)), draw(st.integers(0, 2**16)))


def _fuzz(tmp_path_factory, budget):

  @settings(max_examples=budget, deadline=None, derandomize=True,
            database=None, suppress_health_check=list(HealthCheck))
  @given(_cases())
  def check(case):
    fault, suffix, rows, seed = case
    images, classes = _arrays(rows, seed)
    bad_images, bad_classes = _faulty(fault, images, classes)
    path = str(tmp_path_factory.mktemp("dsprites") /
               (dsprites_official.FILE_STEM + suffix))
    _write(path, bad_images, bad_classes)
    if fault == "truncated":
      size = os.path.getsize(path)
      with open(path, "r+b") as f:
        f.truncate(size * 2 // 3)
    _check(path, fault, images, classes)

  check()


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("suffix", [".npz", ".hdf5"])
def test_each_fault_once(tmp_path, fault, suffix):
  images, classes = _arrays(5, 0)
  path = str(tmp_path / (dsprites_official.FILE_STEM + suffix))
  bad_images, bad_classes = _faulty(fault, images, classes)
  _write(path, bad_images, bad_classes)
  if fault == "truncated":
    with open(path, "r+b") as f:
      f.truncate(os.path.getsize(path) * 2 // 3)
  _check(path, fault, images, classes)


@pytest.mark.parametrize("budget", [
    pytest.param(10, id="default"),
    pytest.param(300, id="long", marks=pytest.mark.slow)])
def test_hostile_dsprites_files(tmp_path_factory, budget):
  _fuzz(tmp_path_factory, budget)
