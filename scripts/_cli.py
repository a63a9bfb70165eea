"""Shared pieces of the command-line programs in scripts/ (not library code).

Every program reports usage errors the same way: one line on stderr,
``<program>: error: <what is wrong>``, and exit code 2, with no traceback.
"""

import sys

from absl import flags


def usage_error(program, message):
  """Writes ``program: error: message`` to stderr and exits with code 2."""
  sys.stderr.write(f"{program}: error: {message}\n")
  sys.stderr.flush()
  sys.exit(2)


def flags_parser(program):
  """An absl ``flags_parser`` whose flag errors exit 2 with one line."""

  def parse(argv):
    try:
      return flags.FLAGS(argv)
    except flags.Error as e:
      usage_error(program, str(e).splitlines()[0])

  return parse
