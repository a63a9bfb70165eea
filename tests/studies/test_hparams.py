"""tf_betavae.studies.hparams: TensorBoard HParams sessions of a study."""

import glob
import os

import pytest
from tensorboard import context
from tensorboard.backend.event_processing import data_provider
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import backend_context
from tensorboard.plugins.hparams import list_session_groups
from tensorboard.plugins.hparams import metadata

from tf_betavae.studies import hparams
from tf_betavae.studies import spec as spec_lib

METRICS = ("mig", "dci")


def _spec():
  return spec_lib.StudySpec(
      name="hparams_test", datasets=("dsprites", "shapes3d"),
      methods=(("beta_vae", (1, 4)),), seeds=(0, 1), steps=30,
      metrics=METRICS)


def _rows(spec):
  """Rows as report.collect gives them: the first three jobs done (scores
  known), the fourth failed, the rest pending."""
  rows = []
  for index, job in enumerate(spec_lib.jobs(spec)):
    done = index < 3
    rows.append({
        "model_num": job.model_num, "job_id": spec_lib.job_id(job),
        "dataset": job.dataset, "method": job.method,
        "hyperparameter": job.hyperparameter, "value": float(job.value),
        "seed": job.seed, "steps": 30,
        "state": "done" if done else ("failed" if index == 3 else "pending"),
        "mig": 0.25 * index if done else None,
        "dci": 0.5 + 0.125 * index if done else None,
        "udr_lasso": 0.375 if index == 1 else None, "udr_spearman": None,
        "reconstruction": 90.5 - index if done else None,
        "kl": 3.0 + index if done else None})
  return rows


def _events(directory):
  return glob.glob(os.path.join(directory, "*tfevents*"))


def _accumulator(directory):
  accumulator = event_accumulator.EventAccumulator(directory)
  accumulator.Reload()
  return accumulator


def test_sessions_hold_the_hparams_and_metrics_of_done_jobs(tmp_path):
  spec, root = _spec(), str(tmp_path)
  rows = _rows(spec)
  paths = hparams.write_hparams(root, spec, rows)
  assert len(paths) == 4  # the experiment, three sessions
  assert sorted(os.listdir(os.path.join(root, "hparams"))) == sorted(
      [r["job_id"] for r in rows[:3]] + [os.path.basename(paths[0])])

  row = rows[1]
  accumulator = _accumulator(os.path.join(root, "hparams", row["job_id"]))
  start = metadata.parse_session_start_info_plugin_data(
      accumulator.SummaryMetadata(
          metadata.SESSION_START_INFO_TAG).plugin_data.content)
  assert start.group_name == row["job_id"]
  assert start.hparams["dataset"].string_value == "dsprites"
  assert start.hparams["method"].string_value == "beta_vae"
  assert start.hparams["value"].number_value == 1.0
  assert start.hparams["seed"].number_value == 1
  assert start.hparams["steps"].number_value == 30
  end = metadata.parse_session_end_info_plugin_data(
      accumulator.SummaryMetadata(
          metadata.SESSION_END_INFO_TAG).plugin_data.content)
  assert end.status == api_pb2.STATUS_SUCCESS
  scalars = accumulator.Tags()["scalars"]
  assert sorted(scalars) == ["dci", "kl", "mig", "reconstruction",
                             "udr_lasso"]
  for tag in scalars:
    (event,) = accumulator.Scalars(tag)
    assert event.step == 30
    assert event.value == pytest.approx(row[tag], rel=1e-6)

  experiment = metadata.parse_experiment_plugin_data(
      _accumulator(os.path.join(root, "hparams")).SummaryMetadata(
          metadata.EXPERIMENT_TAG).plugin_data.content)
  infos = {info.name: info for info in experiment.hparam_infos}
  assert sorted(infos) == ["dataset", "method", "seed", "steps", "value"]
  assert [v.string_value for v in infos["dataset"].domain_discrete.values
          ] == ["dsprites", "shapes3d"]
  assert infos["seed"].domain_interval.max_value == 1
  assert [m.name.tag for m in experiment.metric_infos] == [
      "mig", "dci", "udr_lasso", "udr_spearman", "reconstruction", "kl"]


def test_rewriting_replaces_sessions_and_drops_undone_ones(tmp_path):
  spec, root = _spec(), str(tmp_path)
  rows = _rows(spec)
  hparams.write_hparams(root, spec, rows)
  rows[0]["mig"] = 0.875
  rows[2]["state"] = "running"  # its done marker went away
  hparams.write_hparams(root, spec, rows)
  for row in rows[:2]:
    assert len(_events(os.path.join(root, "hparams", row["job_id"]))) == 1
  assert len(_events(os.path.join(root, "hparams"))) == 1
  assert _events(os.path.join(root, "hparams", rows[2]["job_id"])) == []
  accumulator = _accumulator(os.path.join(root, "hparams", rows[0]["job_id"]))
  assert [e.value for e in accumulator.Scalars("mig")] == [0.875]
  assert not glob.glob(os.path.join(root, "hparams", "**", ".tmp-*"),
                       recursive=True)


def test_the_hparams_plugin_lists_one_session_per_done_job(tmp_path):
  spec, root = _spec(), str(tmp_path)
  rows = _rows(spec)
  # A training's own logs elsewhere in the study directory stay apart.
  loss = summary_pb2.Summary()
  loss.value.add(tag="loss", simple_value=1.5)
  hparams.write_events(
      os.path.join(root, "jobs", rows[0]["job_id"], "model", "train"),
      [(10, loss)], wall_time=1.0)
  hparams.write_hparams(root, spec, rows)
  hparams.write_hparams(root, spec, rows)
  multiplexer = plugin_event_multiplexer.EventMultiplexer()
  multiplexer.AddRunsFromDirectory(root)
  multiplexer.Reload()
  provider = data_provider.MultiplexerDataProvider(multiplexer, root)
  backend = backend_context.Context(
      base_plugin.TBContext(data_provider=provider, logdir=root))
  request = api_pb2.ListSessionGroupsRequest(
      start_index=0, slice_size=100,
      allowed_statuses=[api_pb2.STATUS_SUCCESS, api_pb2.STATUS_UNKNOWN])
  response = list_session_groups.Handler(
      context.RequestContext(), backend, "", request).run()
  assert response.total_size == 3
  groups = {g.name: g for g in response.session_groups}
  assert sorted(groups) == sorted(r["job_id"] for r in rows[:3])
  group = groups[rows[2]["job_id"]]
  assert group.hparams["value"].number_value == 4.0
  values = {m.name.tag: m.value for m in group.metric_values}
  assert values["mig"] == pytest.approx(0.5)
  assert values["dci"] == pytest.approx(0.75)
