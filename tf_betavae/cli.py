"""What every command-line program of the package shares.

Usage errors are reported one way everywhere: one line on stderr,
``<program>: error: <what is wrong>``, exit code 2, no traceback.
TensorFlow's start-up noise (CUDA probes, a ``failed call to cuInit`` line
on every CPU-only machine, SavedModel export notices) is quieted before
TensorFlow is imported, so the first lines a user reads are ours and an
``E`` line means something is wrong; ``--tf_verbose`` brings it back.

It parses flags, writes to stderr and exits, which only programs do: the
scripts and the command modules behind them (``training/command.py``)
import it; library modules (models, data, metrics, the training loop,
export, experiments) never do.
"""

import dataclasses
import logging
import os
import runpy
import sys
import tempfile

from absl import app
from absl import flags
from absl import logging as absl_logging


class UsageError(Exception):
  """A value the user gave is wrong; the message says what and what to do."""


# Every character str.splitlines() breaks a line at.
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def one_line(message):
  """``message`` on one line: line breaks a user typed into a value (or a
  library put into a message) are shown escaped, so an error is always
  exactly one line."""
  return "".join(repr(c)[1:-1] if c in _LINE_BREAKS else c
                 for c in str(message))


def usage_error(program, message):
  """Writes ``program: error: message`` to stderr and exits with code 2."""
  sys.stderr.write(f"{program}: error: {one_line(message)}\n")
  sys.stderr.flush()
  sys.exit(2)


def _check_nearest_parent_is_folder(flag, path):
  """Raises UsageError when the nearest existing ancestor of the absolute
  ``path`` is a file (so nothing can be created below it)."""
  parent = os.path.dirname(path)
  while not os.path.exists(parent):
    parent = os.path.dirname(parent)
  if not os.path.isdir(parent):
    raise UsageError(f"--{flag} {path}: {parent} is a file, not a folder")


def check_output_file(flag, path):
  """Raises UsageError unless ``path`` can be written as a file.

  Programs check their output files before the work that fills them (which
  may take hours), so a directory, a name below a file or a blank name is a
  usage error at once instead of a traceback at the end.  Writers create
  missing parent folders, so those are fine.

  Args:
    flag: the flag's name without dashes, for the message.
    path: the value given.
  """
  if not path.strip():
    raise UsageError(f"--{flag} is blank; give a file name")
  path = os.path.abspath(path)
  if os.path.isdir(path):
    raise UsageError(f"--{flag} {path} is a directory; give a file name")
  _check_nearest_parent_is_folder(flag, path)


def check_output_dir(flag, path):
  """Raises UsageError unless ``path`` can be used as an output directory.

  A blank name, an existing file, or a name below a file is refused before
  any work starts; missing folders are created by the writers.

  Args:
    flag: the flag's name without dashes, for the message.
    path: the value given.
  """
  if not path.strip():
    raise UsageError(f"--{flag} is blank; give a directory")
  path = os.path.abspath(path)
  if os.path.exists(path) and not os.path.isdir(path):
    raise UsageError(f"--{flag} {path} is a file; give a directory")
  _check_nearest_parent_is_folder(flag, path)


def check_name(flag, name):
  """Raises UsageError unless ``name`` is one path component (a model name).
  """
  if (not name.strip() or name in (".", "..") or os.sep in name
      or (os.altsep and os.altsep in name) or "\0" in name):
    raise UsageError(f"--{flag} {name!r} is not a usable name; give one "
                     "folder name without slashes")


def _wants_tf_verbose(argv):
  return any(a in ("--tf_verbose", "--tf_verbose=true", "--tf_verbose=1")
             for a in argv[1:])


def quiet_tensorflow(argv=None):
  """Quiets TensorFlow's C++ and Python start-up logging unless asked not to.

  Must run before TensorFlow is first imported (the C++ level is read once,
  at import).  A level already set in the environment is left alone.
  """
  argv = sys.argv if argv is None else argv
  if _wants_tf_verbose(argv):
    return
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  # XLA/absl C++ logging of the same start-up probes.
  os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


def _define_common_flags():
  if "tf_verbose" not in flags.FLAGS:
    flags.DEFINE_bool("tf_verbose", False,
                      "Show TensorFlow's own start-up and export logging "
                      "(hidden by default).")


def flags_parser(program):
  """An absl ``flags_parser`` whose flag errors exit 2 with one line."""

  def parse(argv):
    try:
      return flags.FLAGS(argv)
    except flags.Error as e:
      usage_error(program, str(e).splitlines()[0])

  return parse


class _LibraryInfoFilter(logging.Filter):
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
  absl, whichever handler prints it (see ``_LibraryInfoFilter``)."""
  absl_logging.get_absl_logger().addFilter(_LibraryInfoFilter())


def run(main, program=None):
  """Runs ``main(argv)`` under absl with the package's CLI conventions.

  Flag errors and ``UsageError`` exit 2 with one line; TensorFlow's noise
  is quieted unless ``--tf_verbose`` is given.

  Args:
    main: the program's main function, taking absl's argv.
    program: name used in error lines (default: the script's file name).
  """
  program = program or os.path.basename(sys.argv[0])
  quiet_tensorflow()
  _define_common_flags()

  def guarded(argv):
    # Programs that load TensorFlow lazily (their pinned worker processes
    # must size TensorFlow's thread pools after pinning) get the same quiet
    # start here; a no-op where the program imported it already.
    import_tensorflow_quietly()
    if not flags.FLAGS.tf_verbose:
      import tensorflow as tf  # pylint: disable=g-import-not-at-top
      tf.get_logger().setLevel("ERROR")
      hide_library_info()
    try:
      return main(argv)
    except UsageError as e:
      usage_error(program, str(e))

  app.run(guarded, flags_parser=flags_parser(program))


# Settings defined once: flags generated from a config dataclass.


def _calling_module_name(depth):
  """The name absl gives the module ``depth`` frames up (sys.argv[0] for
  __main__), so generated flags count as the program's own in --help."""
  name = sys._getframe(depth + 1).f_globals.get("__name__")  # pylint: disable=protected-access
  return sys.argv[0] if name == "__main__" else name


def _flag_kind(field):
  """'enum', 'boolean', 'integer', 'float' or 'string' for a field."""
  if "choices" in field.metadata:
    return "enum"
  if "kind" in field.metadata:  # Optional[...] fields name their kind
    return field.metadata["kind"]
  kinds = {bool: "boolean", int: "integer", float: "float"}
  return kinds.get(field.type, "string")


def config_flag_fields(config_cls):
  """The fields of a config dataclass that have a generated flag (all but
  those with metadata flag=False)."""
  return [f for f in dataclasses.fields(config_cls)
          if f.metadata.get("flag", True)]


def define_config_flags(config_cls, flag_values=flags.FLAGS,
                        module_name=None):
  """Defines one flag per field of a config dataclass.

  Each flag has the field's name, default and ``metadata["help"]``; a
  field with ``metadata["choices"]`` becomes an enum flag, bool/int/float
  fields boolean/integer/float flags, anything else a string flag.

  Args:
    config_cls: a dataclass whose fields carry metadata["help"].
    flag_values: the absl FlagValues to define them in.
    module_name: the module the flags belong to (shown by --help); default
      the calling module.
  """
  module_name = module_name or _calling_module_name(1)
  for field in config_flag_fields(config_cls):
    kind = _flag_kind(field)
    common = dict(flag_values=flag_values, module_name=module_name)
    if kind == "enum":
      flags.DEFINE_enum(field.name, field.default,
                        list(field.metadata["choices"]),
                        field.metadata["help"], **common)
    else:
      define = getattr(flags, "DEFINE_" + kind)
      define(field.name, field.default, field.metadata["help"], **common)


def config_values_from_flags(config_cls, flag_values=flags.FLAGS,
                             base=None):
  """Values of a config's generated flags over ``base``.

  Args:
    config_cls: the dataclass given to define_config_flags.
    flag_values: parsed absl FlagValues.
    base: dict of values (e.g. a preset) that flags not given explicitly
      leave alone.

  Returns:
    dict: ``base`` plus, for every generated flag, its value when it was
    given on the command line or ``base`` has no value for it.
  """
  values = dict(base or {})
  for field in config_flag_fields(config_cls):
    if flag_values[field.name].present or field.name not in values:
      values[field.name] = flag_values[field.name].value
  return values


# Console entry points (setup.cfg): each runs its program in scripts/.

_SCRIPTS_DATA_DIR = os.path.join("share", "tf_betavae", "scripts")


def find_script(name):
  """The path of scripts/<name>.py: the checkout's (next to the package),
  else the copy a wheel installs under sys.prefix.

  Raises:
    FileNotFoundError: neither exists.
  """
  package_dir = os.path.dirname(os.path.abspath(__file__))
  candidates = [
      os.path.join(os.path.dirname(package_dir), "scripts", name + ".py"),
      os.path.join(sys.prefix, _SCRIPTS_DATA_DIR, name + ".py"),
  ]
  for path in candidates:
    if os.path.isfile(path):
      return path
  raise FileNotFoundError(
      f"the program {name}.py is not installed (looked in "
      f"{' and '.join(candidates)}); reinstall tf_betavae")


def run_script(name):
  """Runs scripts/<name>.py as ``__main__`` with the current sys.argv."""
  try:
    path = find_script(name)
  except FileNotFoundError as e:
    sys.stderr.write(f"{os.path.basename(sys.argv[0])}: error: "
                     f"{one_line(e)}\n")
    sys.exit(1)
  runpy.run_path(path, run_name="__main__")


def train():
  run_script("train")


def evaluate():
  run_script("evaluate")


def export():
  run_script("export")


def reproduce():
  run_script("reproduce")


def sweep():
  run_script("sweep")


def select_models():
  run_script("select_models")


def traverse():
  run_script("traverse")


def transfer():
  run_script("transfer")


def serving_client():
  run_script("serving_client")


def gpu_check():
  run_script("gpu_check")


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


def import_tensorflow_quietly():
  """Quiets TensorFlow (``quiet_tensorflow``), imports it and probes devices.

  A few C++ lines (oneDNN and CUDA-driver probes, and on machines without
  an NVIDIA driver a ``failed call to cuInit`` error) are written while
  TensorFlow loads and at its first device query, before its logging reads
  TF_CPP_MIN_LOG_LEVEL, so the level cannot hide them.  The process's
  stderr is captured for the import and one device listing (which does not
  initialise the runtime, so devices can still be configured afterwards);
  captured lines that are not known noise are written back.  Python errors
  of the import still surface as the raised exception.  ``--tf_verbose``
  keeps everything.
  """
  if _wants_tf_verbose(sys.argv) or "tensorflow" in sys.modules:
    import tensorflow  # pylint: disable=g-import-not-at-top,unused-import
    return
  quiet_tensorflow()
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
