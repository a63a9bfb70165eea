"""Issue 61's quality target: Ada-GVAE against the β-VAE and the shipped pick.

The comparison is one study (tf_betavae.studies) on the dSprites simulator,
trained with the CPU recipe (tf_betavae/training/presets.py CPU_RECIPE:
broadcast decoder, 8 latents, Adam 1e-3, batch 64):

  <work_dir>/study/study.json            the study (``comparison_spec``)
  <work_dir>/study/jobs/<job_id>/...     one trained model and seed

* the weakly-supervised methods (ada_gvae, ada_ml_vae, group_vae, ...) at
  one β and one ``k`` (pairs redraw k factors; -1: k random per pair),
* the β-VAE at the recipe's β = 8, the unsupervised reference,
* ada_gvae on more seeds than the others, since the target is about it,

scored with disentanglement_lib's β-VAE metric and MIG at their full sizes.
The study runs, resumes and reuses finished jobs like any study; this
module turns its finished jobs into a summary (``summarize``), the
target's checks (``checks``), the report docs/weak_supervision.md
(``render_markdown``) and the seed a person would ship (``best_seed``).
Everything but ``run_study``, ``collect`` and ``shipped_reference`` is a
pure function of dicts.
"""

import os

import numpy as np

from tf_betavae import io_utils
from tf_betavae import models
from tf_betavae import training
from tf_betavae.experiments import analysis
from tf_betavae.experiments import parallel
from tf_betavae.models import methods as methods_lib
from tf_betavae.studies import engines
from tf_betavae.studies import job as job_lib
from tf_betavae.studies import spec as spec_lib
from tf_betavae.studies import study_dir as study_dir_lib
from tf_betavae.training import presets

NAME = "weak_comparison"
DATASET = "dsprites"
STUDY_SUBDIR = "study"
ADA = "ada_gvae"
BASELINE = "beta_vae"
METHODS = ("ada_gvae", "ada_ml_vae", "group_vae", "beta_vae")
# The methods this comparison trains: the weak ones at the weak β, the
# β-VAE at the recipe's (any other method would need its own value).
CHOICES = methods_lib.WEAK_METHODS + (BASELINE,)
METRICS = ("beta_vae", "mig")
# docs/methods.md states no β of its own for the weak methods; their loss
# is the β-VAE's (recon + β·KL, nats) on each image of a pair, so they
# train at the CPU recipe's β = 8 (the β its β-VAE row uses): the rows then
# differ in the supervision alone.  --beta changes it.
WEAK_BETA = float(presets.CPU_RECIPE["beta"])
BASELINE_BETA = float(presets.CPU_RECIPE["beta"])
RECIPE_SETTINGS = {"arch": presets.CPU_RECIPE["arch"],
                   "latent_dim": presets.CPU_RECIPE["latent_dim"],
                   "learning_rate": presets.CPU_RECIPE["learning_rate"],
                   "batch_size": 64}
# The search for the target varies the architecture, the number of
# latents and the learning rate; every job of one comparison shares them,
# so its rows still differ in the supervision alone.
RECIPE_OVERRIDES = ("arch", "latent_dim", "learning_rate")
# Issue 61's target, on every ada_gvae seed.
TARGETS = {"beta_vae": 0.90, "mig": 0.40}
SHAPE = "shape"
SHAPE_MIN_NMI = 0.2
# dSprites' factors, in the order MIG's mutual information has them.
FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
SHIPPED_EXPORT = os.path.join("exported", "dsprites", "2")
# What run_study raises for a work_dir holding a study of other settings.
StudyError = spec_lib.StudyError


def comparison_spec(steps=20000, ada_seeds=(0, 1, 2, 3, 4),
                    other_seeds=(0, 1, 2), beta=WEAK_BETA, k=-1,
                    parallel_runs=1, methods=METHODS, metric_sizes=None,
                    cpu_count=None, recipe=None):
  """The StudySpec of the comparison.

  Args:
    steps: training steps of every job.
    ada_seeds: seeds of ada_gvae.
    other_seeds: seeds of every other method.
    beta: β of the weak methods (the β-VAE trains at BASELINE_BETA).
    k: factors a pair's second observation redraws (-1: k random).
    parallel_runs: jobs trained at once; each gets cpu_count //
      parallel_runs TensorFlow threads.
    methods: names from CHOICES, ada_gvae among them.
    metric_sizes: {metric: (num_train, num_eval)} overrides (tests); None:
      disentanglement_lib's full sizes.
    cpu_count: CPUs to share (None: the CPUs this process may use).
    recipe: {setting: value} replacing RECIPE_SETTINGS' values of
      RECIPE_OVERRIDES (arch, latent_dim, learning_rate) for every job;
      None or {}: the CPU recipe's.

  Returns:
    spec_lib.StudySpec named NAME on DATASET.

  Raises:
    ValueError: a method outside CHOICES, no ada_gvae, parallel_runs < 1,
      or a recipe setting outside RECIPE_OVERRIDES or out of range
      (spec_lib.StudyError, a ValueError, for a bad seed or step).
  """
  methods = tuple(methods)
  for method in methods:
    if method not in CHOICES:
      raise ValueError(f"unknown method {method!r}; choose from "
                       f"{', '.join(CHOICES)}")
  if ADA not in methods:
    raise ValueError(f"the comparison's target is about {ADA}; --methods "
                     f"must name it")
  if isinstance(parallel_runs, bool) or int(parallel_runs) < 1:
    raise ValueError(f"parallel_runs must be >= 1, got {parallel_runs!r}")
  train_settings = recipe_settings(recipe, methods)
  cpus = cpu_count or len(parallel.available_cpus())
  seeds_of = {m: tuple(ada_seeds if m == ADA else other_seeds)
              for m in methods}
  seeds = tuple(sorted({s for group in seeds_of.values() for s in group}))
  values = {m: (BASELINE_BETA if m == BASELINE else float(beta))
            for m in methods}
  return spec_lib.StudySpec(
      name=NAME, datasets=(DATASET,),
      methods=tuple((m, (values[m],)) for m in methods),
      seeds=seeds, steps=steps, metrics=METRICS,
      train_settings=tuple(train_settings.items()),
      metric_sizes=tuple((metric_sizes or {}).items()),
      threads_per_job=max(1, cpus // int(parallel_runs)),
      # k is a setting only the weak methods read (the β-VAE refuses it).
      group_settings=tuple((m, None, (("k", k),)) for m in methods
                           if m in methods_lib.WEAK_METHODS),
      group_seeds=tuple((m, values[m], seeds_of[m]) for m in methods
                        if seeds_of[m] != seeds))


def recipe_settings(recipe=None, methods=METHODS):
  """RECIPE_SETTINGS with ``recipe``'s overrides, checked.

  Raises:
    ValueError: a key outside RECIPE_OVERRIDES, an unknown arch, a
      latent_dim < 1 (or below the factor count when group_vae or ml_vae,
      which tie factor k to latent k, is among ``methods``) or a
      learning_rate <= 0.
  """
  settings = dict(RECIPE_SETTINGS)
  for key, value in (recipe or {}).items():
    if key not in RECIPE_OVERRIDES:
      raise ValueError(f"the comparison's recipe has no setting {key!r}; "
                       f"choose from {', '.join(RECIPE_OVERRIDES)}")
    settings[key] = value
  if settings["arch"] not in models.ARCHITECTURES:
    raise ValueError(f"unknown arch {settings['arch']!r}; choose one of "
                     f"{', '.join(sorted(models.ARCHITECTURES))}")
  labelled = [m for m in methods if m in ("group_vae", "ml_vae")]
  minimum = len(FACTOR_NAMES) if labelled else 1
  if int(settings["latent_dim"]) < minimum:
    raise ValueError(
        f"latent_dim must be >= {minimum}"
        + (f" ({', '.join(labelled)} tie factor k to latent k)"
           if labelled else "") + f", got {settings['latent_dim']}")
  if not float(settings["learning_rate"]) > 0:
    raise ValueError(f"learning_rate must be > 0, got "
                     f"{settings['learning_rate']}")
  settings["latent_dim"] = int(settings["latent_dim"])
  settings["learning_rate"] = float(settings["learning_rate"])
  return settings


def settings_of(spec):
  """What the report says the comparison trained, from its spec.

  Returns:
    dict: steps, metrics, metric_sizes {metric: [num_train, num_eval]},
    threads_per_job, and per method {beta, seeds, k (weak methods)}.
  """
  methods = {}
  for method, values in spec.methods:
    pairs = dict(spec.settings_of(method, values[0]))
    methods[method] = {"beta": float(values[0]),
                       "seeds": list(spec.seeds_of(method, values[0]))}
    if "k" in pairs:
      methods[method]["k"] = pairs["k"]
  return {"steps": spec.steps, "metrics": list(spec.metrics),
          "metric_sizes": {m: list(s) for m, s in spec.metric_sizes},
          "threads_per_job": spec.threads_per_job,
          "train_settings": dict(spec.train_settings), "methods": methods}


def study_dir(work_dir):
  """<work_dir>/study."""
  return os.path.join(work_dir, STUDY_SUBDIR)


def run_study(work_dir, spec, parallel_runs=1, log=None):
  """Trains and scores the comparison's unfinished jobs (local engine).

  Returns:
    engines.StudyRun (its ``failed`` counts failed jobs).

  Raises:
    spec_lib.StudyError: work_dir holds a study of other settings.
  """
  directory = study_dir(work_dir)
  study_dir_lib.open_study(directory, spec)
  options = engines.EngineOptions(workers=parallel_runs)
  kwargs = {"log": log} if log else {}
  return engines.run_study(directory, spec, spec_lib.jobs(spec), options,
                           **kwargs)


def collect(work_dir, spec):
  """The finished jobs' records, read from the study directory.

  Returns:
    list (in job order; unfinished jobs left out) of dicts: method, beta,
    seed, job_id, scores {metric: score}, mig_result (MIG's full result),
    train_metrics (the run's final training metrics, kl_latent_<j> among
    them), seconds (training + evaluation, wall), export_path, run_dir.
  """
  directory = study_dir(work_dir)
  records = []
  for job in spec_lib.jobs(spec):
    row = job_lib.done_row(directory, job)
    if row is None:
      continue
    run_dir = os.path.join(study_dir_lib.job_dir(directory, job),
                           job_lib.RUN_SUBDIR)
    summary = io_utils.read_json_if_present(
        os.path.join(run_dir, training.SUMMARY_FILE)) or {}
    mig = io_utils.read_json(job_lib.metric_path(directory, job, "mig"))
    records.append({
        "method": job.method, "beta": float(job.value), "seed": job.seed,
        "job_id": row["job_id"], "scores": dict(row["metrics"]),
        "mig_result": mig["result"],
        "train_metrics": summary.get("metrics") or {},
        "seconds": row["wall_seconds"],
        "export_path": os.path.abspath(os.path.join(directory,
                                                    row["export_path"])),
        "run_dir": os.path.abspath(run_dir)})
  return records


def shipped_reference(root="."):
  """The shipped export's scores, read from its metrics.json.

  Returns:
    dict: path (SHIPPED_EXPORT), beta_vae, mig.
  """
  metrics = io_utils.read_json(os.path.join(root, SHIPPED_EXPORT,
                                            "metrics.json"))
  return {"path": SHIPPED_EXPORT,
          "beta_vae": float(metrics["beta_vae"]["score"]),
          "mig": float(metrics["mig"]["score"])}


def _job_entry(record, factor_names):
  """One job's row of the summary (see ``summarize``)."""
  train_metrics = record.get("train_metrics") or {}
  # Captured factors count the latents the run kept active (as a
  # reproduction's table does), all latents when the run logged no KLs.
  active = (analysis.active_latents(train_metrics)
            if analysis.has_latent_kl(train_metrics) else None)
  listed = analysis.latent_factors(record["mig_result"], factor_names,
                                   active=active)
  # A shape latent is an active latent whose highest-NMI factor is shape
  # (as a captured factor is counted): shape information on the scale
  # latent (a common failure on dSprites) is not one.
  shape_nmi = max((e["nmi"] for e in listed["latents"]
                   if e["factor"] == SHAPE), default=0.0)
  return {"method": record["method"], "beta": float(record["beta"]),
          "seed": int(record["seed"]),
          "beta_vae": float(record["scores"]["beta_vae"]),
          "mig": float(record["scores"]["mig"]),
          "shape_nmi": round(float(shape_nmi), 4),
          "captured": analysis.captured_factors(listed),
          "active_latents": None if active is None else len(active),
          "seconds": float(record.get("seconds") or 0.0),
          "export_path": record.get("export_path"),
          "run_dir": record.get("run_dir")}


def _mean_std(values):
  values = np.asarray(values, np.float64)
  return {"mean": float(values.mean()), "std": float(values.std())}


def summarize(records, factor_names=FACTOR_NAMES):
  """Per job and per method numbers of the comparison.

  Args:
    records: ``collect``'s list (or hand-made dicts of its keys; only
      method, beta, seed, scores, mig_result are required).
    factor_names: the dataset's factor names, in MIG's order.

  Returns:
    dict: ``jobs``, a list (records' order) of {method, beta, seed,
    beta_vae, mig, shape_nmi (the largest NMI with "shape" of an active
    latent whose highest-NMI factor is shape; 0 without one), captured (factors some active latent captures at NMI >=
    analysis.CAPTURE_MIN_NMI), active_latents, seconds, export_path,
    run_dir}; ``methods``, {method: {beta, n, beta_vae, mig, shape_nmi
    (each {mean, std}, population std over seeds), seconds (sum)}} in
    first-seen order.
  """
  jobs = [_job_entry(r, factor_names) for r in records]
  methods = {}
  for method in dict.fromkeys(j["method"] for j in jobs):
    rows = [j for j in jobs if j["method"] == method]
    methods[method] = {
        "beta": rows[0]["beta"], "n": len(rows),
        **{key: _mean_std([r[key] for r in rows])
           for key in ("beta_vae", "mig", "shape_nmi")},
        "seconds": round(sum(r["seconds"] for r in rows), 1)}
  return {"jobs": jobs, "methods": methods}


def _rows(summary, method):
  return [j for j in summary["jobs"] if j["method"] == method]


def checks(summary, shipped, expected_seeds=None):
  """Issue 61's target, on ada_gvae's jobs.

  Args:
    summary: ``summarize``'s output.
    shipped: ``shipped_reference``'s dict (beta_vae, mig, path).
    expected_seeds: ada_gvae's seeds the study trains; a seed without a
      finished job misses checks a and c (None: the summary's seeds).

  Returns:
    list of three dicts {key ("a", "b", "c"), name, measured, met}:
    (a) every seed's β-VAE metric >= 0.90 and MIG >= 0.40; (b) the mean
    over seeds beats the shipped export on both; (c) every seed has a
    shape latent (shape_nmi >= SHAPE_MIN_NMI).  None is met without a
    finished ada_gvae job.
  """
  rows = _rows(summary, ADA)
  seeds = [r["seed"] for r in rows]
  missing = sorted(set(expected_seeds or ()) - set(seeds))
  complete = bool(rows) and not missing
  per_seed = {r["seed"]: {"beta_vae": r["beta_vae"], "mig": r["mig"]}
              for r in rows}
  a_met = complete and all(
      r["beta_vae"] >= TARGETS["beta_vae"] and r["mig"] >= TARGETS["mig"]
      for r in rows)
  means = {m: (float(np.mean([r[m] for r in rows])) if rows else None)
           for m in METRICS}
  b_met = bool(rows) and all(means[m] > shipped[m] for m in METRICS)
  c_met = complete and all(r["shape_nmi"] >= SHAPE_MIN_NMI for r in rows)
  return [
      {"key": "a", "met": a_met, "missing_seeds": missing,
       "name": (f"every {ADA} seed: β-VAE metric ≥ "
                f"{TARGETS['beta_vae']:.2f} and MIG ≥ {TARGETS['mig']:.2f}"),
       "measured": per_seed},
      {"key": "b", "met": b_met, "missing_seeds": [],
       "name": (f"{ADA}'s mean beats the shipped {shipped['path']} on both "
                f"(β-VAE metric {shipped['beta_vae']:.3f}, MIG "
                f"{shipped['mig']:.3f})"),
       "measured": {"mean_beta_vae": means["beta_vae"],
                    "mean_mig": means["mig"],
                    "shipped_beta_vae": shipped["beta_vae"],
                    "shipped_mig": shipped["mig"]}},
      {"key": "c", "met": c_met, "missing_seeds": missing,
       "name": (f"every {ADA} seed has a shape latent (NMI ≥ "
                f"{SHAPE_MIN_NMI:g})"),
       "measured": {r["seed"]: r["shape_nmi"] for r in rows}},
  ]


def best_seed(summary, method=ADA):
  """The job of ``method`` a person would ship: highest MIG.

  Ties on MIG go to the higher β-VAE metric, then to the lower seed (so
  the choice never depends on the jobs' order).

  Returns:
    the summary's job dict (seed, export_path, run_dir, scores), or None
    when ``method`` has no finished job.
  """
  rows = _rows(summary, method)
  if not rows:
    return None
  return max(rows, key=lambda r: (r["mig"], r["beta_vae"], -r["seed"]))


def _seeds_text(seeds):
  return ", ".join(str(s) for s in seeds)


def _settings_lines(settings, hardware):
  methods = settings["methods"]
  shared = settings["train_settings"]
  source = ("the CPU recipe" if shared == RECIPE_SETTINGS else
            "the CPU recipe but " + ", ".join(
                f"{k} {shared[k]}" for k in RECIPE_OVERRIDES
                if shared.get(k) != RECIPE_SETTINGS[k]))
  lines = [f"- steps: {settings['steps']:,}; training: "
           + ", ".join(f"{k} {v}" for k, v in sorted(shared.items()))
           + f" ({source}), dSprites simulator"]
  for method, info in methods.items():
    k = f", k = {info['k']}" if "k" in info else ""
    lines.append(f"- {method}: β = {info['beta']:g}{k}, seeds "
                 f"{_seeds_text(info['seeds'])}")
  sizes = settings.get("metric_sizes") or {}
  lines.append("- metrics: " + ", ".join(
      m + (f" (num_train, num_eval) = {tuple(sizes[m])}" if m in sizes
           else " (disentanglement_lib's full sizes)")
      for m in settings["metrics"]))
  lines.append(f"- hardware: {hardware}; TensorFlow threads per job: "
               f"{settings['threads_per_job']}")
  return lines


def _job_table(summary):
  lines = ["| method | β | seed | β-VAE metric | MIG | shape NMI | "
           "captured factors | seconds |", "|---|---:|---:|---:|---:|---:|"
           "---|---:|"]
  for j in summary["jobs"]:
    lines.append(f"| {j['method']} | {j['beta']:g} | {j['seed']} | "
                 f"{j['beta_vae']:.3f} | {j['mig']:.3f} | "
                 f"{j['shape_nmi']:.2f} | "
                 f"{', '.join(j['captured']) or 'none'} | "
                 f"{j['seconds']:.0f} |")
  return lines


def _method_table(summary):
  lines = ["| method | β | seeds | β-VAE metric | MIG | shape NMI | "
           "seconds (sum) |", "|---|---:|---:|---:|---:|---:|---:|"]
  for method, m in summary["methods"].items():
    cells = " | ".join(f"{m[k]['mean']:.3f} ± {m[k]['std']:.3f}"
                       for k in ("beta_vae", "mig", "shape_nmi"))
    lines.append(f"| {method} (mean) | {m['beta']:g} | {m['n']} | {cells} "
                 f"| {m['seconds']:.0f} |")
  return lines


def _number(value):
  return "n/a" if value is None else f"{value:.3f}"


def _check_lines(check_list):
  lines = []
  for check in check_list:
    verdict = "met" if check["met"] else "MISSED"
    measured = check["measured"]
    if check["key"] == "b":
      what = (f"mean β-VAE metric {_number(measured['mean_beta_vae'])}, "
              f"mean MIG {_number(measured['mean_mig'])}")
    elif check["key"] == "a":
      what = "; ".join(f"seed {s}: {v['beta_vae']:.3f} / {v['mig']:.3f}"
                       for s, v in measured.items()) or "no finished seed"
    else:
      what = "; ".join(f"seed {s}: {v:.2f}" for s, v in measured.items()
                       ) or "no finished seed"
    if check["missing_seeds"]:
      what += f"; not finished: seeds {_seeds_text(check['missing_seeds'])}"
    lines.append(f"- ({check['key']}) {check['name']}: **{verdict}** "
                 f"({what})")
  return lines


def render_markdown(summary, check_list, command, settings, shipped,
                    hardware="not recorded", best=None):
  """The whole text of docs/weak_supervision.md.

  Args:
    summary: ``summarize``'s output.
    check_list: ``checks``' output.
    command: the command line that wrote the file.
    settings: ``settings_of(spec)``.
    shipped: ``shipped_reference``'s dict.
    hardware: one line on the machine (CPUs, GPUs).
    best: ``best_seed``'s job, or None.

  Returns:
    str, Markdown ending in a newline.
  """
  lines = [
      "# Weak supervision: Ada-GVAE against the β-VAE (issue 61)", "",
      f"Generated by `{command}`; do not edit (rerun it).", "",
      "## Settings", "", *_settings_lines(settings, hardware), "",
      "## Jobs", "",
      "β-VAE metric and MIG: disentanglement_lib's protocols on the "
      "posterior mean; shape NMI: the largest NMI with shape of an active "
      "latent whose best factor is shape, 0 without one (MIG's mutual "
      "information); captured factors: each active "
      "latent's best factor at NMI ≥ "
      f"{analysis.CAPTURE_MIN_NMI:g}.", "",
      *_job_table(summary), "",
      "## Per method (mean ± std over seeds)", "",
      *_method_table(summary), "",
      "## Checks", "", *_check_lines(check_list), "",
      "## Shipped reference", "",
      f"`{shipped['path']}` (its metrics.json): β-VAE metric "
      f"{shipped['beta_vae']:.3f}, MIG {shipped['mig']:.3f}.", ""]
  if best is not None:
    lines += [f"Best {best['method']} seed by MIG (ties: β-VAE metric): "
              f"seed {best['seed']} (β-VAE metric {best['beta_vae']:.3f}, "
              f"MIG {best['mig']:.3f}).", ""]
  return "\n".join(lines)


SUMMARY_FILE = "weak_supervision.json"


def write_report(work_dir, spec, output_md, command, hardware, root="."):
  """Summarises the finished jobs and writes the report and its JSON.

  Args:
    work_dir: the comparison's work directory.
    spec: its StudySpec.
    output_md: where the Markdown goes (its parent folders are created).
    command: the command line, for the "generated by" line.
    hardware: one line on the machine.
    root: the repository root holding SHIPPED_EXPORT.

  Returns:
    dict: summary, checks, best (``best_seed``'s job or None), shipped,
    settings, command, hardware, the JSON's path (``json_path``, in
    work_dir) and the number of unfinished jobs (``unfinished``).
  """
  summary = summarize(collect(work_dir, spec))
  shipped = shipped_reference(root)
  settings = settings_of(spec)
  ada_seeds = settings["methods"][ADA]["seeds"]
  check_list = checks(summary, shipped, expected_seeds=ada_seeds)
  best = best_seed(summary)
  io_utils.write_text_atomic(output_md, render_markdown(
      summary, check_list, command, settings, shipped, hardware, best))
  result = {"command": command, "hardware": hardware, "settings": settings,
            "shipped": shipped, "summary": summary, "checks": check_list,
            "best": best,
            "unfinished": len(spec_lib.jobs(spec)) - len(summary["jobs"]),
            "json_path": os.path.join(work_dir, SUMMARY_FILE)}
  io_utils.write_json_atomic(result["json_path"], result)
  return result


def hardware_line():
  """One line on this machine: CPUs, GPUs, TensorFlow's version."""
  from tf_betavae.experiments import reproduce  # pylint: disable=g-import-not-at-top
  machine = reproduce.machine_info()
  return (f"{machine['cpu_count']} CPUs, GPUs: "
          f"{', '.join(machine['gpus']) or 'none'}, TensorFlow "
          f"{machine['tensorflow']}")


def result_lines(report, output_md):
  """What the script tells its user: each check, the files written, and
  the best ada_gvae seed's export and run (to ship by hand).

  Args:
    report: ``write_report``'s dict.
    output_md: the Markdown's path.

  Returns:
    list of str.
  """
  lines = [f"({c['key']}) {'met' if c['met'] else 'MISSED'}: {c['name']}"
           for c in report["checks"]]
  lines.append(f"wrote {output_md} and {report['json_path']}")
  best = report["best"]
  if best:
    lines.append(f"best {best['method']} seed {best['seed']} (MIG "
                 f"{best['mig']:.3f}, β-VAE metric {best['beta_vae']:.3f}): "
                 f"export {best['export_path']}, run {best['run_dir']}")
  else:
    lines.append(f"no finished {ADA} job: nothing to ship")
  return lines
