"""Concurrent exports: distinct versions, no silent replacement, gap-free
overwrite, abandoned staging directories (tf_betavae.export_files).

Most races commit fake SavedModel directories (a marker in saved_model.pb
and variables/), so no TensorFlow runs in the racing processes; one test
races two real exports of a tiny model.
"""

import json
import os
import subprocess
import sys
import threading

import pytest

from tf_betavae import export_files

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import race_workers  # pylint: disable=g-import-not-at-top,wrong-import-position

ROOT = race_workers.ROOT
RACES = 24


def _fake_saved_model(path, marker):
  os.makedirs(os.path.join(path, "variables"))
  for name in ("saved_model.pb", os.path.join("variables",
                                              "variables.index")):
    with open(os.path.join(path, name), "w") as f:
      f.write(marker)


def _marker_of(version_dir):
  """The marker of a complete fake export; AssertionError if incomplete."""
  with open(os.path.join(version_dir, "saved_model.pb")) as f:
    marker = f.read()
  with open(os.path.join(version_dir, "variables", "variables.index")) as f:
    assert f.read() == marker, version_dir
  assert marker, version_dir
  return marker


def _complete(version_dir):
  """What a reader polling a version checks: both files there, non-empty.
  (The two files may come from successive exports: each is complete.)"""
  for name in ("saved_model.pb", os.path.join("variables",
                                              "variables.index")):
    with open(os.path.join(version_dir, name)) as f:
      assert f.read(), version_dir


def _commit_fake(export_root, marker, **kwargs):
  with export_files.staging(export_root, "m") as (model_root, staging):
    source = os.path.join(staging, "model")
    _fake_saved_model(source, marker)
    return export_files.commit(export_root, model_root, source, **kwargs)


def _staging_left(model_root):
  return [n for n in os.listdir(model_root)
          if n.startswith(export_files.STAGING_PREFIX)]


def test_two_processes_exporting_at_once_get_distinct_versions(tmp_path):
  root = str(tmp_path)
  seen = {}
  with race_workers.Workers(2) as workers:
    for race in range(RACES):
      answers = workers.race([
          {"op": "export", "root": root, "marker": f"{race}-{worker}"}
          for worker in range(2)])
      for worker, answer in enumerate(answers):
        assert "error" not in answer, answer
        assert answer["version"] not in seen, (race, answers)
        seen[answer["version"]] = f"{race}-{worker}"
  model_root = os.path.join(root, "m")
  assert sorted(seen) == list(range(1, 2 * RACES + 1))
  # No version was replaced: each holds what its committer wrote.
  for version, marker in seen.items():
    assert _marker_of(os.path.join(model_root, str(version))) == marker
  assert _staging_left(model_root) == []
  assert sorted(os.listdir(model_root), key=int) == [
      str(v) for v in range(1, 2 * RACES + 1)]


def test_existing_version_is_refused_without_overwrite(tmp_path):
  root = str(tmp_path)
  _commit_fake(root, "first", version=3)
  with pytest.raises(export_files.ExportError, match="already exists"):
    _commit_fake(root, "second", version=3)
  assert _marker_of(os.path.join(root, "m", "3")) == "first"
  assert os.listdir(os.path.join(root, "m")) == ["3"]
  with pytest.raises(export_files.ExportError, match="positive integer"):
    _commit_fake(root, "third", version=0)


def _watch_version_after_each_rename(monkeypatch, version_dir, states):
  """Records, after every rename or exchange the commit makes, whether
  ``version_dir`` is complete: what a server polling it could see."""
  real_rename = os.rename
  real_exchange = export_files._renameat2_exchange  # pylint: disable=protected-access

  def look():
    try:
      states.append(_marker_of(version_dir))
    except (OSError, AssertionError):
      states.append(None)

  def rename(*args, **kwargs):
    real_rename(*args, **kwargs)
    look()

  def exchange(*args):
    done = real_exchange(*args)
    look()
    return done
  monkeypatch.setattr(os, "rename", rename)
  monkeypatch.setattr(export_files, "_renameat2_exchange", exchange)


def test_overwrite_never_shows_a_missing_version(tmp_path, monkeypatch):
  root = str(tmp_path)
  version_dir = os.path.join(root, "m", "1")
  _commit_fake(root, "old", version=1)
  if not export_files._renameat2_exchange(  # pylint: disable=protected-access
      str(tmp_path / "m"), str(tmp_path / "m")):
    pytest.skip("no atomic directory exchange on this system")
  states = []
  _watch_version_after_each_rename(monkeypatch, version_dir, states)
  stop = threading.Event()
  polled, missing = [], []

  def poll():  # a reader polling the version, as a server would
    while not stop.is_set():
      try:
        _complete(version_dir)
        polled.append(True)
      except (OSError, AssertionError) as e:
        missing.append(repr(e))
  poller = threading.Thread(target=poll)
  poller.start()
  try:
    for overwrite in range(RACES):
      version, path = _commit_fake(root, f"new-{overwrite}", version=1,
                                   overwrite=True)
      assert (version, path) == (1, version_dir)
      assert _marker_of(version_dir) == f"new-{overwrite}"
  finally:
    stop.set()
    poller.join()
  assert missing == []
  assert polled
  assert None not in states and len(states) >= RACES
  assert sorted(os.listdir(os.path.join(root, "m"))) == ["1"]


def test_without_exchange_overwrite_falls_back_to_two_renames(tmp_path,
                                                             monkeypatch):
  root = str(tmp_path)
  version_dir = os.path.join(root, "m", "1")
  _commit_fake(root, "old", version=1)
  monkeypatch.setattr(export_files, "_renameat2_exchange",
                      lambda source, target: False)
  states = []
  _watch_version_after_each_rename(monkeypatch, version_dir, states)
  _commit_fake(root, "new", version=1, overwrite=True)
  assert _marker_of(version_dir) == "new"
  # The documented gap: between the two renames the version is missing
  # (which the exchange avoids, and the check above would catch).
  assert None in states
  assert states[-1] == "new"
  assert sorted(os.listdir(os.path.join(root, "m"))) == ["1"]


_HOLDER = r"""
import sys
from tf_betavae import export_files
with export_files.staging(sys.argv[1], "m") as (model_root, staging):
  print(staging, flush=True)
  sys.stdin.readline()
"""


def test_staging_of_a_dead_exporter_is_removed_a_live_one_kept(tmp_path):
  root = str(tmp_path)
  env = dict(os.environ, PYTHONPATH=ROOT)
  holder = subprocess.Popen([sys.executable, "-c", _HOLDER, root], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
  try:
    staging = holder.stdout.readline().strip()
    assert os.path.isdir(staging)
    _commit_fake(root, "a")
    assert os.path.isdir(staging)  # its exporter is alive
    holder.kill()  # like kill -9: no clean-up of its own
    holder.wait(timeout=60)
    assert os.path.isdir(staging)
    _commit_fake(root, "b")
    assert not os.path.exists(staging)
  finally:
    if holder.poll() is None:
      holder.kill()
      holder.wait(timeout=60)
  assert sorted(os.listdir(os.path.join(root, "m"))) == ["1", "2"]


_REAL_EXPORTER = r"""
import sys
from tf_betavae import export, models
model = models.build_model("mlp", latent_dim=2, image_shape=(8, 8, 1))
print("ready", flush=True)
sys.stdin.readline()
print(export.export_model(model, sys.argv[1], model_name="m"), flush=True)
"""


@pytest.mark.slow  # two TensorFlow processes: tens of seconds on 2 cores
def test_two_real_exports_at_once(tmp_path):
  root = str(tmp_path)
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  processes = [subprocess.Popen([sys.executable, "-c", _REAL_EXPORTER, root],
                                env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
  try:
    for process in processes:
      assert process.stdout.readline().strip() == "ready"
    for process in processes:
      process.stdin.write("go\n")
      process.stdin.flush()
    paths = [process.stdout.readline().strip() for process in processes]
    for process in processes:
      assert process.wait(timeout=300) == 0
  finally:
    for process in processes:
      if process.poll() is None:
        process.kill()
  model_root = os.path.join(root, "m")
  assert sorted(paths) == [os.path.join(model_root, "1"),
                           os.path.join(model_root, "2")]
  assert sorted(os.listdir(model_root)) == ["1", "2"]
  for path in paths:
    with open(os.path.join(path, "assets",
                           export_files.METADATA_FILENAME)) as f:
      assert json.load(f)["version"] == int(os.path.basename(path))
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))
