"""Mean latent response to each ground-truth factor (the paper's figure).

For each latent d and each value v of each factor f, the mean (over
images whose factor f equals v, the other factors drawn uniformly) of the
posterior mean μ_d.  A disentangled latent responds to one factor only: one
curve per row moves, the others are flat.  With factors named ``pos_x`` and
``pos_y`` (dSprites) a last column shows μ_d over the position grid, the
heat maps in which the paper shows the position latents.
"""

import numpy as np

from tf_betavae.models import latent_stats
from tf_betavae.visualize import image_utils
from tf_betavae.visualize import sources


def _factor_values(ground_truth):
  """Physical value per index of each factor, or the indices."""
  values = None
  if getattr(ground_truth, "name", None) == "dsprites":
    from tf_betavae.data import dsprites_simulator  # pylint: disable=g-import-not-at-top
    values = dsprites_simulator.factor_values()
  return [
      np.asarray(values[name]) if values and name in values else
      np.arange(n, dtype=np.float64)
      for name, n in zip(ground_truth.factor_names,
                         ground_truth.factors_num_values)
  ]


def compute_factor_response(encode_fn, ground_truth, random_state,
                            samples_per_value=16, position_samples=1):
  """Encodes images conditioned on each value of each factor.

  Args:
    encode_fn: images float32 [N, H, W, C] -> (mean, log_variance) [N, D].
    ground_truth: a ground-truth object (factor_names, factors_num_values,
      sample_factors, sample_observations_from_factors).
    random_state: np.random.RandomState.
    samples_per_value: images per (factor, value).
    position_samples: images per (pos_x, pos_y) cell of the position map;
      0 skips the map.  Used only when both factors exist.

  Returns:
    dict with
      factor_names: list of str [F];
      factor_values: list of float arrays [V_f] (physical values for
        dSprites, else indices);
      factor_labels: dict factor name -> list of str [V_f], tick labels
        of categorical factors (dSprites: shape names);
      mean: list of float64 [V_f, D], mean of μ_d per factor value;
      std: list of float64 [V_f, D], its standard deviation over images;
      position: float64 [V_x, V_y, D] or None, mean μ_d per position;
      kl: float64 [D], nats, KL per latent over all encoded images.
  """
  names = list(ground_truth.factor_names)
  num_values = list(ground_truth.factors_num_values)
  blocks = []
  for f, n in enumerate(num_values):
    factors = ground_truth.sample_factors(n * samples_per_value, random_state)
    factors[:, f] = np.repeat(np.arange(n), samples_per_value)
    blocks.append(factors)
  has_position = "pos_x" in names and "pos_y" in names and position_samples
  if has_position:
    fx, fy = names.index("pos_x"), names.index("pos_y")
    nx, ny = num_values[fx], num_values[fy]
    factors = ground_truth.sample_factors(nx * ny * position_samples,
                                          random_state)
    grid_x, grid_y = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    factors[:, fx] = np.repeat(grid_x.ravel(), position_samples)
    factors[:, fy] = np.repeat(grid_y.ravel(), position_samples)
    blocks.append(factors)
  all_factors = np.concatenate(blocks, axis=0)
  images = ground_truth.sample_observations_from_factors(all_factors,
                                                         random_state)
  mean, log_variance = encode_fn(images)
  mean = np.asarray(mean, np.float64)
  labels = {}
  if getattr(ground_truth, "name", None) == "dsprites":
    from tf_betavae.data import dsprites_simulator  # pylint: disable=g-import-not-at-top
    labels["shape"] = list(dsprites_simulator.SHAPE_NAMES)
  result = {"factor_names": names, "factor_values": _factor_values(ground_truth),
            "factor_labels": labels,
            "mean": [], "std": [], "position": None,
            "kl": latent_stats.kl_per_latent(mean, log_variance)}
  start = 0
  for n in num_values:
    block = mean[start:start + n * samples_per_value].reshape(
        n, samples_per_value, -1)
    result["mean"].append(block.mean(axis=1))
    result["std"].append(block.std(axis=1))
    start += n * samples_per_value
  if has_position:
    result["position"] = mean[start:].reshape(
        nx, ny, position_samples, -1).mean(axis=2)
  return result


def factor_response_plot(response, max_latents=None, dpi=80):
  """Plots ``compute_factor_response``'s result.

  One row per latent, most informative (KL) first and labelled with its KL
  in nats; one column per factor (mean μ_d against the factor's value, ±1
  standard deviation shaded; all panels of a row share the y axis), and a
  last column with μ_d over the position grid when present (x right,
  y down, as in the images).

  Args:
    response: dict from ``compute_factor_response``.
    max_latents: optional int, keep the first rows only.
    dpi: pixels per inch (each panel is about 1.6 x 1.1 inches).

  Returns:
    uint8 np.ndarray [height, width, 3].
  """
  from matplotlib import figure as figure_lib  # pylint: disable=g-import-not-at-top
  kl = np.asarray(response["kl"])
  order = sources.kl_order(kl)
  if max_latents is not None:
    order = order[:int(max_latents)]
  names = response["factor_names"]
  position = response["position"]
  cols = len(names) + (position is not None)
  rows = len(order)
  fig = figure_lib.Figure(figsize=(1.6 * cols + 0.6, 1.1 * rows + 0.7),
                          dpi=dpi)
  axes = fig.subplots(rows, cols, squeeze=False)
  for r, d in enumerate(order):
    low = min(float((m[:, d] - s[:, d]).min())
              for m, s in zip(response["mean"], response["std"]))
    high = max(float((m[:, d] + s[:, d]).max())
               for m, s in zip(response["mean"], response["std"]))
    margin = 0.05 * max(high - low, 1e-3)
    for c, name in enumerate(names):
      ax = axes[r, c]
      x = np.asarray(response["factor_values"][c], np.float64)
      m, s = response["mean"][c][:, d], response["std"][c][:, d]
      if len(x) <= 3:  # categorical (shape): points with error bars
        ax.errorbar(np.arange(len(x)), m, yerr=s, fmt="o", markersize=3,
                    color="tab:blue", linewidth=1)
        ax.set_xlim(-0.5, len(x) - 0.5)
        ax.set_xticks(np.arange(len(x)))
        tick_labels = response.get("factor_labels", {}).get(name)
        if tick_labels:
          ax.set_xticklabels(tick_labels)
      else:
        ax.fill_between(x, m - s, m + s, color="tab:blue", alpha=0.2,
                        linewidth=0)
        ax.plot(x, m, color="tab:blue", linewidth=1.2)
      ax.set_ylim(low - margin, high + margin)
      ax.tick_params(labelsize=6)
      if c:
        ax.set_yticklabels([])
      if r == 0:
        ax.set_title(name, fontsize=9)
      if c == 0:
        ax.set_ylabel(f"z{d}\nKL {kl[d]:.2f}", fontsize=8)
    if position is not None:
      ax = axes[r, cols - 1]
      heat = position[:, :, d].T  # rows: pos_y (top to bottom)
      bound = max(float(np.abs(heat).max()), 1e-3)
      ax.imshow(heat, cmap="coolwarm", vmin=-bound, vmax=bound,
                interpolation="nearest")
      ax.set_xticks([])
      ax.set_yticks([])
      if r == 0:
        ax.set_title("position (x, y)", fontsize=9)
  fig.suptitle("mean latent response (posterior mean) to each factor",
               fontsize=10)
  fig.tight_layout()
  return image_utils.figure_to_array(fig)
