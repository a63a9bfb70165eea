r"""One 12-job study run by each engine: wall seconds and the same scores.

  python benchmarks/study_engines.py                 # local engines only
  unshare -n sh -c 'ip link set lo up && HOME=$(mktemp -d) \
      python benchmarks/study_engines.py --engines=local1,local2,futures2,ray'

The study: the β-VAE at β ∈ {1, 4} × seeds 0-5 on the dSprites simulator,
the default conv net at batch 64 for --steps steps, scored with the β-VAE
metric (500 / 200 examples) and MIG (10,000 samples), then UDR per β over
1,000 images.  Each engine runs it into
its own directory, one after another, and the table gives:

* ``local2``: the local engine with two workers pinned to one CPU each
  (tf_betavae.experiments.parallel, as --workers=2), one thread per job;
* ``futures2``: a plain ``concurrent.futures.ProcessPoolExecutor`` with two
  spawned workers, not pinned, one thread per job: the alternative the
  local engine could become;
* ``ray``: one Ray task per job (max_calls=1: every job in a fresh
  process) on a Ray started here, one CPU and one thread per task;
* ``local1x2``: the local engine with one worker of two threads (the study
  with threads_per_job=2, so its jobs are other models).

and checks that each engine's jobs score exactly as the first engine's of
the same threads_per_job.
Ray binds the machine's network address: in a sandbox run it inside a
private network namespace as above (the HOME keeps Ray's token file out of
the real one).
"""

import concurrent.futures
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tf_betavae.studies import engines  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.studies import spec as spec_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.studies import study_dir as study_dir_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

flags.DEFINE_list("engines", ["local2", "futures2", "local1x2"],
                  "Engines to compare: local2, futures2, ray, local1x2.")
flags.DEFINE_integer("steps", 300, "Training steps of each job.")
flags.DEFINE_string("work_dir", None, "Where the studies go (default: a "
                    "temporary folder, removed at the end).")
flags.DEFINE_string("output", None, "Also write the results as JSON here.")
FLAGS = flags.FLAGS


def study(steps, threads_per_job):
  return spec_lib.StudySpec(threads_per_job=threads_per_job,
      name="engine_benchmark", datasets=("dsprites",),
      methods=(("beta_vae", (1.0, 4.0)),), seeds=tuple(range(6)),
      steps=steps, metrics=("beta_vae", "mig"),
      metric_sizes={"beta_vae": (500, 200), "mig": (10000, None)},
      udr_num_points=1000, train_settings={"image_summary_every": 0})


def _futures_runner(fn, args_list, options, on_outcome=None):
  """concurrent.futures alone: two spawned workers, nobody pinned."""
  del options
  context = multiprocessing.get_context("spawn")
  with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
    futures = {pool.submit(fn, *args): i for i, args in enumerate(args_list)}
    results = [None] * len(args_list)
    for future in concurrent.futures.as_completed(futures):
      index = futures[future]
      results[index] = future.result()
      if on_outcome:
        on_outcome(index, results[index])
  return results


# name: (engine options, runner, threads_per_job)
ENGINES = {
    "local2": (engines.EngineOptions(workers=2), None, 1),
    "futures2": (engines.EngineOptions(workers=2), _futures_runner, 1),
    "ray": (engines.EngineOptions(engine=engines.RAY), None, 1),
    "local1x2": (engines.EngineOptions(workers=1), None, 2),
}


def main(argv):
  del argv
  unknown = [name for name in FLAGS.engines if name not in ENGINES]
  if unknown:
    raise app.UsageError(f"unknown engines {unknown}; choose from "
                         f"{sorted(ENGINES)}")
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  work_dir = FLAGS.work_dir or tempfile.mkdtemp(prefix="study_engines")
  results, references = {}, {}
  try:
    for name in FLAGS.engines:
      options, runner, threads = ENGINES[name]
      spec = study(FLAGS.steps, threads)
      jobs = spec_lib.jobs(spec)
      directory = os.path.join(work_dir, name)
      study_dir_lib.open_study(directory, spec)
      load = os.getloadavg()[0]
      start = time.monotonic()
      run = engines.run_study(directory, spec, jobs, options,
                              log=lambda line: None, runner=runner)
      seconds = time.monotonic() - start
      scores = {}
      for job in jobs:
        done = json.load(open(os.path.join(
            study_dir_lib.job_dir(directory, job), "done.json")))["result"]
        scores[job.model_num] = done["metrics"]
      first = references.setdefault(threads, (name, scores))
      same = scores == first[1]
      results[name] = {
          "seconds": round(seconds, 1), "failed": run.failed,
          "threads_per_job": threads,
          "jobs_per_hour": round(len(jobs) * 3600 / seconds, 1),
          "load_before": round(load, 2),
          "same_scores_as": first[0] if same else None}
      print(f"{name}: {seconds:.1f} s, {run.failed} failed, same scores as "
            f"{first[0]}: {same}", flush=True)
  finally:
    if FLAGS.work_dir is None:
      shutil.rmtree(work_dir, ignore_errors=True)
  print(f"\n12 jobs, {FLAGS.steps} steps each, on {os.cpu_count()} CPUs\n")
  print("| engine | threads per job | wall s | jobs/hour | vs first | same "
        "scores as | load before |\n|---|---:|---:|---:|---:|---|---:|")
  base = next(iter(results.values()))["seconds"]
  for name, entry in results.items():
    print(f"| {name} | {entry['threads_per_job']} | {entry['seconds']} | "
          f"{entry['jobs_per_hour']} | {base / entry['seconds']:.2f}× | "
          f"{entry['same_scores_as'] or 'differ'} | "
          f"{entry['load_before']} |")
  if FLAGS.output:
    with open(FLAGS.output, "w") as f:
      json.dump({"steps": FLAGS.steps, "jobs": 12,
                 "results": results}, f, indent=2)


if __name__ == "__main__":
  app.run(main)
