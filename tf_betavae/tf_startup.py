"""TensorFlow's start-up noise, hidden in programs and in the processes they
start.

While TensorFlow loads, and at its first device query, it writes C++ lines
(oneDNN and CUDA-driver probes; on machines without an NVIDIA driver a
``failed call to cuInit`` error) before its logging reads
TF_CPP_MIN_LOG_LEVEL, so that level cannot hide them; and TensorFlow and
Keras log INFO through absl (checkpoint sharding times, SavedModel asset
notices).  A program hides both (``tf_betavae.cli``, unless
``--tf_verbose``).

Worker processes the package starts (``tf_betavae.experiments.parallel``'s
pinned workers, DCI's classifier workers) are fresh interpreters that load
TensorFlow again.  Whether their program was quieted reaches them through
the environment (``QUIET_ENV``, inherited by every child process), and
``quiet_worker_start``, called first in each worker, makes the worker as
quiet as its program: quiet when it was, verbose with ``--tf_verbose``.

Nothing here parses flags or exits, so library modules may use it.
"""

import logging
import os
import sys
import tempfile

from absl import logging as absl_logging

# Set to "1" by a program that hides TensorFlow's noise; its workers read it.
QUIET_ENV = "TF_BETAVAE_QUIET_TENSORFLOW"

# TensorFlow's own start-up lines that say nothing about the user's run:
# written while it loads (before its logging reads TF_CPP_MIN_LOG_LEVEL) and
# at the first device query.
_STARTUP_NOISE = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "Could not find cuda drivers on your machine",
    "Unable to register cu",
    "computation_placer.cc",
    "TF-TRT Warning",
    "cpu_feature_guard.cc",
    "To enable the following instructions",
)
# cuInit fails on every machine without an NVIDIA driver; where a driver is
# installed the same line means a broken GPU set-up and is kept.
_NO_DRIVER_NOISE = ("failed call to cuInit",)


def _nvidia_driver_present():
  return os.path.exists("/proc/driver/nvidia/version")


def startup_noise(line, driver_present):
  """Whether a stderr line of TensorFlow's start-up is known noise."""
  if any(marker in line for marker in _STARTUP_NOISE):
    return True
  return not driver_present and any(m in line for m in _NO_DRIVER_NOISE)


def set_quiet_environment(quiet):
  """Says in the environment whether TensorFlow's noise is hidden.

  Must run before TensorFlow is first imported (the C++ level is read once,
  at import).  Child processes started afterwards inherit the setting.

  Args:
    quiet: bool.  True: sets the C++ log levels (a level already set in the
      environment is left alone) and ``QUIET_ENV``.  False: removes
      ``QUIET_ENV``, so that workers keep the noise as the program does.
  """
  if not quiet:
    os.environ.pop(QUIET_ENV, None)
    return
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  # XLA/absl C++ logging of the same start-up probes.
  os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
  os.environ[QUIET_ENV] = "1"


def import_quietly():
  """Imports TensorFlow and probes its devices, dropping the known noise.

  The process's stderr is captured for the import and one device listing
  (which does not initialise the runtime, so devices can still be
  configured afterwards); captured lines that are not known noise are
  written back.  Python errors of the import still surface as the raised
  exception.  A no-op beyond the import where TensorFlow is loaded already.
  """
  if "tensorflow" in sys.modules:
    return
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as captured:
    os.dup2(captured.fileno(), 2)
    try:
      import tensorflow as tf  # pylint: disable=g-import-not-at-top
      tf.config.list_physical_devices()
    finally:
      os.dup2(saved, 2)
      os.close(saved)
      captured.seek(0)
      text = captured.read().decode(errors="replace")
  driver_present = _nvidia_driver_present()
  kept = [line for line in text.splitlines()
          if line.strip() and not startup_noise(line, driver_present)]
  if kept:
    sys.stderr.write("\n".join(kept) + "\n")
    sys.stderr.flush()


class LibraryInfoFilter(logging.Filter):
  """Drops INFO (and lower) records that TensorFlow and Keras log through
  absl (checkpoint sharding times, SavedModel asset notices): the program's
  own INFO lines stay, and every warning or error of any origin too."""

  _SOURCES = tuple(os.sep + name + os.sep for name in
                   ("tensorflow", "keras", "tf_keras", "tensorflow_datasets"))

  def filter(self, record):
    if record.levelno >= logging.WARNING:
      return True
    return not any(source in record.pathname for source in self._SOURCES)


def hide_library_info():
  """Hides INFO that TensorFlow, Keras and tensorflow-datasets log through
  absl, whichever handler prints it (see ``LibraryInfoFilter``)."""
  absl_logging.get_absl_logger().addFilter(LibraryInfoFilter())


def quiet_loggers():
  """TensorFlow's Python logger at ERROR and the libraries' absl INFO
  hidden; imports TensorFlow."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.get_logger().setLevel("ERROR")
  hide_library_info()


def quiet_worker_start():
  """Makes a worker process as quiet as the program that started it.

  Call it first in a worker (a process pool's initializer), before anything
  there imports TensorFlow.  Where the program hid TensorFlow's noise
  (``QUIET_ENV`` set), imports TensorFlow quietly and hides the libraries'
  INFO; otherwise (``--tf_verbose``, or a caller that never quieted its own
  process) does nothing, and the worker's output is left as it comes.
  """
  if os.environ.get(QUIET_ENV) != "1":
    return
  import_quietly()
  quiet_loggers()
