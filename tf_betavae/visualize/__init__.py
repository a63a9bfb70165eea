"""Pictures of a β-VAE: traversals, reconstructions, KL per latent, factor
responses, and their TensorBoard summaries.

Everything is drawn from two callables (see ``sources``):
``encode_fn(images) -> (mean, log_variance)`` and
``decode_fn(latents) -> images``, numpy in and out, so one code path serves
a live model (``sources.from_model``), a run directory
(``sources.from_model_dir``) and a SavedModel export
(``sources.from_export``).  Pictures are uint8 RGB arrays [H, W, 3].
"""

from tf_betavae.visualize import factor_response
from tf_betavae.visualize import image_utils
from tf_betavae.visualize import kl_chart
from tf_betavae.visualize import reconstructions
from tf_betavae.visualize import sources
from tf_betavae.visualize import summaries
from tf_betavae.visualize import traversals
from tf_betavae.models.latent_stats import kl_per_latent
from tf_betavae.visualize.factor_response import compute_factor_response
from tf_betavae.visualize.factor_response import factor_response_plot
from tf_betavae.visualize.kl_chart import kl_bar_chart
from tf_betavae.visualize.reconstructions import reconstruction_grid
from tf_betavae.visualize.sources import from_export
from tf_betavae.visualize.sources import from_model
from tf_betavae.visualize.sources import from_model_dir
from tf_betavae.visualize.sources import from_path
from tf_betavae.visualize.summaries import write_image_files
from tf_betavae.visualize.summaries import write_image_summaries
from tf_betavae.visualize.traversals import traversal_animation
from tf_betavae.visualize.traversals import traversal_grid
