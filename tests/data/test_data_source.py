"""A run's data source, and every program that reads a run's data again.

One short run on a reduced official dSprites file (and one on mocked tfds
data) is trained here; its pictures, traverse, evaluate, model selection,
transfer, sweeps and reproductions must all read the file the run read, and
never the dataset's default place (where nothing is prepared).
"""

import os
import types

import numpy as np
import pytest

from tf_betavae import data
from tf_betavae import export
from tf_betavae import training
from tf_betavae.data import dsprites_official
from tf_betavae.experiments import model_loading
from tf_betavae.experiments import selection
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.experiments import standalone
from tf_betavae.experiments import sweep_settings
from tf_betavae.visualize import picture_files
from tf_betavae.visualize import training_hook
import data_test_utils as utils

PICTURES = ("traversal.png", "reconstructions.png", "kl_per_latent.png",
            "traversal.gif")
# Every shape and scale at a few orientations and positions: 216 of the
# grid's 737,280 combinations (a file of the whole grid is 3 GB unpacked).
_GRID = np.stack(np.meshgrid(np.arange(3), np.arange(6), [0, 7], [3, 20],
                             [0, 15, 31], indexing="ij"), -1).reshape(-1, 5)
_QUICK = ["--steps=2", "--batch_size=4", "--log_every=1",
          "--checkpoint_every=2", "--latent_dim=3", "--image_summary_every=1"]


def test_source_of_a_config_a_dict_and_overrides():
  config = training.TrainConfig(dataset="dsprites_official",
                                dsprites_file="/data/d.npz")
  official = data.DataSource("dsprites_official", dsprites_file="/data/d.npz")
  assert data.source_of(config) == official
  assert data.source_of(config.to_dict()) == official
  assert data.source_of(official) == official
  assert data.source_of("color_dsprites") == data.DataSource("color_dsprites")
  # A given location replaces all the recorded ones: a recorded file would
  # otherwise win over the data_dir given on another machine.
  assert data.source_of(config, data_dir="/here/d.npz") == data.DataSource(
      "dsprites_official", data_dir="/here/d.npz")
  # Another dataset keeps none of the recorded paths.
  assert data.source_of(config, dataset="dsprites") == data.DataSource(
      "dsprites")
  assert data.source_of(config, dataset="dsprites_official") == official
  # Unset flags may be written as empty strings.
  assert data.source_of({"dataset": "shapes3d",
                         "data_dir": ""}).data_dir is None
  with pytest.raises(ValueError, match="no dataset"):
    data.source_of({"latent_dim": 3})
  with pytest.raises(ValueError, match="data_dir must be a path, got 3"):
    data.source_of({"dataset": "shapes3d", "data_dir": 3})


@pytest.fixture(scope="module")
def official_run(tmp_path_factory):
  """A 2-step run on a reduced official file: (file, run dir, export dir,
  warnings the pictures hook logged)."""
  folder = tmp_path_factory.mktemp("official_run")
  path = str(folder / dsprites_official.FILE_NAMES[0])
  np.savez_compressed(path, **utils.official_dsprites_subset(
      np.random.RandomState(0).permutation(_GRID)))
  warnings = []
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(training_hook.logging, "warning",
                  lambda message, *args: warnings.append(message % args))
    code = utils.run_train(_QUICK + [
        f"--dsprites_file={path}", f"--model_dir={folder}/run",
        f"--export_dir={folder}/exported"])
  assert code == 0
  summary = utils.read_json(folder / "run" / "train_summary.json")
  return path, str(folder / "run"), summary["export_path"], warnings


def test_training_draws_its_pictures_from_the_file(official_run):
  _, run_dir, _, warnings = official_run
  assert not warnings  # e.g. "image summaries at step 1 failed: ..."
  for name in PICTURES:
    assert os.path.getsize(os.path.join(run_dir, name)) > 0, name
  # The reduced file lacks the combinations the factor-response plot fixes.
  assert not os.path.exists(os.path.join(run_dir, "factor_response.png"))


def test_the_export_records_where_the_run_read_its_data(official_run):
  path, _, export_path, _ = official_run
  metadata = export.read_metadata(export_path)
  assert metadata["dataset"] == "dsprites_official"
  assert metadata["dsprites_file"] == os.path.abspath(path)
  assert metadata["data_dir"] is None and metadata["scream_image"] is None


@pytest.mark.parametrize("model", ["model_dir", "export"])
def test_traverse_reads_the_file(official_run, tmp_path, model):
  _, run_dir, export_path, _ = official_run
  written = picture_files.write_pictures(
      output_dir=str(tmp_path), num_images=6, gif_frames=2,
      **{model: run_dir if model == "model_dir" else export_path})
  assert sorted(os.path.basename(p) for p in written.values()) == sorted(
      PICTURES)


def test_traverse_takes_another_place_for_the_data(official_run, tmp_path):
  path, _, export_path, _ = official_run
  moved = tmp_path / "moved.npz"
  os.link(path, moved)
  source, _ = picture_files.load_source(export=export_path)
  assert picture_files.model_data(source, data_dir=str(moved)) == (
      data.DataSource("dsprites_official", data_dir=str(moved)))
  with pytest.raises(picture_files.PicturesError, match="no such file"):
    picture_files.write_pictures(export=export_path,
                                 data_dir=str(tmp_path / "gone.npz"))


def test_evaluate_from_the_run_dir_reads_the_file(official_run):
  path, run_dir, export_path, _ = official_run
  request = standalone.EvaluationRequest(
      saved_model=run_dir, metrics="mig", num_train=40, code_table="never",
      write_beside_model=False)
  assert standalone.request_data(request) == data.DataSource(
      "dsprites_official", dsprites_file=path)
  resolved = standalone.resolve(request)
  assert resolved.saved_model == export_path
  assert resolved.dsprites_file == path
  results = standalone.evaluate(request)
  assert results["mig"]["dataset"] == "dsprites_official"
  assert results["mig"]["representation"]["saved_model"] == os.path.abspath(
      export_path)
  # Naming the simulator evaluates on the simulator.
  assert standalone.request_data(standalone.EvaluationRequest(
      saved_model=run_dir, dataset="dsprites")) == data.DataSource("dsprites")


def test_transfer_and_selection_read_the_file(official_run):
  path, run_dir, export_path, _ = official_run
  official = data.DataSource("dsprites_official", dsprites_file=path)
  assert model_loading.model_data(run_dir) == official
  from_export = model_loading.model_data(os.path.dirname(export_path))
  assert from_export.dsprites_file == os.path.abspath(path)
  assert model_loading.model_data(None) == data.DataSource("dsprites")
  models = [types.SimpleNamespace(metadata={}),
            types.SimpleNamespace(metadata=export.read_metadata(export_path))]
  assert selection.models_data(models, "dsprites_official").dsprites_file == (
      os.path.abspath(path))
  assert selection.models_data(models, "dsprites_official",
                               data_dir=path).dsprites_file is None


def test_sweeps_and_reproductions_read_the_file(official_run):
  path = official_run[0]
  base, ground_truth = sweep_settings.prepare(2, [1.0], "dsprites_official",
                                              data_dir=path)
  assert data.source_of(base).data_dir == path
  assert ground_truth.num_rows == len(_GRID)
  settings = settings_lib.Settings(work_dir="unused", dsprites_file=path)
  assert data.source_of(settings) == data.DataSource("dsprites_official",
                                                     dsprites_file=path)
  run_config = settings.model_train_config("beta_vae", 0)
  assert data.source_of(run_config) == data.source_of(settings)


def test_a_run_on_mocked_tfds_data_draws_and_traverses(tmp_path):
  tfds = pytest.importorskip("tensorflow_datasets")
  warnings = []
  with tfds.testing.mock_data(num_examples=24), \
      pytest.MonkeyPatch.context() as patch:
    patch.setattr(training_hook.logging, "warning",
                  lambda message, *args: warnings.append(message % args))
    code = utils.run_train(_QUICK + [
        "--dataset=shapes3d", "--data_dir=/nonexistent", "--export_dir=",
        f"--model_dir={tmp_path}/run"])
    assert code == 0
    assert not warnings
    for name in PICTURES:
      assert os.path.exists(tmp_path / "run" / name), name
    written = picture_files.write_pictures(
        model_dir=str(tmp_path / "run"), num_images=6, gif_frames=2)
  assert all(os.path.exists(p) for p in written.values())
