"""What the package says about a trained latent: its KL, and whether it is
active.

``BetaVAE`` computes the KL of a batch with TFP (``tfd.kl_divergence``)
inside its graph; everything that only has posterior means and
log-variances in numpy (exports, codes of a dataset) uses
``kl_per_latent`` here.  One threshold, ``ACTIVE_KL_NATS``, decides which
latents count as active in training logs, tables and pictures.
"""

import numpy as np

# A latent whose mean KL to the prior is at most this carries (almost) no
# information about the image: it is reported as inactive.
ACTIVE_KL_NATS = 0.1


def kl_per_latent(mean, log_variance):
  """KL(q(z_d|x) || N(0, 1)) per latent, averaged over the batch.

  Args:
    mean: float [N, D], posterior means.
    log_variance: float [N, D], posterior log-variances (natural log).

  Returns:
    float64 np.ndarray [D], nats: mean over N of
    0.5 * (mean² + exp(log_variance) − log_variance − 1).
  """
  mean = np.asarray(mean, np.float64)
  log_variance = np.asarray(log_variance, np.float64)
  kl = 0.5 * (np.square(mean) + np.exp(log_variance) - log_variance - 1.0)
  return kl.mean(axis=0)


def active_latents(kl, threshold=ACTIVE_KL_NATS):
  """Sorted indices of the latents whose KL (nats) exceeds ``threshold``.

  Args:
    kl: float [D] per-latent KL in nats, or a dict {latent index: KL}.
    threshold: nats.

  Returns:
    list of int.
  """
  items = kl.items() if isinstance(kl, dict) else enumerate(np.asarray(kl))
  return sorted(int(j) for j, value in items if float(value) > threshold)
