"""tf_betavae.pinned_workers: CPU shares, pinned worker processes."""

import os

import pytest

from tf_betavae import pinned_workers


def test_cpu_shares_split_every_cpu_once_near_equally():
  shares = pinned_workers.cpu_shares(3, cpus=[0, 1, 2, 3, 4, 5, 6])
  assert shares == [[0, 1, 2], [3, 4], [5, 6]]
  assert pinned_workers.cpu_shares(4, cpus=[2, 5]) == [[2], [5]]
  assert pinned_workers.cpu_shares(1, cpus=[0, 1]) == [[0, 1]]
  with pytest.raises(ValueError, match="num_workers must be >= 1"):
    pinned_workers.cpu_shares(0, cpus=[0])


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"),
                    reason="CPU affinity is Linux-only")
def test_workers_run_on_disjoint_cpus():
  cpus = pinned_workers.available_cpus()
  jobs = [(0,)] * 4
  seen = pinned_workers.run_pinned(os.sched_getaffinity, jobs, 2)
  distinct = {frozenset(s) for s in seen}
  assert len(distinct) == min(2, len(cpus))
  assert set().union(*distinct) == set(cpus)
  if len(distinct) == 2:
    first, second = distinct
    assert not first & second


def test_results_keep_the_order_of_the_jobs():
  assert pinned_workers.run_pinned(abs, [(-3,), (4,), (-5,), (0,)], 2) == [
      3, 4, 5, 0]
  assert pinned_workers.run_pinned(abs, [], 2) == []


def test_a_failing_job_raises_in_the_caller():
  with pytest.raises(ValueError, match="invalid literal"):
    pinned_workers.run_pinned(int, [("1",), ("not a number",)], 2)
