"""tf_betavae.experiments.parallel: CPU shares, pinned worker processes."""

import os

import pytest

from tf_betavae.experiments import parallel


def test_cpu_shares_split_every_cpu_once_near_equally():
  shares = parallel.cpu_shares(3, cpus=[0, 1, 2, 3, 4, 5, 6])
  assert shares == [[0, 1, 2], [3, 4], [5, 6]]
  assert parallel.cpu_shares(4, cpus=[2, 5]) == [[2], [5]]
  assert parallel.cpu_shares(1, cpus=[0, 1]) == [[0, 1]]
  with pytest.raises(ValueError, match="num_workers must be >= 1"):
    parallel.cpu_shares(0, cpus=[0])


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"),
                    reason="CPU affinity is Linux-only")
def test_workers_run_on_disjoint_cpus():
  cpus = parallel.available_cpus()
  jobs = [(0,)] * 4
  seen = parallel.run_pinned(os.sched_getaffinity, jobs, 2)
  distinct = {frozenset(s) for s in seen}
  assert len(distinct) == min(2, len(cpus))
  assert set().union(*distinct) == set(cpus)
  if len(distinct) == 2:
    first, second = distinct
    assert not first & second


def test_results_keep_the_order_of_the_jobs():
  assert parallel.run_pinned(abs, [(-3,), (4,), (-5,), (0,)], 2) == [
      3, 4, 5, 0]
  assert parallel.run_pinned(abs, [], 2) == []


def test_a_failing_job_raises_in_the_caller():
  with pytest.raises(ValueError, match="invalid literal"):
    parallel.run_pinned(int, [("1",), ("not a number",)], 2)
