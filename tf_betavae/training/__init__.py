"""Training runs: settings, the loop, checkpoints, resume and export.

  config.py         TrainConfig (every setting, its default and help), errors
  run_dir.py        the files of a run directory, resume checks, history
  build.py          the model and optimizer of a config
  checkpoints.py    saving, resuming, restore_model
  distribute.py     strategies, cluster roles, the distributed input
  steps.py          StepRunner, tracker values, NaN replay
  progress.py       the step log line, TensorBoard scalars
  hooks.py          per-step hooks (the pictures are a hook)
  loop.py           train(config, model_dir, ...)
  learning_rate.py  learning-rate schedules
  presets.py        named settings for scripts/train.py
  command.py        the train program (scripts/train.py) behind its flags
  step_timing.py    training speed with and without the input pipeline
  gpu_check_command.py  the gpu_check program (scripts/gpu_check.py)
"""

from tf_betavae.training.build import build_compiled_model
from tf_betavae.training.build import build_model
from tf_betavae.training.build import make_optimizer
from tf_betavae.training.checkpoints import CHECKPOINT_SUBDIR
from tf_betavae.training.checkpoints import current_step
from tf_betavae.training.checkpoints import make_checkpoint
from tf_betavae.training.checkpoints import restore_model
from tf_betavae.training.config import CheckpointError
from tf_betavae.training.config import ConfigError
from tf_betavae.training.config import NonFiniteLossError
from tf_betavae.training.config import TrainConfig
from tf_betavae.training.distribute import make_strategy
from tf_betavae.training.hooks import Hook
from tf_betavae.training.loop import train
from tf_betavae.training.run_dir import RUN_CONFIG_FILE
from tf_betavae.training.run_dir import SETTINGS_HISTORY_FILE
from tf_betavae.training.run_dir import settings_history
from tf_betavae.training.run_dir import SUMMARY_FILE
from tf_betavae.training.steps import StepRunner
