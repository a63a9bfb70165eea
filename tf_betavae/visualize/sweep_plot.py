"""The picture of a sweep: metric score and reconstruction error against
the swept hyperparameter (β by default)."""

import numpy as np

from tf_betavae.visualize import image_utils


def sweep_plot(rows, summary, best=None, metric_name="score", dpi=100,
               x_key="beta", x_label="β"):
  """Metric score and reconstruction error against the swept value.

  Args:
    rows: the sweep's CSV rows (one per run: x_key, score, reconstruction).
    summary: per-value means, sorted by value (dicts with x_key, score,
      reconstruction; experiments.sweep.summarize).
    best: the summary entry to mark (or None).
    metric_name: label of the score axis.
    dpi: pixels per inch of a 7 x 4 inch figure.
    x_key: the key of the swept value in rows, summary and best.
    x_label: its name on the x axis and in the title.

  Returns:
    uint8 np.ndarray [400, 700, 3] at dpi 100.
  """
  from matplotlib import figure as figure_lib  # pylint: disable=g-import-not-at-top
  fig = figure_lib.Figure(figsize=(7, 4), dpi=dpi)
  ax = fig.add_subplot(1, 1, 1)
  betas = np.array([s[x_key] for s in summary])
  ax.plot(betas, [s["score"] for s in summary], "-o", color="tab:blue",
          label=f"{metric_name} (mean over seeds)")
  ax.scatter([r[x_key] for r in rows], [r["score"] for r in rows],
             color="tab:blue", alpha=0.35, s=14)
  ax.set_xlabel(x_label)
  ax.set_ylabel(f"{metric_name} score", color="tab:blue")
  right = ax.twinx()
  right.plot(betas, [s["reconstruction"] for s in summary], "-s",
             color="tab:red", label="reconstruction error")
  right.scatter([r[x_key] for r in rows],
                [r["reconstruction"] for r in rows],
                color="tab:red", alpha=0.35, s=14)
  right.set_ylabel("reconstruction error (nats / image, held out)",
                   color="tab:red")
  _beta_axis(ax, betas)
  if best is not None:
    ax.axvline(best[x_key], color="tab:green", linestyle=":", linewidth=1)
  ax.set_title("disentanglement / reconstruction trade-off"
               + (f" (best {x_label} = {best[x_key]:g})" if best else ""),
               fontsize=10)
  lines = ax.get_legend_handles_labels()
  lines2 = right.get_legend_handles_labels()
  ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8,
            loc="best")
  fig.tight_layout()
  return image_utils.figure_to_array(fig)


def _beta_axis(ax, betas):
  """A log axis when the values span a factor of 4 or more (symlog with
  a value of 0)."""
  positive = betas[betas > 0]
  if len(positive) and positive.max() / positive.min() >= 4:
    if (betas <= 0).any():
      ax.set_xscale("symlog", linthresh=float(positive.min()))
    else:
      ax.set_xscale("log")
  ax.set_xticks(betas)
  ax.set_xticklabels([f"{float(b):g}" for b in betas])
  ax.minorticks_off()
