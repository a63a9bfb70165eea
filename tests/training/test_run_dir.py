"""Run directories: settings changed on resume are recorded and exported."""

import pytest

from tf_betavae import training
from tf_betavae.training import run_dir


def _config(**overrides):
  # The small MLP: what is checked is the settings' record, not the net.
  values = dict(steps=20, log_every=10, checkpoint_every=10, seed=1,
                learning_rate=1e-3, arch="mlp", image_summary_every=0)
  values.update(overrides)
  return training.TrainConfig(**values)


# A long run (two trainings, 48 s in CI): -m slow.
@pytest.mark.slow
def test_settings_changed_on_resume_are_recorded_and_exported(tmp_path):
  model_dir, export_dir = str(tmp_path / "m"), str(tmp_path / "e")
  training.train(_config(steps=10, beta=16.0), model_dir)
  assert training.settings_history(model_dir) == []
  # β and learning rate change at step 10; the run length and log cadence
  # do not count as changes.
  training.train(_config(steps=20, beta=8.0, learning_rate=5e-4,
                         log_every=5), model_dir)
  expected = [{"step": 10, "changes": {"beta": [16.0, 8.0],
                                       "learning_rate": [1e-3, 5e-4]}}]
  assert training.settings_history(model_dir) == expected
  # Resuming again with the settings it now has records nothing new.
  summary = training.train(_config(steps=30, beta=8.0, learning_rate=5e-4),
                           model_dir, export_dir)
  assert training.settings_history(model_dir) == expected
  from tf_betavae import export  # pylint: disable=g-import-not-at-top
  metadata = export.read_metadata(summary["export_path"])
  assert metadata["hyperparameters"]["beta"] == 8.0
  assert metadata["settings_changes"] == expected
  # A run trained with one set of settings says so.
  plain = training.train(_config(steps=10), str(tmp_path / "p"), export_dir)
  assert export.read_metadata(plain["export_path"])["settings_changes"] == []
  # Changes at or after the exported step trained nothing: left out.
  assert export.training_metadata(_config(), 10, expected)[
      "settings_changes"] == []


def test_changes_at_one_step_make_one_history_entry(tmp_path):
  """Two resumes at the same step (nothing trained between) leave one entry."""
  model_dir = str(tmp_path)
  stored = _config(beta=16.0).to_dict()
  record = run_dir.record_setting_changes
  record(_config(beta=8.0), stored, model_dir, 10)
  # A crash before run_config.json was rewritten: the same change again.
  record(_config(beta=8.0), stored, model_dir, 10)
  assert training.settings_history(model_dir) == [
      {"step": 10, "changes": {"beta": [16.0, 8.0]}}]
  # Changed again before any step trained: one entry from the first
  # settings to the last.
  record(_config(beta=4.0, learning_rate=5e-4), _config(beta=8.0).to_dict(),
         model_dir, 10)
  assert training.settings_history(model_dir) == [
      {"step": 10, "changes": {"beta": [16.0, 4.0],
                               "learning_rate": [1e-3, 5e-4]}}]
  # Back to the settings that trained before step 10: nothing changed there.
  record(_config(beta=16.0), _config(beta=4.0, learning_rate=5e-4).to_dict(),
         model_dir, 10)
  assert training.settings_history(model_dir) == []
  # A change at a later step is a new entry.
  record(_config(beta=8.0), _config(beta=16.0).to_dict(), model_dir, 20)
  assert training.settings_history(model_dir) == [
      {"step": 20, "changes": {"beta": [16.0, 8.0]}}]


def test_settings_of_another_method_are_not_changes(tmp_path):
  """A FactorVAE run resumed with another β trained nothing differently."""
  model_dir = str(tmp_path)
  record = run_dir.record_setting_changes
  stored = _config(method="factor_vae", beta=4.0).to_dict()
  record(_config(method="factor_vae", beta=8.0), stored, model_dir, 10)
  assert training.settings_history(model_dir) == []
  # Its own settings still count, and β counts for a method that reads it.
  record(_config(method="factor_vae", beta=8.0, factor_gamma=20.0), stored,
         model_dir, 10)
  assert training.settings_history(model_dir) == [
      {"step": 10, "changes": {"factor_gamma": [10.0, 20.0]}}]
  stored_tc = _config(method="beta_tc_vae", beta=4.0).to_dict()
  record(_config(method="beta_tc_vae", beta=6.0), stored_tc, model_dir, 20)
  assert training.settings_history(model_dir)[-1] == {
      "step": 20, "changes": {"beta": [4.0, 6.0]}}
  # A change of method is a change of everything it reads: β is recorded.
  record(_config(method="beta_vae", beta=8.0), stored, model_dir, 30)
  assert training.settings_history(model_dir)[-1]["changes"]["beta"] == [
      4.0, 8.0]
