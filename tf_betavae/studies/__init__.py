"""Studies: many trainings as one numbered list of jobs (issue 59).

A study is a ``StudySpec`` (datasets × methods with their values × seeds,
plus the settings every job shares); ``jobs(spec)`` numbers its jobs the
way disentanglement_lib numbers its models, so a job can be named by its
``model_num`` on any machine.  Each job lives in
``<study_dir>/jobs/<job_id>/``, where ``job_id`` is a hash of the job's
settings; ``<study_dir>/study.json`` records the study and refuses a
different one; ``done.json`` and ``failed.json`` mark a job's end.

Modules (none imports TensorFlow, so a driver that only schedules jobs
stays light):

* ``spec``: StudySpec, Job, the presets, ``jobs``, ``slice_spec``,
  ``job_id``.
* ``study_dir``: study.json, job directories, markers, ``job_state``.
* ``command``: the study program (scripts/study.py) behind its flags.

The job runner and the engines that fan jobs out (local, Ray) are not
built yet; see docs/studies.md.
"""
