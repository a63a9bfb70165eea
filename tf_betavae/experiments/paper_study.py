"""The paper study: what a reproduction trains, as a study.

A reproduction's trained models (the β-VAE, the plain VAE and each other
method's row, over their seeds) are the jobs of one study
(tf_betavae.studies), run by the study's engines like any other study:

  <work_dir>/study/study.json              the study (``paper_spec``)
  <work_dir>/study/jobs/<job_id>/...       one trained model and seed
  <work_dir>/study/udr/...                 UDR of each model's seeds

so a reproduction trains, resumes, scores and ranks its models exactly as
``scripts/study.py --preset=paper`` does.  The reproduction adds what only
it has: the baselines, the table beside the paper's, the checks.

``paper_spec(settings)`` turns a reproduction's Settings into that
StudySpec: the β-VAE's training settings are the shared ones; what another
row trains differently (the VAE without the β-VAE's warm-up, a method's
own learning rate) is a group setting; the VAE's fewer reference seeds are
its group's seeds; the metric entries and their sizes become the study's
metrics (``beta_vae_dl`` is the study's ``beta_vae``).
"""

import os

from tf_betavae import training
from tf_betavae.experiments import evaluations
from tf_betavae.experiments import parallel
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.models import methods as methods_lib
from tf_betavae.studies import spec as spec_lib

NAME = "paper"
STUDY_SUBDIR = "study"
# A reproduction's metric keys whose study key differs (the study names
# disentanglement_lib's protocol of the β-VAE metric plainly).
_STUDY_METRIC = {"beta_vae_dl": "beta_vae"}
# What the grid sets per job; the rest of a TrainConfig is a setting.
_GRID_FIELDS = ("dataset", "method", "seed", "steps")


def study_metric(metric_key):
  """The study's key of a reproduction's metric entry."""
  return _STUDY_METRIC.get(metric_key, metric_key)


def study_dir(settings):
  """<work_dir>/study of a reproduction."""
  return os.path.join(settings.work_dir, STUDY_SUBDIR)


def trained_groups(settings):
  """[(model key, method, value)] of the table's trained models, in table
  order: the β-VAE at the recipe's β, the VAE at β = 1, each other
  method's row at its value."""
  groups = []
  for model, _, kind in settings.table_models():
    if kind != "trained":
      continue
    if model in settings.methods:
      groups.append((model, model, float(settings.methods[model])))
    else:
      groups.append((model, "beta_vae", float(settings.model_beta(model))))
  return groups


def _config_settings(settings, model, method, seed):
  """A model's TrainConfig as settings: every field but the grid's and the
  method's hyperparameter."""
  values = settings.model_train_config(model, seed).to_dict()
  for name in _GRID_FIELDS + (methods_lib.get(method).hyperparameter,):
    values.pop(name, None)
  return values


def threads_per_job(settings):
  """TensorFlow threads of each job: this machine's CPUs shared by the
  trainings a reproduction runs at once (as its pinned workers always
  split them)."""
  return max(1, len(parallel.available_cpus()) // settings.parallel_runs)


def paper_spec(settings):
  """The StudySpec of a reproduction's trained models.

  Args:
    settings: tf_betavae.experiments.settings.Settings (validated).

  Returns:
    spec_lib.StudySpec named "paper": one dataset; beta_vae at the recipe's
    β and at 1 (one value when β is 1), each other method at its value;
    the reproduction's seeds, steps, metrics and sizes, metric seed, UDR
    sample and threads.
  """
  groups = trained_groups(settings)
  seed = settings.seeds[0]
  # Every method's hyperparameter is a grid's, never a shared setting
  # (left out whichever rows the table has, so the β-VAE's jobs are the
  # same jobs beside any other rows).
  shared = {name: value for name, value in _config_settings(
      settings, "beta_vae", "beta_vae", seed).items()
            if name not in {m.hyperparameter
                            for m in methods_lib.METHODS.values()}}
  defaults = training.TrainConfig().to_dict()
  methods, group_settings, group_seeds = {}, [], []
  for model, method, value in groups:
    if value in methods.setdefault(method, []):
      continue  # β = 1: the β-VAE is the VAE
    methods[method].append(value)
    own = _config_settings(settings, model, method, seed)
    differ = {name: v for name, v in own.items()
              if shared.get(name, defaults.get(name)) != v}
    if differ:
      group_settings.append((method, value, differ))
    seeds = settings.model_seeds(model)
    if list(seeds) != list(settings.seeds):
      group_seeds.append((method, value, tuple(seeds)))
  metrics = tuple(study_metric(k) for k in settings.metrics)
  sizes = {study_metric(k): evaluations.metric_sizes(settings, "beta_vae", k)
           for k in settings.metrics}
  return spec_lib.StudySpec(
      name=NAME, datasets=(settings.dataset,),
      methods=tuple((m, tuple(v)) for m, v in methods.items()),
      seeds=tuple(settings.seeds), steps=settings.steps, metrics=metrics,
      train_settings=shared,
      metric_sizes={k: v for k, v in sizes.items() if v != (None, None)},
      metric_seed=settings.metric_seed,
      udr_num_points=settings.udr_num_points,
      threads_per_job=threads_per_job(settings),
      representations=(settings.representation,),
      group_seeds=tuple(group_seeds), group_settings=tuple(group_settings))


def default_spec(steps=None):
  """``paper_spec`` of reproduce.py's default preset (cpu), for
  ``scripts/study.py --preset=paper``; ``steps`` replaces its steps."""
  settings = settings_lib.settings_from_preset("cpu", STUDY_SUBDIR,
                                               steps=steps)
  return paper_spec(settings)


def job_of_group(spec, method, value, seed):
  """The study's Job of one trained (method, value) and seed."""
  for job in spec_lib.jobs(spec):
    if (job.method, job.value, job.seed) == (method, float(value), seed):
      return job
  raise KeyError(f"the paper study has no job {method} {value:g} seed "
                 f"{seed}")
