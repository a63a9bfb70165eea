"""Experiments: reproductions, sweeps and label-free model selection.

Modules (each imported on its own; this package imports none of them, so
worker processes stay light until they are pinned):

* ``settings``: what a reproduction is: the models and metric entries of
  its table (other methods' rows and their default values included),
  Recipe, Preset, PRESETS, Settings, ``settings_from_preset``.
* ``paper_study``: a reproduction's trained models as a study of
  tf_betavae.studies (the ``paper`` preset): its jobs train and score them.
* ``evaluations``: the cached evaluator of one (model, seed) (the
  baselines), a table entry from metric results, ``timed_metric``.
* ``analysis``: what the scores say: summaries over seeds, factors each
  latent captures, pass/fail checks, the gap to the paper.
* ``udr``: UDR of a model's seeds, its rank correlations, the check of the
  seed UDR picks.
* ``report``: markdown and JSON output of a reproduction.
* ``reproduce``: ``reproduce(settings)``: runs the paper study, scores
  the baselines, assembles the table.
* ``sweep_settings``: what a sweep is: a method, the values of its
  hyperparameter (given or its study grid), the base TrainConfig (the
  study preset's with --study).
* ``sweep``: a sweep of one method's hyperparameter as a one-method study,
  its held-out reconstructions, table and plot.
* ``selection``, ``model_loading``: rank exports or runs by UDR.
* ``standalone``: the one-shot evaluation of scripts/evaluate.py.
* ``parallel``: worker processes pinned to disjoint CPUs (the studies'
  local engine, the baselines' evaluations).
* ``cache``: result files that hold the key they were computed for.
* ``reproduce_command``, ``sweep_command``, ``selection_command``: the
  programs scripts/reproduce.py, sweep.py and select_models.py behind
  their flags (flag definitions, checks, the one call, the lines to
  print).
"""
