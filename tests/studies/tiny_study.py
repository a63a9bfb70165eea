"""A study small enough for tests: dSprites, an MLP, tens of steps, small
metric samples.  Imported by the study tests (and by Ray workers through
PYTHONPATH)."""

import os

from tf_betavae.studies import spec as spec_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# Small everywhere but in what a job does: train, export, score, mark.
TRAIN_SETTINGS = {"arch": "mlp", "batch_size": 16, "latent_dim": 4,
                  "image_summary_every": 0}
METRICS = ("beta_vae", "mig")
METRIC_SIZES = {"beta_vae": (50, 20), "mig": (500, None)}
UDR_NUM_POINTS = 200
# The same study as flags of scripts/study.py (--preset=sweep).
FLAGS = ["--train_settings=arch=mlp,batch_size=16,latent_dim=4,"
         "image_summary_every=0",
         "--metrics=beta_vae,mig",
         "--metric_sizes=beta_vae=50:20,mig=500:",
         "--udr_num_points=200"]


def spec(values=(1.0, 4.0), seeds=(0, 1), steps=30, datasets=("dsprites",),
         **train_settings):
  """A β-VAE sweep over ``values`` × ``seeds``, as --preset=sweep makes it
  from FLAGS (plus --steps, --values, --seeds)."""
  return spec_lib.StudySpec(
      name="sweep_beta_vae", datasets=datasets,
      methods=(("beta_vae", values),), seeds=seeds, steps=steps,
      metrics=METRICS, metric_sizes=METRIC_SIZES,
      udr_num_points=UDR_NUM_POINTS,
      train_settings={**TRAIN_SETTINGS, **train_settings})
