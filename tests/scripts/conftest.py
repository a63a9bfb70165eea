"""Runs many usage-error cases of one script in one fresh process.

Starting Python, absl and (for most checks) TensorFlow costs seconds per
process; a script's usage errors are checked by handing each case's argv to
the script's own flag parser and ``main`` in turn, in one subprocess that
imports the script once (absl flags are process-global, so scripts that
share flag names cannot be loaded into the pytest process together).  Each
test file still runs at least one case as a user runs it
(``python scripts/<name>.py ...``).
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

_DRIVER = r"""
import contextlib, importlib.util, io, json, os, sys, traceback
script, cases_path = sys.argv[1], sys.argv[2]
cases = json.load(open(cases_path))
spec = importlib.util.spec_from_file_location("cli_under_test", script)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
program = os.path.basename(script)
outcomes = []
for args in cases:
  module.FLAGS.unparse_flags()
  stderr, stdout = io.StringIO(), io.StringIO()
  code = 0
  with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
    try:
      module.main(module._parse_flags([program] + args))
    except SystemExit as e:
      code = e.code
    except Exception:  # reported like an uncaught exception would be
      traceback.print_exc()
      code = 1
  outcomes.append({"code": code, "stderr": stderr.getvalue(),
                   "stdout": stdout.getvalue()})
module.FLAGS.unparse_flags()
with open(cases_path, "w") as f:
  json.dump(outcomes, f)
"""


def run_cases_in_one_process(script, cases, tmp_dir, timeout=600,
                             with_stdout=False):
  """Parses and runs each argv list of ``cases`` through ``script``.

  Args:
    script: path of a scripts/*.py program (with ``FLAGS``,
      ``_parse_flags`` and ``main``).
    cases: list of argv lists (without the program name).
    tmp_dir: a directory for the exchange file.
    timeout: seconds for all cases together.
    with_stdout: also return each case's standard output.

  Returns:
    list of (exit code, stderr text), one per case, or (exit code, stderr
    text, stdout text) with ``with_stdout``; exit code 0 when ``main``
    returned.
  """
  path = os.path.join(str(tmp_dir), "cli_cases.json")
  with open(path, "w") as f:
    json.dump([list(map(str, args)) for args in cases], f)
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  done = subprocess.run([sys.executable, "-c", _DRIVER, script, path],
                        capture_output=True, text=True, env=env, cwd=ROOT,
                        timeout=timeout)
  if done.returncode != 0:
    raise RuntimeError(f"the case driver failed ({done.returncode}):\n"
                       f"{done.stderr[-3000:]}")
  with open(path) as f:
    outcomes = json.load(f)
  if with_stdout:
    return [(o["code"], o["stderr"], o["stdout"]) for o in outcomes]
  return [(o["code"], o["stderr"]) for o in outcomes]


@pytest.fixture(scope="session")
def cases_in_one_process():
  """``run_cases_in_one_process`` for tests of this folder."""
  return run_cases_in_one_process


def assert_one_usage_error(program, code, stderr, fragment):
  """A usage error of ``program`` (e.g. "export.py"): exit code 2, no
  traceback, and exactly one "<program>: error:" line, containing
  ``fragment`` (TensorFlow's start-up lines may precede it)."""
  assert code == 2, stderr[-2000:]
  assert "Traceback" not in stderr, stderr[-2000:]
  lines = [l for l in stderr.splitlines()
           if l.startswith(f"{program}: error:")]
  assert len(lines) == 1, stderr[-2000:]
  assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def one_usage_error():
  """``assert_one_usage_error`` for tests of this folder."""
  return assert_one_usage_error
