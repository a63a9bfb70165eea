"""Bar chart of the KL divergence per latent: which latents are active."""

import numpy as np

from tf_betavae.models import latent_stats
from tf_betavae.visualize import image_utils


def kl_bar_chart(kl, threshold=latent_stats.ACTIVE_KL_NATS, title=None, size=(6.4, 3.2),
                 dpi=100):
  """KL(q(z_d|x) || p(z_d)) per latent as a bar chart.

  Args:
    kl: float [D], nats per latent (e.g. latent_stats.kl_per_latent).
    threshold: nats; bars above it (active latents) are drawn in colour,
      the others in grey, and a dashed line marks it.
    title: optional title; default states how many latents are active.
    size: (width, height) in inches.
    dpi: pixels per inch.

  Returns:
    uint8 np.ndarray [round(height*dpi), round(width*dpi), 3].
  """
  from matplotlib import figure as figure_lib  # pylint: disable=g-import-not-at-top
  kl = np.asarray(kl, np.float64)
  active = kl > threshold
  fig = figure_lib.Figure(figsize=size, dpi=dpi)
  ax = fig.add_subplot(1, 1, 1)
  colors = np.where(active, "tab:blue", "tab:gray")
  positions = np.arange(len(kl))
  ax.bar(positions, kl, color=list(colors))
  ax.axhline(threshold, color="tab:red", linestyle="--", linewidth=0.8)
  ax.set_xticks(positions)
  ax.set_xticklabels([f"z{d}" for d in positions],
                     fontsize=8 if len(kl) <= 16 else 6)
  ax.set_xlabel("latent")
  ax.set_ylabel("KL (nats)")
  ax.set_title(title or f"KL per latent: {int(active.sum())} of {len(kl)} "
               f"active (> {threshold:g} nats), total {kl.sum():.2f} nats",
               fontsize=9)
  for x, value in zip(positions, kl):
    ax.annotate(f"{value:.2f}", (x, value), ha="center", va="bottom",
                fontsize=6)
  ax.set_ylim(0, max(float(kl.max(initial=0.0)) * 1.15, threshold * 2))
  fig.tight_layout()
  return image_utils.figure_to_array(fig)
