"""Experiments: reproductions, sweeps and label-free model selection.

Modules (each imported on its own; this package imports none of them, so
worker processes stay light until they are pinned):

* ``settings``: what a reproduction is: the models and metric entries of
  its table (other methods' rows and their default values included),
  Recipe, Preset, PRESETS, Settings, ``settings_from_preset``.
* ``runs``: run directories, train-or-reuse, training seconds.
* ``evaluations``: the cached evaluator of one (model, seed), evaluation
  jobs, and the one-shot evaluation of scripts/evaluate.py.
* ``analysis``: what the scores say: summaries over seeds, factors each
  latent captures, pass/fail checks, the gap to the paper.
* ``udr``: UDR of a model's seeds, its rank correlations, the check of the
  seed UDR picks.
* ``report``: markdown and JSON output of a reproduction.
* ``reproduce``: ``reproduce(settings)``, the orchestration.
* ``sweep_settings``: what a sweep is: a method, the values of its
  hyperparameter (given or its study grid), the base TrainConfig (the
  study preset's with --study), the run names.
* ``sweep``: a sweep of one method's hyperparameter (train, score,
  tabulate, plot).
* ``selection``, ``model_loading``: rank exports or runs by UDR.
* ``standalone``: the one-shot evaluation of scripts/evaluate.py.
* ``parallel``: worker processes pinned to disjoint CPUs.
* ``cache``: result files that hold the key they were computed for.
* ``reproduce_command``, ``sweep_command``, ``selection_command``: the
  programs scripts/reproduce.py, sweep.py and select_models.py behind
  their flags (flag definitions, checks, the one call, the lines to
  print).
"""
