"""UDR in a reproduction: ranking each trained model's seeds without labels.

``udr_of_group`` reads the UDR of one trained model's seeds, which the
paper study scored on one shared sample (tf_betavae.studies.group_udr);
``udr_rank_correlations`` says how UDR ranks against each supervised
metric; ``selection_check`` scores the seed UDR picks at full sizes.
"""

import dataclasses
import time

import numpy as np
import scipy.stats

from tf_betavae import io_utils
from tf_betavae.experiments import evaluations
from tf_betavae.experiments import settings as settings_lib

UDR_METHODS = settings_lib.UDR_CRITERIA
# Targets of the model UDR picks among the β-VAE seeds, full sizes.
SELECTION_TARGETS = {"beta_vae_dl": 0.88, "mig": 0.35}
SELECTION_METRICS = ("beta_vae_dl", "mig")


def udr_of_group(settings, study_dir, group):
  """UDR of one trained model's seeds, as the paper study scored it.

  The study (tf_betavae.studies.group_udr) encodes one shared sample of
  ``settings.udr_num_points`` images drawn with
  ``RandomState(settings.metric_seed)`` with every seed's export and
  computes UDR with the Lasso and the Spearman correlation
  (tf_betavae.metrics.udr) over the (dataset, method, value) group's seeds;
  the seed with the highest UDR of ``settings.udr_criterion`` (ties: the
  lowest seed) is the one UDR picks.

  Args:
    settings: Settings.
    study_dir: the paper study's directory.
    group: (dataset, method, value) of the trained model.

  Returns:
    dict: ``per_seed`` {str(seed): {udr_lasso, udr_spearman,
    informative_latents, job_id}}, ``criterion``, ``picked_seed`` (int),
    ``parameters``, ``seconds``.

  Raises:
    RuntimeError: the study holds no UDR of the group (its scoring failed;
      the study's log says why).
  """
  # Imported here: group_udr imports the studies' job module.
  from tf_betavae.studies import group_udr  # pylint: disable=g-import-not-at-top
  stored = io_utils.read_json_if_present(
      group_udr.udr_path(study_dir, group))
  if not stored:
    raise RuntimeError(f"the study in {study_dir} has no UDR of "
                       f"{list(group)}; rerun to score it")
  result = stored["result"]
  return {"per_seed": result["per_seed"],
          "parameters": result["parameters"],
          "seconds": result.get("seconds", 0.0),
          **_pick(result["per_seed"], settings.udr_criterion)}


def _pick(per_seed, criterion):
  """{"criterion", "picked_seed"}: the seed with the highest UDR of
  ``criterion`` (a key of UDR_METHODS), the lowest seed among ties."""
  best = max(per_seed, key=lambda s: (per_seed[s][criterion], -int(s)))
  return {"criterion": criterion, "picked_seed": int(best)}


def _udr_metric_pairs(models, key, method):
  pairs = []
  for entry in models.values():
    if "udr" not in entry:
      continue
    for seed, seed_entry in entry["seeds"].items():
      if key in seed_entry["scores"] and seed in entry["udr"]["per_seed"]:
        pairs.append((entry["udr"]["per_seed"][seed][method],
                      seed_entry["scores"][key]))
  return pairs


def udr_rank_correlations(models, method="udr_lasso"):
  """Spearman rank correlation between UDR and each supervised metric.

  Over every (trained model, seed) that has a UDR: UDR is computed within
  one model's seeds, and the correlation pools all of them, as Duan et al.
  2020 report it.

  Args:
    models: reproduce()'s ``models`` dict.
    method: a key of UDR_METHODS.

  Returns:
    dict {metric key: {"rho": float or None, "n": int}}; rho is None with
    fewer than 3 models or a constant column.
  """
  out = {}
  for key in settings_lib.METRIC_KEYS:
    pairs = _udr_metric_pairs(models, key, method)
    rho = None
    if len(pairs) >= 3:
      x, y = np.array(pairs, np.float64).T
      if np.ptp(x) > 0 and np.ptp(y) > 0:
        rho = float(scipy.stats.spearmanr(x, y)[0])
    if pairs:
      out[key] = {"rho": rho, "n": len(pairs)}
  return out


def _picked_seeds(settings, models):
  """{model: seed} to score at full size: the UDR picks of the β-VAE and
  of every other method with a UDR, the VAE's pick (its first seed without
  a UDR) and PCA's first seed."""
  picked = _checked_picks(settings, models)
  if "udr" in models["vae"]:
    picked["vae"] = models["vae"]["udr"]["picked_seed"]
  else:
    picked["vae"] = int(next(iter(models["vae"]["seeds"])))
  picked["pca"] = int(next(iter(models["pca"]["seeds"])))
  return picked


def _full_size_evaluator(settings, full, ground_truth, models, model, seed):
  if model == "pca":
    source = evaluations.baseline_source(settings, model, seed)
    build = evaluations.baseline_builder(model, ground_truth, seed, settings)
  else:
    run = models[model]["seeds"][str(seed)]["training"]
    source = {"export_path": run["export_path"], "step": run["step"]}
    build = evaluations.trained_builder(run["export_path"], ground_truth)
  return evaluations.Evaluator(full, ground_truth, f"{model}_full_size", seed,
                               source, build)


def _checked_picks(settings, models):
  """{model: seed} of the picks held to the targets: the β-VAE's, then the
  other methods', each where it has a UDR."""
  return {model: models[model]["udr"]["picked_seed"]
          for model in ("beta_vae",) + tuple(settings.methods)
          if "udr" in models.get(model, {})}


def _selection_checks(model, label, picked, scores):
  """Checks of one model's pick: each target, and beating VAE and PCA."""
  mine = scores[model]
  out = []
  for key, target in SELECTION_TARGETS.items():
    out.append({
        "name": (f"UDR-picked {label} (seed {picked[model]}) "
                 f"{settings_lib.metric_label(key)} at full size ≥ "
                 f"{target:.2f}"),
        "passed": bool(mine[key] >= target),
        "detail": f"{mine[key]:.4f}", "model": model})
  for other in ("vae", "pca"):
    theirs = scores[other]["beta_vae_dl"]
    out.append({
        "name": (f"UDR-picked {label} beats {settings_lib.model_label(other)} "
                 f"(seed {picked[other]}) on the β-VAE metric "
                 "(disentanglement_lib) at full size"),
        "passed": bool(mine["beta_vae_dl"] > theirs),
        "detail": f"{mine['beta_vae_dl']:.4f} vs {theirs:.4f}",
        "model": model})
  return out


def has_picks(settings, models):
  """Whether the β-VAE or another method has a UDR pick to check."""
  return bool(_checked_picks(settings, models))


def selection_check(settings, ground_truth, models):
  """Scores the UDR-picked β-VAE (and the pick of every other method of
  ``settings.methods``), the VAE and PCA (first seed) at full sizes and
  checks each pick against SELECTION_TARGETS and the VAE and PCA.

  Args:
    settings: Settings.
    ground_truth: ground-truth object.
    models: reproduce()'s ``models`` dict (with ``udr`` entries).

  Returns:
    dict: ``picked`` {model: seed}, ``scores`` {model: {metric key:
    score}}, ``checks`` (list of {name, passed, detail, model: the pick's
    model key}), ``seconds`` (wall
    seconds of this call) and ``compute_seconds`` (the metrics' seconds
    when they were computed, cached ones included).
  """
  start = time.time()
  full = dataclasses.replace(settings, num_train=None, num_eval=None,
                             metric_sizes={}, pixel_sizes={})
  picked = _picked_seeds(settings, models)
  scores, compute_seconds = {}, 0.0
  for model, seed in picked.items():
    evaluator = _full_size_evaluator(settings, full, ground_truth, models,
                                     model, seed)
    results = {key: evaluator.result(key) for key in SELECTION_METRICS}
    scores[model] = {key: float(r["score"]) for key, r in results.items()}
    compute_seconds += sum((r.get("seconds") or 0.0) +
                           (r.get("setup_seconds") or 0.0)
                           for r in results.values())
  return {"picked": picked, "scores": scores,
          "compute_seconds": round(compute_seconds, 2),
          "checks": [check for model in _checked_picks(settings, models)
                     for check in _selection_checks(
                         model, models[model]["label"], picked, scores)],
          "seconds": round(time.time() - start, 2)}
