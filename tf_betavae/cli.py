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
import os
import runpy
import sys

from absl import app
from absl import flags
from absl import logging

from tf_betavae import tf_startup


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
  # Also tells the worker processes the program starts (see tf_startup).
  tf_startup.set_quiet_environment(not _wants_tf_verbose(argv))


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


def run(main, program=None, imports_tensorflow=True):
  """Runs ``main(argv)`` under absl with the package's CLI conventions.

  Flag errors and ``UsageError`` exit 2 with one line; TensorFlow's noise
  is quieted unless ``--tf_verbose`` is given.

  Args:
    main: the program's main function, taking absl's argv.
    program: name used in error lines (default: the script's file name).
    imports_tensorflow: False for a program that never uses TensorFlow
      (scripts/study.py): it is then not imported here either.
  """
  program = program or os.path.basename(sys.argv[0])
  quiet_tensorflow()
  _define_common_flags()

  def guarded(argv):
    # Programs that load TensorFlow lazily (their pinned worker processes
    # must size TensorFlow's thread pools after pinning) get the same quiet
    # start here; a no-op where the program imported it already.
    if imports_tensorflow:
      import_tensorflow_quietly()
      if not flags.FLAGS.tf_verbose:
        tf_startup.quiet_loggers()
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


def flag_field(default, help_text, **metadata):
  """A dataclass field that define_config_flags turns into a flag.

  Args:
    default: the flag's default; a list (a list flag's) becomes a
      default_factory, so each instance gets its own copy.
    help_text: the flag's help.
    **metadata: choices, kind (see _flag_kind).
  """
  metadata = dict(metadata, help=help_text)
  if isinstance(default, list):
    return dataclasses.field(default_factory=lambda: list(default),
                             metadata=metadata)
  return dataclasses.field(default=default, metadata=metadata)


def define_config_flags(config_cls, flag_values=flags.FLAGS,
                        module_name=None):
  """Defines one flag per field of a config dataclass.

  Each flag has the field's name, default (a ``default_factory``'s value,
  e.g. a list flag's list) and ``metadata["help"]``; a field with
  ``metadata["choices"]`` becomes an enum flag, bool/int/float fields
  boolean/integer/float flags, one with ``metadata["kind"]`` that kind
  (e.g. 'list'), anything else a string flag.

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
    default = (field.default_factory()
               if field.default_factory is not dataclasses.MISSING
               else field.default)
    if kind == "enum":
      flags.DEFINE_enum(field.name, default,
                        list(field.metadata["choices"]),
                        field.metadata["help"], **common)
    else:
      define = getattr(flags, "DEFINE_" + kind)
      define(field.name, default, field.metadata["help"], **common)


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


def command_flags(config_cls, argv, flag_values=flags.FLAGS,
                  info_logging=True):
  """A command's flag values as its dataclass, once the command line is known
  to hold flags only.

  Args:
    config_cls: the dataclass given to define_config_flags.
    argv: the program's remaining arguments (absl's argv).
    flag_values: parsed absl FlagValues.
    info_logging: log at INFO from here on (the commands' progress lines).

  Raises:
    UsageError: arguments that are not flags.
  """
  if len(argv) > 1:
    raise UsageError(f"unexpected arguments {argv[1:]}; flags take the "
                     "form --name=value")
  if info_logging:
    logging.set_verbosity(logging.INFO)
  return config_cls(**config_values_from_flags(config_cls, flag_values))


def check_seed(flag, seed):
  """Raises UsageError unless ``seed`` lies in [0, 2**32) (NumPy's range)."""
  if not 0 <= seed < 2**32:
    raise UsageError(f"--{flag} must lie in [0, 2**32), got {seed}")


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


def study():
  run_script("study")


def traverse():
  run_script("traverse")


def transfer():
  run_script("transfer")


def serving_client():
  run_script("serving_client")


def gpu_check():
  run_script("gpu_check")


def weak_supervision():
  run_script("weak_supervision")


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
  tf_startup.import_quietly()
