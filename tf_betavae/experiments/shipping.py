"""What an export chosen by a reproduction's UDR records about its choice.

``selection_record(results, model, run_dir)`` turns the results of
``scripts/reproduce.py`` (with a UDR over several seeds, e.g. the select
preset) into the ``selection`` entry of an export's metadata: the seed UDR
picked and its UDR, every seed's UDR and table-size scores, their spread,
the pick's full-size scores and checks.  It refuses a run directory that is
not the pick, so a shipped model is the one the record describes.
"""

import os

import numpy as np

from tf_betavae.experiments import settings as settings_lib

# The criterion of results that do not record one (reproductions made
# before settings.Settings.udr_criterion existed picked by Lasso).
DEFAULT_CRITERION = "udr_lasso"
REFERENCE = ("Duan et al. 2020, Unsupervised Model Selection for Variational "
             "Disentangled Representation Learning (ICLR)")
# The models a pick is held against at full size (udr.selection_check).
_FULL_SIZE_REFERENCES = ("vae", "pca")


class SelectionRecordError(ValueError):
  """The results cannot describe this run; the message is one line."""


def _same_directory(a, b):
  return os.path.realpath(a) == os.path.realpath(b)


def _spread(values):
  array = np.asarray(values, np.float64)
  return {"mean": float(array.mean()), "std": float(array.std()),
          "min": float(array.min()), "max": float(array.max()),
          "n": int(array.size)}


def selection_record(results, model, run_dir):
  """The metadata entry saying how ``run_dir`` was chosen.

  Args:
    results: scripts/reproduce.py's results (its JSON, loaded), with a UDR
      for ``model`` (several seeds).
    model: a trained model key of the results: "beta_vae" or a method of
      its --methods, e.g. "factor_vae".
    run_dir: the training run to be exported; must be the seed UDR picked.

  Returns:
    JSON-ready dict: criterion, reference, model, label, picked_seed,
    udr_lasso, udr_spearman and informative_latents of the pick,
    per_seed {seed: {udr_lasso, udr_spearman, informative_latents,
    scores}} (scores at the table's sizes, metric key -> score), spread
    {metric key: mean, std (population), min, max, n} over the seeds,
    full_size {model: {metric key: score}} (the pick's and the reference
    models' scores at full sizes, when the results hold a selection check),
    checks (this pick's selection checks), table_sizes, preset, steps and
    command (the reproduction's command line, None when not recorded).

  Raises:
    SelectionRecordError: ``model`` is not a trained model of the results,
      has no UDR, or ``run_dir`` is not its picked seed's run.
  """
  models = results.get("models", {})
  if model not in models or models[model].get("kind") != "trained":
    trained = sorted(k for k, v in models.items() if v.get("kind") ==
                     "trained")
    raise SelectionRecordError(
        f"the results have no trained model {model!r}; they have "
        f"{', '.join(trained) or 'none'}")
  entry = models[model]
  if "udr" not in entry:
    raise SelectionRecordError(
        f"the results hold no UDR for {model!r} (UDR needs at least two "
        "seeds: rerun scripts/reproduce.py with more seeds)")
  picked = int(entry["udr"]["picked_seed"])
  picked_run = entry["seeds"][str(picked)]["training"]["run_dir"]
  if not _same_directory(picked_run, run_dir):
    raise SelectionRecordError(
        f"{run_dir} is not the run UDR picked for {model!r}: that is seed "
        f"{picked}, {picked_run}")
  per_seed = {}
  for seed, seed_entry in sorted(entry["seeds"].items(), key=lambda x:
                                 int(x[0])):
    per_seed[seed] = dict(entry["udr"]["per_seed"][seed],
                          scores=dict(seed_entry["scores"]))
  keys = [k for k in settings_lib.METRIC_KEYS
          if all(k in s["scores"] for s in per_seed.values())]
  spread = {k: _spread([s["scores"][k] for s in per_seed.values()])
            for k in keys}
  settings = results.get("settings", {})
  record = {
      "criterion": entry["udr"].get("criterion", DEFAULT_CRITERION),
      "reference": REFERENCE, "model": model,
      "label": entry.get("label", model), "picked_seed": picked,
      **{k: entry["udr"]["per_seed"][str(picked)][k]
         for k in ("udr_lasso", "udr_spearman", "informative_latents")},
      "per_seed": per_seed, "spread": spread,
      "table_sizes": {"num_train": settings.get("num_train"),
                      "num_eval": settings.get("num_eval"),
                      "metric_sizes": settings.get("metric_sizes", {})},
      "preset": settings.get("preset"), "steps": settings.get("steps"),
      "command": results.get("command"),
  }
  selection = results.get("selection")
  if selection and model in selection.get("scores", {}):
    record["full_size"] = {m: dict(s)
                           for m, s in selection["scores"].items()
                           if m in (model,) + _FULL_SIZE_REFERENCES}
    record["checks"] = [c for c in selection["checks"]
                        if c.get("model") == model]
  return record
