"""Studies: many trainings as one numbered list of jobs (issue 59).

A study is a ``StudySpec`` (datasets × variants × methods with their
values × seeds, plus the settings every job shares); ``jobs(spec)``
numbers its jobs the way disentanglement_lib numbers its models, so a
job can be named by its ``model_num`` on any machine.  Each job lives in
``<study_dir>/jobs/<job_id>/``, where ``job_id`` is a hash of the job's
settings; ``<study_dir>/study.json`` records the study and refuses a
different one; ``done.json`` and ``failed.json`` mark a job's end.

Modules:

* ``spec``: StudySpec, Job, the presets, ``jobs``, ``slice_spec``,
  ``job_id``, ``spec_from_record``.
* ``study_dir``: study.json, job directories, markers, ``job_state``.
* ``job``: one job end to end (train, export, score, done.json): the task
  every engine runs, in a process of its own.  It imports TensorFlow
  inside its functions.
* ``group_udr``: UDR over the seeds of each (dataset, method, value),
  per variant in a study with variants.
* ``engines``: the local engine and ``run_study`` (jobs, then UDR groups).
* ``ray_engine``: one Ray task per job (the optional ``ray`` extra).
* ``report``, ``report_plots``, ``hparams``: results.csv/json, report.md
  with its figures, TensorBoard HParams sessions.
* ``command``: the study program (scripts/study.py) behind its flags.

Only ``job`` and ``group_udr`` load TensorFlow, and only in the task's process: a driver
that schedules jobs and writes the report stays light.  See
docs/studies.md.
"""
