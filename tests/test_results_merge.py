"""Results beside an export: concurrent evaluations keep both results
(tf_betavae.export_files.record_results), raced in processes without
TensorFlow."""

import json
import os
import sys

from tf_betavae import export_files

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import race_workers  # pylint: disable=g-import-not-at-top,wrong-import-position

RACES = 24


def _fake_export(path):
  os.makedirs(os.path.join(path, "assets"))
  with open(os.path.join(path, "assets", export_files.METADATA_FILENAME),
            "w") as f:
    json.dump({"latent_dim": 2}, f)
  return str(path)


def _results(race, *names, protocol=None):
  results = {}
  for name in names:
    results[name] = {"score": race / 100, "dataset": "dsprites", "seed": race}
    if name == "beta_vae":
      results[name]["protocol"] = protocol
  return results


def test_two_processes_recording_at_once_keep_both(tmp_path):
  with race_workers.Workers(2) as workers:
    for race in range(RACES):
      export_dir = _fake_export(tmp_path / str(race))
      first = _results(race, "mig", "beta_vae",
                       protocol="disentanglement_lib")
      second = _results(race, "sap", "beta_vae", protocol="paper")
      answers = workers.race([
          {"op": "record", "dir": export_dir, "results": first},
          {"op": "record", "dir": export_dir, "results": second}])
      assert answers == [{"ok": True}, {"ok": True}], answers
      with open(os.path.join(export_dir, "metrics.json")) as f:
        stored = json.load(f)
      assert stored == {"mig": first["mig"], "sap": second["sap"],
                        "beta_vae": first["beta_vae"],
                        "beta_vae:paper": second["beta_vae"]}, race
      with open(os.path.join(export_dir, "assets",
                             export_files.METADATA_FILENAME)) as f:
        metadata = json.load(f)
      assert metadata["latent_dim"] == 2
      assert sorted(metadata["metrics"]) == ["beta_vae", "beta_vae:paper",
                                             "mig", "sap"], race
      assert metadata["metrics"]["beta_vae:paper"]["protocol"] == "paper"
      assert sorted(os.listdir(export_dir)) == [
          export_files.METRICS_LOCK, "assets", "metrics.json"]


def test_a_later_result_of_the_same_metric_replaces_the_earlier(tmp_path):
  export_dir = _fake_export(tmp_path / "1")
  export_files.record_results(export_dir, _results(1, "mig", "sap"))
  merged, metadata = export_files.record_results(export_dir,
                                                 _results(2, "mig"))
  assert merged["mig"]["score"] == 0.02 and merged["sap"]["score"] == 0.01
  assert metadata["metrics"]["mig"] == {"score": 0.02, "dataset": "dsprites",
                                        "seed": 2}
