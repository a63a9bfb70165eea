"""The study report's figures, after Locatello et al. 2019's.

* ``rank_correlation.png``: Spearman rank correlation between the metrics
  (UDR included) over the done jobs, an annotated heatmap (their Fig. 2).
* ``distribution_<column>.png``: one metric's scores per method (a box per
  method), then one panel per method with the hyperparameter's value on x
  (their Figs. 3 and 7).
* ``udr_vs_metrics.png``: UDR (udr_lasso) against each supervised metric,
  one scatter panel per metric, coloured by method (Duan et al. 2020's
  comparison).

In a study with variants (say weak_study's k1 and krnd) a "method" above is
a (method, variant) series, labelled "ada_gvae [k1]" (``series_label``), so
that a box or a colour never pools two supervision settings.

``rank_correlations`` is the numbers behind the heatmap, a pure function of
the rows.  Figures are drawn on matplotlib ``Figure`` objects rendered by
Agg (no pyplot, so no global backend or figure state) and saved
atomically.  Nothing here imports TensorFlow.
"""

import glob
import os

import matplotlib
from matplotlib.backends import backend_agg
from matplotlib import figure as figure_lib
import numpy as np

from tf_betavae import io_utils

RANK_CORRELATION = "rank_correlation"
UDR_VS_METRICS = "udr_vs_metrics"
DISTRIBUTION_PREFIX = "distribution_"
UDR_COLUMN = "udr_lasso"
UDR_COLUMNS = ("udr_lasso", "udr_spearman")
# Fewer points than this make a rank correlation of ±1 or nothing.
MIN_JOBS_FOR_CORRELATION = 3
MIN_JOBS_FOR_DISTRIBUTION = 2
MIN_JOBS_FOR_SCATTER = 2
_DONE = "done"


def _ranks(values):
  """Ranks 1..n of ``values`` (float64 [n]), ties given their mean rank."""
  order = np.argsort(values, kind="mergesort")
  sorted_values = values[order]
  ranks = np.empty(len(values), dtype=np.float64)
  start = 0
  while start < len(values):
    end = start
    while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[
        start]:
      end += 1
    ranks[order[start:end + 1]] = (start + end) / 2.0 + 1.0
    start = end + 1
  return ranks


def _spearman(x, y):
  """Spearman's rho of two float64 [n] arrays; NaN when either is constant
  or n < 2."""
  if len(x) < 2:
    return float("nan")
  rank_x = _ranks(x) - (len(x) + 1) / 2.0
  rank_y = _ranks(y) - (len(y) + 1) / 2.0
  norm = np.sqrt(np.sum(rank_x**2) * np.sum(rank_y**2))
  if norm == 0:
    return float("nan")
  return float(np.sum(rank_x * rank_y) / norm)


def rank_correlations(rows, columns):
  """Spearman rank correlation between ``columns`` over ``rows``.

  Each pair is computed over the rows where both values are present (not
  None), as the Pearson correlation of their ranks (ties share their mean
  rank).

  Args:
    rows: list of dict (report.collect's rows; pass the done ones).
    columns: k column names.

  Returns:
    float64 [k, k], symmetric, in [-1, 1]; NaN where a pair has fewer than
    two rows with both values or a constant column.
  """
  k = len(columns)
  matrix = np.full((k, k), np.nan)
  for i, first in enumerate(columns):
    for j in range(i, k):
      second = columns[j]
      pairs = [(r[first], r[second]) for r in rows
               if r.get(first) is not None and r.get(second) is not None]
      if not pairs:
        continue
      x, y = (np.asarray(v, dtype=np.float64) for v in zip(*pairs))
      matrix[i, j] = matrix[j, i] = _spearman(x, y)
  return matrix


def _save(fig, path):
  """Renders ``fig`` to PNG at ``path`` atomically; returns ``path``."""
  backend_agg.FigureCanvasAgg(fig)
  with io_utils.atomic_file(path, "wb", suffix=".png") as f:
    fig.savefig(f, format="png", dpi=100)
  return path


def plot_rank_correlations(matrix, labels, path):
  """An annotated heatmap of ``matrix`` (float [k, k] in [-1, 1], NaN
  cells left blank) with ``labels`` on both axes; returns ``path``."""
  k = len(labels)
  fig = figure_lib.Figure(figsize=(1.0 + 0.8 * k, 0.8 + 0.7 * k))
  ax = fig.add_subplot(1, 1, 1)
  image = ax.imshow(np.ma.masked_invalid(matrix), cmap="RdBu_r", vmin=-1.0,
                    vmax=1.0)
  ax.set_xticks(range(k), labels=labels, rotation=45, ha="right")
  ax.set_yticks(range(k), labels=labels)
  for i in range(k):
    for j in range(k):
      if np.isfinite(matrix[i, j]):
        ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center",
                fontsize=8,
                color="white" if abs(matrix[i, j]) > 0.6 else "black")
  fig.colorbar(image, ax=ax, label="Spearman rank correlation")
  ax.set_title("Rank correlation between scores")
  fig.tight_layout()
  return _save(fig, path)


def _present(rows, column):
  return [r for r in rows if r.get(column) is not None]


def series_label(row):
  """The series a row is drawn in: its method, with its variant in
  brackets when it has one ("ada_gvae [k1]")."""
  variant = row.get("variant")
  return f"{row['method']} [{variant}]" if variant else row["method"]


def series(rows):
  """The series labels of ``rows``, in order of first appearance."""
  return list(dict.fromkeys(series_label(r) for r in rows))


def plot_distribution(rows, column, path):
  """``column``'s values over ``rows``: a box per series (``series``),
  then a panel per series with a box per hyperparameter value; returns
  ``path``."""
  rows = _present(rows, column)
  methods = series(rows)
  fig = figure_lib.Figure(figsize=(3.2 * (1 + len(methods)), 3.4))
  axes = fig.subplots(1, 1 + len(methods), squeeze=False, sharey=True)[0]
  axes[0].boxplot([[r[column] for r in rows if series_label(r) == m]
                   for m in methods], tick_labels=methods)
  axes[0].set_title(f"{column} per method")
  axes[0].set_ylabel(column)
  axes[0].tick_params(axis="x", labelrotation=30)
  for ax, method in zip(axes[1:], methods):
    of_method = [r for r in rows if series_label(r) == method]
    values = sorted({r["value"] for r in of_method})
    ax.boxplot([[r[column] for r in of_method if r["value"] == v]
                for v in values], tick_labels=[f"{v:g}" for v in values])
    ax.set_title(method)
    ax.set_xlabel(of_method[0]["hyperparameter"])
  fig.tight_layout()
  return _save(fig, path)


def plot_udr_vs_metrics(rows, metrics, path):
  """udr_lasso (y) against each of ``metrics`` (x) over ``rows``, one
  panel per metric, points coloured by series (``series``); returns
  ``path``."""
  rows = _present(rows, UDR_COLUMN)
  methods = series(rows)
  colours = matplotlib.colormaps["tab10"]
  fig = figure_lib.Figure(figsize=(3.4 * len(metrics), 3.4))
  axes = fig.subplots(1, len(metrics), squeeze=False)[0]
  for ax, metric in zip(axes, metrics):
    for index, method in enumerate(methods):
      points = [(r[metric], r[UDR_COLUMN]) for r in rows
                if series_label(r) == method and r.get(metric) is not None]
      if points:
        x, y = zip(*points)
        ax.scatter(x, y, s=14, color=colours(index % 10), label=method)
    ax.set_xlabel(metric)
    ax.set_ylabel(UDR_COLUMN)
  handles, labels = axes[0].get_legend_handles_labels()
  if handles:
    axes[0].legend(handles, labels, fontsize=7)
  fig.suptitle("UDR against the supervised metrics")
  fig.tight_layout()
  return _save(fig, path)


def write_figures(rows, metrics, figures_dir):
  """Draws every figure the done rows allow into ``figures_dir``.

  A figure needs enough done jobs with scores (MIN_JOBS_FOR_*); the ones
  that lack them are skipped with a reason.  PNGs a former report left in
  ``figures_dir`` that this one did not draw are removed, so the folder
  matches report.md.

  Args:
    rows: report.collect's rows (all states; only done rows are drawn).
    metrics: the supervised metric keys.
    figures_dir: where the PNGs go (created when needed).

  Returns:
    (paths of the PNGs written, list of (figure name, reason) skipped).
  """
  done = [r for r in rows if r.get("state") == _DONE]
  written, skipped = [], []
  scores = tuple(metrics) + UDR_COLUMNS

  usable = [c for c in scores
            if len(_present(done, c)) >= MIN_JOBS_FOR_CORRELATION]
  if len(done) < MIN_JOBS_FOR_CORRELATION or len(usable) < 2:
    skipped.append((RANK_CORRELATION, (
        f"needs at least {MIN_JOBS_FOR_CORRELATION} done jobs with two or "
        f"more scores, has {len(done)} done jobs and "
        f"{len(usable)} scores with enough values")))
  else:
    written.append(plot_rank_correlations(
        rank_correlations(done, usable), usable,
        os.path.join(figures_dir, RANK_CORRELATION + ".png")))

  for column in tuple(metrics) + (UDR_COLUMN,):
    name = DISTRIBUTION_PREFIX + column
    present = len(_present(done, column))
    if present < MIN_JOBS_FOR_DISTRIBUTION:
      skipped.append((name, f"needs at least {MIN_JOBS_FOR_DISTRIBUTION} "
                            f"done jobs with {column}, has {present}"))
    else:
      written.append(plot_distribution(
          done, column, os.path.join(figures_dir, name + ".png")))

  with_udr = _present(done, UDR_COLUMN)
  scored = [m for m in metrics if len(_present(with_udr, m)) >=
            MIN_JOBS_FOR_SCATTER]
  if not scored:
    skipped.append((UDR_VS_METRICS, (
        f"needs at least {MIN_JOBS_FOR_SCATTER} done jobs with both UDR "
        f"(udr/*.json) and a supervised metric, has {len(with_udr)} with "
        "UDR")))
  else:
    written.append(plot_udr_vs_metrics(
        done, scored, os.path.join(figures_dir, UDR_VS_METRICS + ".png")))

  kept = {os.path.abspath(p) for p in written}
  for stale in glob.glob(os.path.join(figures_dir, "*.png")):
    if os.path.abspath(stale) not in kept:
      os.remove(stale)
  return written, skipped
