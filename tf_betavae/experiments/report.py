"""A reproduction's results as markdown (one table plus context) and JSON.

``write_markdown`` renders reproduce()'s dict section by section: the
table beside the paper's Table 1, the checks, the gap to the paper, UDR,
the factor each latent captures, the settings and costs, the command.
The markdown file is generated only; hand-written notes live beside it in
recipe_search.md, which a run never touches.  ``rewrite_markdown`` renders
a saved results JSON again (the markdown is a function of it alone).
"""

import math
import os

from tf_betavae import io_utils
from tf_betavae.experiments import analysis
from tf_betavae.experiments import settings as settings_lib
from tf_betavae.models import latent_stats
from tf_betavae.models import methods as methods_lib

_METRIC_KEYS = settings_lib.METRIC_KEYS
_label = settings_lib.metric_label
_model_label = settings_lib.model_label


def _fmt(summary, key, percent=False):
  """'mean ± std' of a summary entry; accuracies as percentages followed
  by the mean of the better half of runs when there are several."""
  entry = summary.get(key)
  if not entry or entry["n"] == 0 or not math.isfinite(entry["mean"]):
    return "—"
  if percent:
    text = f"{100 * entry['mean']:.1f} ± {100 * entry['std']:.1f}%"
    if entry["n"] > 1 and "better_half_mean" in entry:
      text += f" (better half: {100 * entry['better_half_mean']:.1f}%)"
    return text
  return f"{entry['mean']:.3f} ± {entry['std']:.3f}"


def _score_text(value):
  return "—" if value is None else f"{value:.3f}"


def _row(cells):
  return "| " + " | ".join(cells) + " |"


def _ordered_methods(settings):
  """{method: value} of a results dict's settings in the method registry's
  order: a results JSON stores them sorted, and a report rendered again from
  it must read as the one written beside the runs."""
  methods = settings.get("methods") or {}
  return {name: methods[name] for name in methods_lib.METHOD_NAMES
          if name in methods}


def _table_models(results):
  """The table's rows (key, label, kind) of a results dict; results
  written without other methods have none."""
  return settings_lib.table_models(
      _ordered_methods(results.get("settings", {})))


def _reference_seeds_text(settings):
  """' (the VAE and the baselines: seeds 0, 1, 2)' where the reference
  models use fewer seeds than the others, else ''."""
  count = settings.get("reference_num_seeds")
  if count is None or count >= len(settings["seeds"]):
    return ""
  models = ("the β-VAE, the VAE" if settings.get("reference_beta_vae")
            else "the VAE")
  seeds = settings["seeds"][:count]
  return (f" ({models} and the baselines: seed{'s' if count > 1 else ''} "
          f"{', '.join(map(str, seeds))})")


def _names_text(names):
  """'A', 'A and B', 'A, B and C'."""
  return (" and ".join(names) if len(names) < 3
          else ", ".join(names[:-1]) + " and " + names[-1])


def title(results):
  """What the results hold, named from their settings: e.g.
  'Reproduction: β-VAE on 2D shapes (dSprites)' (the β-VAE paper's table),
  'Reproduction: β-VAE and FactorVAE on ...' (with --methods) or
  'FactorVAE selection (UDR over 7 seeds) on 2D shapes (dSprites)'
  (preset select_factor_vae)."""
  settings = results["settings"]
  methods = [methods_lib.get(name).title for name in _ordered_methods(settings)]
  # What was run is what trained on every seed: a preset that selects among
  # another method's seeds keeps the β-VAE as a reference row only.
  subjects = methods if settings.get("reference_beta_vae") else (
      [methods_lib.get("beta_vae").title] + methods)
  names = _names_text(subjects or [methods_lib.get("beta_vae").title])
  if settings.get("selection_check"):
    return (f"{names} selection (UDR over {len(settings['seeds'])} seeds) "
            "on 2D shapes (dSprites)")
  return f"Reproduction: {names} on 2D shapes (dSprites)"


def intro_lines(results):
  """Title and the paragraph saying what the table holds."""
  settings = results["settings"]
  dataset = ("official file " + settings["dsprites_file"]
             if settings["dsprites_file"] else "dsprites simulator")
  return [f"# {title(results)}", "",
          f"Preset `{settings['preset']}`: {settings['steps']:,} training "
          f"steps per run, seeds {', '.join(map(str, settings['seeds']))}"
          f"{_reference_seeds_text(settings)}, dataset `{dataset}`. "
          "Every number is mean ± std over seeds (population std). β-VAE "
          "metric columns are accuracies, followed by the mean of the better "
          "half of runs (the largest ceil(n / 2) scores; the paper is "
          "recalled to report the better half of its runs); the paper column "
          f"is {settings_lib.PAPER_SOURCE}. The paper-protocol columns label "
          "the four factors the paper is recalled to have labelled (no "
          "shape) and all five; see docs/metrics.md.", ""]


def table_lines(results):
  """The score table: one row per model, then the paper-only rows."""
  settings = results["settings"]
  beta_metrics = [k for k in _METRIC_KEYS if k.startswith("beta_vae")]
  header = (["model", "paper (Table 1)"] +
            [entry.label for entry in settings_lib.METRICS] + ["targets"])
  lines = [_row(header), "|" + "---|" * len(header)]
  for model, _, _ in _table_models(results):
    entry = results["models"][model]
    paper = (f"{100 * entry['paper']:.2f}%" if entry["paper"] is not None
             else "—")
    cells = [entry["label"], paper]
    for key in _METRIC_KEYS:
      cells.append(_fmt(entry["summary"], key, percent=key in beta_metrics)
                   if key in settings["metrics"] else "not run")
    cells.append("; ".join(
        f"{'PASS' if c['passed'] else 'FAIL'}: {c['name']}"
        for c in results["checks"]) if model == "beta_vae" else "")
    lines.append(_row(cells))
  for key, label in settings_lib.PAPER_ONLY:
    lines.append(_row([label, f"{100 * settings_lib.PAPER_TABLE1[key]:.2f}%"]
                      + ["not run"] * len(_METRIC_KEYS) + [""]))
  lines.append("")
  return lines


def check_lines(results):
  """'Targets (β-VAE): ...' and one line per check."""
  lines = ["Targets (β-VAE): " + ("**all passed**" if results["passed"]
                                  else "**not all passed**") + "."]
  for c in results["checks"]:
    lines.append(f"- {'PASS' if c['passed'] else 'FAIL'} — {c['name']}: "
                 f"{c['detail']}")
  lines.append("")
  return lines


def gap_to_paper(results):
  """How much of the gap between the β-VAE's paper-protocol score and the
  paper's Table 1 value is the protocol's factor set and how much is
  training, and what the four factors do to the baselines; None when
  either paper-protocol entry was not evaluated (see analysis.gap_numbers;
  percentage points of accuracy)."""
  gap = analysis.gap_numbers(results)
  if gap is None:
    return None
  paper, mean4, mean5, best4 = (gap["paper"], gap["four"], gap["five"],
                                gap["best4"])
  steps = results["settings"]["steps"]
  if best4 >= paper:
    best_words = (f"the better half of runs scores {best4:.1f}%, the "
                  f"paper's value or more")
  else:
    best_words = (f"{paper - best4:.1f} for the better half of runs, "
                  f"{best4:.1f}%")
  moves = (f"Protocol: on the same β-VAE runs, labelling the paper's four "
           f"factors instead of all five moves the paper-protocol score "
           f"from {mean5:.1f}% to {mean4:.1f}% (mean over runs)")
  if mean5 >= paper:
    text = (f"{moves}: both are at or above the paper's {paper:.2f}%, so "
            f"these runs leave no gap to explain.")
  elif mean4 >= paper:
    # "x of the y points" with x > y would read as nonsense.
    text = (f"{moves}, the paper's {paper:.2f}% or more: on these runs the "
            f"protocol's factor set accounts for the whole "
            f"{paper - mean5:.1f} points between the five-factor score and "
            f"the paper's, and the models trained {steps:,} steps here for "
            f"none of them.")
  else:
    text = (
        f"{moves}, so {mean4 - mean5:.1f} of the {paper - mean5:.1f} points "
        f"between the five-factor score and the paper's {paper:.2f}% are "
        f"the protocol's factor set. Training: the remaining "
        f"{paper - mean4:.1f} points ({best_words}) are the models "
        f"themselves, trained {steps:,} steps here: the seeds that give "
        f"shape or orientation no latent of their own, or split a position "
        f"over two latents (see the factor list).")
  baselines = [
      f"{_model_label(model)} {four:.1f}% with four factors and "
      f"{five:.1f}% with five (paper: {theirs:.2f}%)"
      for model, (four, five, theirs) in gap["baselines"].items()]
  if baselines:
    text += (" The four factors lift every representation, not only the "
             "β-VAE: " + "; ".join(baselines) + ".")
  return text


def gap_lines(results):
  """The gap section ([] when it cannot be computed)."""
  gap = gap_to_paper(results)
  return ["## The gap to the paper's 99.23%", "", gap, ""] if gap else []


def _udr_table_lines(with_udr):
  lines = [
      "| model | seed | UDR (Lasso) | UDR (Spearman) | informative latents "
      "| β-VAE metric (disentanglement_lib) | MIG | picked by UDR |",
      "|---|---|---|---|---|---|---|---|"]
  for _, entry in with_udr:
    udr = entry["udr"]
    for seed, seed_udr in udr["per_seed"].items():
      scores = entry["seeds"][seed]["scores"]
      lines.append(
          f"| {entry['label']} | {seed} | {seed_udr['udr_lasso']:.3f} | "
          f"{seed_udr['udr_spearman']:.3f} | "
          f"{seed_udr['informative_latents']} | "
          f"{_score_text(scores.get('beta_vae_dl'))} | "
          f"{_score_text(scores.get('mig'))} | "
          f"{'yes' if int(seed) == udr['picked_seed'] else ''} |")
  lines.append("")
  return lines


def _udr_pick_line(entry):
  picked = str(entry["udr"]["picked_seed"])
  parts = []
  for key in ("beta_vae_dl", "mig"):
    if key in entry["summary"]:
      values = [e["scores"][key] for e in entry["seeds"].values()]
      parts.append(
          f"{_label(key)} {entry['seeds'][picked]['scores'][key]:.3f} "
          f"against {entry['summary'][key]['mean']:.3f} (mean over "
          f"seeds; best seed {max(values):.3f}, worst {min(values):.3f})")
  return (f"- {entry['label']}: UDR picks seed {picked}"
          + (": " + "; ".join(parts) if parts else "") + ".")


def _udr_summary_lines(results):
  lines = []
  correlations = results.get("udr_rank_correlations") or {}
  # In the table's order, whatever order the dicts were read back in.
  correlations = {k: correlations[k] for k in _METRIC_KEYS
                  if k in correlations}
  listed = [f"{_label(k)} {v['rho']:+.2f}" for k, v in correlations.items()
            if v["rho"] is not None]
  if listed:
    count = next(iter(correlations.values()))["n"]
    lines.append(
        f"- Spearman rank correlation of UDR ({_criterion_label(results)}) "
        f"with each metric over "
        f"the {count} trained models (every seed of each model ranked by "
        "UDR): "
        + ", ".join(listed) + ".")
  selection = results.get("selection")
  if selection:
    order = [key for key, _, _ in _table_models(results)]
    scored = "; ".join(
        f"{results['models'][model]['label']} seed "
        f"{selection['picked'][model]}: "
        + ", ".join(f"{_label(k)} {scores[k]:.3f}" for k in _METRIC_KEYS
                    if k in scores)
        for model, scores in sorted(selection["scores"].items(),
                                    key=lambda item: order.index(item[0])))
    lines.append(
        "- At full sizes (β-VAE metric 10,000 / 5,000 examples, MIG 10,000 "
        f"samples): {scored}.")
  return lines


def _criterion_label(results):
  """'Lasso' or 'Spearman': the UDR a reproduction picks seeds by."""
  criterion = results["settings"].get("udr_criterion", "udr_lasso")
  return criterion[len("udr_"):].capitalize()


def udr_lines(results):
  """Markdown lines of the UDR section ([] when no model has a UDR)."""
  models = results["models"]
  with_udr = [(key, models[key]) for key, _, _ in _table_models(results)
              if "udr" in models.get(key, {})]
  if not with_udr:
    return []
  num_points = results["settings"].get("udr_num_points")
  lines = [
      "## Choosing without labels (UDR)", "",
      f"UDR (Duan et al. 2020; [model_selection.md](model_selection.md)) "
      f"compares the seeds of each trained model with each other on one "
      f"shared sample of {num_points:,} images, without labels; the seed "
      f"with the highest UDR ({_criterion_label(results)}) is the one a "
      "user without labels would keep. Supervised scores beside it are the "
      "table's.", ""]
  lines += _udr_table_lines(with_udr)
  lines += [_udr_pick_line(entry) for _, entry in with_udr]
  lines += _udr_summary_lines(results)
  lines.append("")
  return lines


def _factor_line(entry):
  factors = entry["factors"]
  if factors is None:
    return "MIG not evaluated"
  parts = [f"z{e['latent']}→{e['factor']} {e['nmi']:.2f}"
           for e in factors["latents"]]
  more = ""
  if factors["num_latents"] > 64:
    more = f" (top {len(parts)} of {factors['num_latents']} dimensions)"
  elif factors["num_active"] != factors["num_latents"]:
    more = f" ({factors['num_active']} of {factors['num_latents']} active)"
  return (", ".join(parts) or "no active latent") + more


def factor_lines(results):
  """The section listing which factor each latent captures."""
  lines = ["## Which factor each latent captures", "",
           "Normalised mutual information NMI = I(z_j; v_k) / H(v_k) "
           "between each latent (means, discretised into MIG's 20 "
           "histogram bins) and each factor, from the MIG evaluation; "
           "`zj→factor nmi` lists each active latent's best factor "
           f"(trained models: latents with training KL > "
           f"{latent_stats.ACTIVE_KL_NATS} nats; baselines: every "
           "dimension).", ""]
  for model, label, _ in _table_models(results):
    seeds = results["models"][model]["seeds"]
    lines.append(f"- {label}: " + "; ".join(
        f"seed {s}: {_factor_line(e)}" for s, e in seeds.items()))
  lines.append("")
  return lines


def accuracy_per_factor_text(accuracies):
  """'shape 0.66, scale 1.00, ...' from {factor: accuracy or None}."""
  return ", ".join(f"{name} {value:.2f}" if value is not None
                   else f"{name} -" for name, value in accuracies.items())


def _mean_accuracy_per_factor(seeds):
  """{factor: mean over the seeds that recorded it} of the β-VAE metric's
  per-factor accuracy, and how many seeds recorded it."""
  recorded = [e["details"].get("beta_vae_dl_accuracy_per_factor")
              for e in seeds.values()]
  recorded = [r for r in recorded if r]
  if not recorded:
    return None, 0
  names = list(recorded[0])
  means = {}
  for name in names:
    values = [r[name] for r in recorded if r.get(name) is not None]
    means[name] = sum(values) / len(values) if values else None
  return means, len(recorded)


def metric_accuracy_lines(results):
  """The section giving, per model, the β-VAE metric's accuracy on each
  fixed factor (empty when no seed recorded it)."""
  lines = []
  for model, label, _ in _table_models(results):
    means, count = _mean_accuracy_per_factor(
        results["models"][model]["seeds"])
    if means is None:
      continue
    lines.append(f"- {label}: {accuracy_per_factor_text(means)} "
                 f"(mean over {count} seed(s))")
  if not lines:
    return []
  return (["## Where the β-VAE metric loses its points", "",
           "Accuracy of the β-VAE metric's classifier (disentanglement_lib "
           "protocol) on the evaluation examples of each fixed factor, from "
           "the metric's `eval_confusion` (docs/metrics.md): a factor below "
           "1.00 is one whose fixing the representation does not tell "
           "apart from another's (on dSprites, usually shape and "
           "orientation taken for each other).", ""] + lines + [""])


def schedule_words(recipe):
  """' (2000-step linear warm-up, then cosine decay to 0 at the last
  step)', or '' for a constant rate (also for recipes that do not record
  a schedule)."""
  warmup = recipe.get("lr_warmup_steps", 0)
  decay = recipe.get("lr_decay", "constant")
  if warmup == 0 and decay == "constant":
    return ""
  parts = [f"{warmup}-step linear warm-up"] if warmup else []
  if decay == "cosine":
    parts.append("cosine decay to 0 at the last step")
  return " (" + ", then ".join(parts) + ")"


def _beta_words(recipe):
  """'β = 8', or with a warm-up 'β = 8 after 8000 steps at 1 and a
  4000-step linear rise from 1'."""
  hold = recipe.get("beta_hold_steps", 0)
  warmup = recipe.get("beta_warmup_steps", 0)
  parts = ([f"{hold} steps at 1"] if hold else []) + (
      [f"a {warmup}-step linear rise from 1"] if warmup else [])
  ramp = f" after {' and '.join(parts)}" if parts else ""
  return f"β = {recipe['beta']:g}{ramp}"


def _recipe_line(recipe):
  return (f"- β-VAE recipe: {_beta_words(recipe)}, objective "
          f"{recipe['objective']}, learning rate {recipe['learning_rate']:g}"
          f"{schedule_words(recipe)}, "
          f"batch {recipe['batch_size']}, {recipe['arch']} architecture, "
          f"{recipe['latent_dim']} latents, {recipe['likelihood']} "
          "likelihood; the VAE is the same with β = 1.")


def _methods_lines(settings):
  """One line on the other methods' rows ([] without any)."""
  methods = settings.get("methods")
  if not methods:
    return []
  ordered = list(_ordered_methods(settings))
  rows = ", ".join(settings_lib.method_label(m, methods[m]) for m in ordered)
  infos = [methods_lib.get(m) for m in ordered]
  own_rates = "; ".join(
      f"{info.title} trains at its own Adam rate {info.learning_rate:g}"
      for info in infos if info.learning_rate is not None)
  own_rates = f"; {own_rates}" if own_rates else ""
  return [f"- Other methods: {rows}; each trained on every seed like the "
          "β-VAE (its steps, learning rate, batch, architecture, latents "
          "and likelihood) at that value of its hyperparameter, its other "
          "settings at their defaults (disentanglement_lib's study values; "
          f"AnnealedVAE takes the recipe's γ and capacity steps{own_rates}), "
          "and ranked by UDR over its seeds."]


def _sizes_line(settings):
  sizes = (f"{settings['num_train'] or 'full'} / "
           f"{settings['num_eval'] or 'full'}")
  pixel = ", ".join(f"{k} {v[0]} / {v[1]}"
                    for k, v in sorted(settings["pixel_sizes"].items()))
  special = ", ".join(f"{k} {v[0] or 'full'} / {v[1] or 'full'}"
                      for k, v in sorted(settings["metric_sizes"].items()))
  return (f"- Metric sizes (train / eval examples or samples): {sizes}" +
          (f"; {special}" if special else "") +
          (f"; raw pixels: {pixel}" if pixel else "") +
          f"; metric seed of run s: {settings['metric_seed']} + s; PCA/ICA "
          f"fitted on {settings['baseline_num_fit']} images; code table: "
          f"{settings.get('code_table', 'auto')}"
          + (f"; trained models scored on the "
             f"{settings['representation']} representation (a sample from "
             f"the posterior per image; baselines on their codes)"
             if settings.get("representation", "mean") != "mean" else "")
          + ". The exact "
          "parameters of every evaluation are in the JSON.")


def _cost_line(results):
  return (f"- Wall time of the command that wrote this file: "
          f"{results['wall_seconds']:.0f} s; compute time of all runs and "
          f"evaluations (including reused ones): "
          f"{results['compute_seconds']:.0f} s (runs trained in parallel "
          f"count once each); trained in that command: "
          f"{len(results['trained'])} run(s), "
          f"{results['settings'].get('parallel_runs', 1)} at a time; "
          f"evaluations computed / reused: "
          f"{results['evaluations_computed']} / "
          f"{results['evaluations_reused']}." + _split_text(results))


# What each part of compute_seconds_split is, in the order listed.
_SPLIT_PARTS = (
    ("training", "training (every run's wall seconds, summed)"),
    ("evaluation", "metrics at the table's sizes"),
    ("udr", "UDR"),
    ("selection", "full-size scores of the UDR picks"))


def _split_text(results):
  """' Where the compute time goes: ...' or '' for results without it."""
  split = results.get("compute_seconds_split")
  if not split:
    return ""
  total = sum(split.values()) or 1.0
  parts = [f"{label} {split[key]:,.0f} s ({100 * split[key] / total:.0f}%)"
           for key, label in _SPLIT_PARTS if key in split]
  return " Where the compute time goes: " + "; ".join(parts) + "."


def settings_lines(results):
  """The settings section: recipe, sizes, machine, package, costs."""
  settings = results["settings"]
  machine = results["machine"]
  gpus = ", ".join(machine["gpus"]) or "none"
  return ["## Settings", "", _recipe_line(settings["recipe"]),
          *_methods_lines(settings), _sizes_line(settings),
          f"- Machine: {machine['platform']}, {machine['cpu_count']} "
          f"CPUs, Python {machine['python']}, TensorFlow "
          f"{machine['tensorflow']}, GPU: {gpus}.",
          f"- Package: tf_betavae {results['package_version']}.",
          _cost_line(results), ""]


def command_lines(command):
  """The command that wrote the file, and where hand-written notes live."""
  return ["Command:", "", "```", command, "```", "",
          "This file is written by `scripts/reproduce.py` and replaced "
          "by each run; hand-written notes on runs and the recipe "
          "search are in [recipe_search.md](recipe_search.md).", ""]


def markdown(results, command):
  """The whole markdown text of reproduce()'s results."""
  lines = (intro_lines(results) + table_lines(results) + check_lines(results)
           + gap_lines(results) + udr_lines(results) + factor_lines(results)
           + metric_accuracy_lines(results)
           + settings_lines(results) + command_lines(command))
  return "\n".join(lines)


def write_markdown(results, path, command):
  """Writes the results as markdown (one table plus context); returns path.

  Args:
    results: reproduce()'s dict.
    path: output .md path (directories are created).
    command: the exact command line, a str.
  """
  return io_utils.write_text_atomic(path, markdown(results, command))


def rewrite_markdown(json_path, markdown_path=None, command=None):
  """Renders a saved results JSON again, without training or evaluating.

  The markdown is a function of the results and the command alone (see
  ``markdown``), so a change to how they are written reaches an existing
  file this way.

  Args:
    json_path: a results JSON written by ``write_json``.
    markdown_path: the .md to write; default: beside the JSON
      (results.json -> results.md).
    command: the command line the file names; default: the one the JSON
      records (scripts/reproduce.py stores it under "command").

  Returns:
    The markdown path written.

  Raises:
    ValueError: no command given and none recorded in the JSON.
  """
  results = io_utils.read_json(json_path)
  command = command or results.get("command")
  if not command:
    raise ValueError(f"{json_path} records no command; pass command=")
  if markdown_path is None:
    markdown_path = os.path.splitext(json_path)[0] + ".md"
  return write_markdown(results, markdown_path, command)


def json_path_for(markdown_path):
  """The raw-results JSON beside a markdown path: results.md -> results.json."""
  root, _ = os.path.splitext(markdown_path)
  return root + ".json"


def write_json(results, path):
  """Writes reproduce()'s dict as JSON; returns path."""
  return io_utils.write_json_atomic(path, results)


def summary_lines(results, md_path, json_path):
  """What scripts/reproduce.py prints: counts, files, every check."""
  lines = [f"trained {len(results['trained'])} run(s); evaluations computed "
           f"{results['evaluations_computed']}, reused "
           f"{results['evaluations_reused']}; "
           f"{results['wall_seconds']:.0f} s",
           f"wrote {md_path} and {json_path}"]
  for check in results["checks"]:
    lines.append(f"{'PASS' if check['passed'] else 'FAIL'}: {check['name']} "
                 f"({check['detail']})")
  lines.append("all targets passed" if results["passed"]
               else "some targets failed")
  return lines
