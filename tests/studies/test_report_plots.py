"""tf_betavae.studies.report_plots: rank correlations and the figures."""

import os

import numpy as np
import pytest
from scipy import stats

from tf_betavae.studies import report_plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _rows(n, seed=0):
  """``n`` done rows of two methods × two values with random scores; mig
  rounded to one decimal so that it has ties."""
  rng = np.random.RandomState(seed)
  rows = []
  for i in range(n):
    method = ("beta_vae", "factor_vae")[i % 2]
    rows.append({
        "state": "done", "method": method,
        "hyperparameter": "beta" if method == "beta_vae" else "gamma",
        "value": float((1, 4)[(i // 2) % 2]),
        "mig": float(np.round(rng.rand(), 1)), "dci": float(rng.rand()),
        "sap": float(rng.rand()), "udr_lasso": float(rng.rand()),
        "udr_spearman": float(rng.rand())})
  return rows


def test_rank_correlations_match_scipy():
  rows = _rows(40)
  columns = ["mig", "dci", "sap", "udr_lasso"]
  matrix = report_plots.rank_correlations(rows, columns)
  table = np.array([[r[c] for c in columns] for r in rows])
  expected = stats.spearmanr(table).statistic
  assert matrix.shape == (4, 4)
  np.testing.assert_allclose(matrix, expected, atol=1e-12)
  assert len({r["mig"] for r in rows}) < 40  # ties were exercised


def test_rank_correlations_use_the_rows_where_both_values_are_present():
  rows = _rows(30, seed=1)
  for row in rows[:10]:
    row["udr_lasso"] = None
  rows[12]["dci"] = None
  matrix = report_plots.rank_correlations(rows, ["dci", "udr_lasso"])
  both = [r for r in rows if r["dci"] is not None
          and r["udr_lasso"] is not None]
  assert len(both) == 19
  expected = stats.spearmanr([r["dci"] for r in both],
                             [r["udr_lasso"] for r in both]).statistic
  assert matrix[0, 1] == pytest.approx(expected, abs=1e-12)
  assert matrix[1, 0] == matrix[0, 1]
  assert matrix[0, 0] == pytest.approx(1.0)


def test_rank_correlations_are_nan_without_enough_data():
  rows = [{"a": 1.0, "b": 2.0, "c": None}, {"a": 1.0, "b": 3.0, "c": 5.0}]
  matrix = report_plots.rank_correlations(rows, ["a", "b", "c"])
  assert np.isnan(matrix[0, 1])  # a is constant
  assert np.isnan(matrix[1, 2])  # one row has both
  assert matrix[1, 1] == pytest.approx(1.0)


def test_write_figures_draws_every_figure_and_removes_stale_ones(tmp_path):
  figures_dir = str(tmp_path / "report")
  os.makedirs(figures_dir)
  stale = os.path.join(figures_dir, "distribution_beta_vae.png")
  with open(stale, "wb") as f:
    f.write(PNG_SIGNATURE)
  rows = _rows(12) + [{"state": "failed", "method": "beta_vae",
                       "mig": None}]
  written, skipped = report_plots.write_figures(
      rows, ("mig", "dci", "sap"), figures_dir)
  assert skipped == []
  assert sorted(os.path.basename(p) for p in written) == [
      "distribution_dci.png", "distribution_mig.png", "distribution_sap.png",
      "distribution_udr_lasso.png", "rank_correlation.png",
      "udr_vs_metrics.png"]
  for path in written:
    with open(path, "rb") as f:
      data = f.read()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5000
  assert not os.path.exists(stale)
  assert sorted(os.listdir(figures_dir)) == sorted(
      os.path.basename(p) for p in written)


def test_write_figures_skips_what_the_rows_cannot_show(tmp_path):
  rows = _rows(2)
  for row in rows:
    row["udr_lasso"] = None
  rows[1]["sap"] = None
  written, skipped = report_plots.write_figures(
      rows, ("mig", "sap"), str(tmp_path))
  assert [os.path.basename(p) for p in written] == ["distribution_mig.png"]
  reasons = dict(skipped)
  assert set(reasons) == {"rank_correlation", "distribution_sap",
                          "distribution_udr_lasso", "udr_vs_metrics"}
  assert "has 2 done jobs" in reasons["rank_correlation"]
  assert reasons["distribution_sap"].endswith("with sap, has 1")
  assert "has 0 with UDR" in reasons["udr_vs_metrics"]


def test_series_keep_variants_apart_and_plain_studies_as_methods(tmp_path):
  plain = _rows(4)
  assert report_plots.series(plain) == ["beta_vae", "factor_vae"]
  weak = [dict(r, method="ada_gvae", hyperparameter="beta",
               variant=("k1", "krnd")[i % 2]) for i, r in enumerate(_rows(8))]
  # One method in two supervision settings: two series, never one pooled.
  assert report_plots.series(weak) == ["ada_gvae [k1]", "ada_gvae [krnd]"]
  written, skipped = report_plots.write_figures(weak, ("mig",),
                                                str(tmp_path / "report"))
  assert skipped == []
  assert len(written) == 4
