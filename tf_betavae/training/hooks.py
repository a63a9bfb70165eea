"""Per-step hooks of a training run.

The loop calls, on every hook in order:

* ``on_start(run)`` once the model is built and restored (``run`` is a
  ``RunContext``);
* ``on_step(step, logs)`` after every chunk of steps (each log,
  checkpoint or image-summary interval and the last step), with the
  trackers' means over the chunk and ``steps_per_second``;
* ``on_end(step, trained)`` after the last checkpoint, before the export;
  ``trained`` is False when this invocation trained no step.

A hook subclasses ``Hook`` and overrides what it needs.

``train(..., hooks=None)`` runs ``default_hooks()``: the hooks named in
``DEFAULT_HOOKS``, looked up by name when a run starts.  They are named,
not imported, because the pictures hook draws with tf_betavae.visualize,
which itself rebuilds models from run directories with this package: a
name keeps the two packages free of an import cycle, and lets a program
pass its own list (``hooks=[]`` runs none).
"""

import dataclasses
import importlib
from typing import Any, Optional

# "module:attribute" of hook classes, instantiated without arguments.
DEFAULT_HOOKS = ("tf_betavae.visualize.training_hook:PicturesHook",)


@dataclasses.dataclass
class RunContext:
  """What a hook may read about the run.

  Attributes:
    config: the run's TrainConfig.
    model_dir: str.
    model: the BetaVAE being trained.
    is_chief: whether this process writes the run's files.
    start_step: int, the step this invocation started at.
    writer: the TensorBoard writer of <model_dir>/train (None off the
      chief).
  """

  config: Any
  model_dir: str
  model: Any
  is_chief: bool
  start_step: int
  writer: Optional[Any] = None


class Hook:
  """Does nothing; subclasses override the calls they need."""

  def on_start(self, run):
    pass

  def on_step(self, step, logs):
    pass

  def on_end(self, step, trained):
    pass


def hook_from_name(name):
  """A new instance of the hook class named "module:attribute"."""
  module_name, _, attribute = name.partition(":")
  return getattr(importlib.import_module(module_name), attribute)()


def default_hooks():
  """New instances of the hooks of DEFAULT_HOOKS."""
  return [hook_from_name(name) for name in DEFAULT_HOOKS]
