"""Every flag of every script, fuzzed: exit 0, or exit 2 with one line.

Random values per flag (numbers out of range, negative, huge, NaN, empty
strings, unicode, paths that are files, directories, missing, below a
file, lists with empty items) go through each script's own flag parser and
``main`` in flag_server.py, which forks one child per case from a process
that imported TensorFlow once.  The heavy library entry points (training,
metric computation, export, the sweep, the request to a server) are
recorders there: a case that reaches one has passed the script's checks,
and the recorder checks the library's own validation accepts the values
too (a value that passes the script but fails later would surface after
hours of training).

A case passes when it exits 0 or 2 without a traceback; exit 2 writes
exactly one line, ``<program>: error: ...``.
"""

import json
import os
import stat
import subprocess
import sys

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "flag_server.py")
SHIPPED_EXPORT = os.path.join(ROOT, "exported", "dsprites", "1")

SCRIPTS = ("train", "evaluate", "export", "reproduce", "sweep",
           "select_models", "traverse", "transfer", "serving_client",
           "gpu_check")

# Arguments that get a script past its first check, so that the other flags'
# values reach its later checks and recorders (drawn or not per case).
_BASES = {
    "evaluate": ["--baseline=pca"],
    "export": ["--model_dir={missing}"],
    "select_models": ["--models={fake_export},{shipped}"],
    "traverse": ["--export={shipped}"],
    "transfer": ["--saved_model={shipped}"],
    "gpu_check": ["--allow_cpu"],
}

# Values worth trying for flags of these names, beside the generic ones.
_HINTS = {
    "dataset": ["dsprites", "dsprites_official", "shapes3d", "celeb_a",
                "folder:{dir}", "folder:{missing}", "folder:", "mnist"],
    "metrics": ["mig", "beta_vae,,mig", "beta_vae_dl", ",", "sap,sap"],
    "betas": ["1,,4", "nan", "inf", "-1", "0", "1e400", "4,4"],
    "seeds": ["0,1", "-1", "0,0", "1.5", ",", "99999999999"],
    "devices": ["/cpu:0", ",", "/gpu:7", "/cpu:0,,/cpu:0"],
    "factor": ["shape", "pos_x", "color", "label_shape"],
    "paper_factors": ["all", "auto", "shape,,scale", "nope"],
    "server": ["localhost:8501", ":", "[::1]:x"],
    "signature": ["encode", "nope"],
    "output_key": ["latent_logvar", "nope"],
    "images": ["{npy_3d}", "{npy_nan}", "{npy_pickle}"],
    "dsprites_file": ["{junk_npz}", "{junk_hdf5}"],
    "preset": ["paper", "cpu", "quick"],
    "models": ["{dir}", "{fake_export},{fake_export}", ",,"],
}

_GENERIC_TEXT = ["", " ", "\u00e9\u2603\U0001F600", ",", ",,", "a,,b", "-1",
                 "nan", "0", "{missing}", "{file}", "{dir}", "{below_file}",
                 "{unicode_dir}", "{fake_export}", "{fake_run}",
                 "{unreadable}", "\t"]
_INTEGERS = ["0", "-1", "1", "2", "3", "-2147483649", "99999999999999",
             str(2**63), "1.5", "", "nan", "0x10", "\uff11", "1e3"]
_FLOATS = ["nan", "-nan", "inf", "-inf", "0", "-0.0", "-1", "1e308",
           "1e-320", "1e400", "", "abc", "0.5", "3"]


def _paths(root):
  """The path pool: {placeholder: path} of files made once per module."""
  paths = {
      "missing": os.path.join(root, "missing", "x"),
      "file": os.path.join(root, "plain.txt"),
      "dir": os.path.join(root, "empty_dir"),
      "below_file": os.path.join(root, "plain.txt", "below"),
      "unicode_dir": os.path.join(root, "d\u00efr \u2603"),
      "fake_export": os.path.join(root, "fake_export", "1"),
      "fake_run": os.path.join(root, "fake_run"),
      "junk_npz": os.path.join(root, "junk.npz"),
      "junk_hdf5": os.path.join(root, "junk.hdf5"),
      "npy_3d": os.path.join(root, "three_d.npy"),
      "npy_nan": os.path.join(root, "nan.npy"),
      "npy_pickle": os.path.join(root, "pickled.npy"),
      "unreadable": os.path.join(root, "unreadable"),
      "shipped": SHIPPED_EXPORT,
  }
  os.makedirs(root)
  with open(paths["file"], "w") as f:
    f.write("not what any flag wants\n")
  os.makedirs(paths["dir"])
  os.makedirs(paths["unicode_dir"])
  os.makedirs(paths["fake_export"])
  open(os.path.join(paths["fake_export"], "saved_model.pb"), "wb").close()
  os.makedirs(paths["fake_run"])
  with open(os.path.join(paths["fake_run"], "run_config.json"), "w") as f:
    f.write("{not json")
  for name in ("junk_npz", "junk_hdf5"):
    with open(paths[name], "wb") as f:
      f.write(b"PK\x03\x04 truncated" if name == "junk_npz" else b"\x89HDF")
  import numpy as np  # pylint: disable=g-import-not-at-top
  np.save(paths["npy_3d"], np.zeros((2, 64, 64), np.float32))
  np.save(paths["npy_nan"], np.full((1, 64, 64, 1), np.nan, np.float32))
  np.save(paths["npy_pickle"], np.array([{"a": 1}], dtype=object),
          allow_pickle=True)
  os.makedirs(paths["unreadable"])
  with open(os.path.join(paths["unreadable"], "saved_model.pb"), "wb") as f:
    f.write(b"\x00")
  os.chmod(paths["unreadable"], 0)
  return paths


class FlagServer:
  """The flag_server.py process: describes scripts and runs cases."""

  def __init__(self, root):
    self.root = root
    self.paths = _paths(os.path.join(root, "pool"))
    # Reading through a chmod 000 folder is refused unless the tests run as
    # root; then it is one more readable folder.
    self.unreadable_blocks = not os.access(
        os.path.join(self.paths["unreadable"], "saved_model.pb"), os.R_OK)
    sandbox = os.path.join(root, "cwd")
    os.makedirs(sandbox)
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3",
               CUDA_VISIBLE_DEVICES="")
    self.process = subprocess.Popen(
        [sys.executable, SERVER, sandbox], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, env=env, cwd=sandbox)
    self._flags = {}

  def _ask(self, request):
    self.process.stdin.write(json.dumps(request) + "\n")
    self.process.stdin.flush()
    line = self.process.stdout.readline()
    if not line:
      raise RuntimeError("flag_server.py stopped")
    return json.loads(line)

  def flags_of(self, script):
    if script not in self._flags:
      self._flags[script] = self._ask({"describe": _script_path(script)})
    return self._flags[script]

  def run(self, script, argv):
    return self._ask({"script": _script_path(script), "argv": argv})

  def close(self):
    self.process.stdin.close()
    self.process.wait(timeout=60)
    os.chmod(self.paths["unreadable"], stat.S_IRWXU)


def _script_path(script):
  return os.path.join(ROOT, "scripts", script + ".py")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
  running = FlagServer(str(tmp_path_factory.mktemp("flag_fuzz")))
  yield running
  running.close()


def _values_for(flag):
  if flag["type"] == "bool":
    return None
  pool = list(_HINTS.get(flag["name"], []))
  if flag["enum"]:
    pool += flag["enum"] + ["", "bogus", "\u00e9"]
  elif flag["type"] == "int":
    pool += _INTEGERS
  elif flag["type"] == "float":
    pool += _FLOATS
  else:
    pool += _GENERIC_TEXT
  return st.one_of(st.sampled_from(pool),
                   st.text(max_size=6).filter(lambda s: "\x00" not in s))


def _flag_arg(flag):
  """Strategy of one command-line argument setting ``flag``."""
  name = flag["name"]
  if flag["type"] == "bool":
    return st.sampled_from([f"--{name}", f"--no{name}", f"--{name}=maybe",
                            f"--{name}=", f"--{name}=0"])
  return _values_for(flag).map(lambda value: f"--{name}={value}")


@st.composite
def _command_lines(draw, flags, base):
  """A command line: maybe the base arguments, then 1-4 fuzzed flags and
  now and then a stray positional argument."""
  argv = list(base) if base and draw(st.booleans()) else []
  chosen = draw(st.lists(st.sampled_from(flags), min_size=1, max_size=4,
                         unique_by=lambda f: f["name"]))
  argv += [draw(_flag_arg(flag)) for flag in chosen]
  if draw(st.integers(0, 9)) == 0:
    argv.append(draw(st.sampled_from(["stray", "--", "-x", "\u2603"])))
  return argv


def _fill(argv, paths):
  return [a.format(**paths) if "{" in a and "}" in a else a for a in argv]


def _check_outcome(script, argv, outcome, unreadable_blocks):
  """Raises AssertionError (with the argv) unless the case ended well."""
  program = script + ".py"
  where = f"python scripts/{program} {' '.join(argv)}"
  stderr = outcome["stderr"]
  assert outcome["invalid"] is None, (
      f"{where}: accepted by the script, rejected by the library: "
      f"{outcome['invalid']}")
  assert outcome["code"] in (0, 2), (
      f"{where}: exit {outcome['code']}\n{stderr[-3000:]}")
  assert "Traceback" not in stderr, f"{where}:\n{stderr[-3000:]}"
  if outcome["code"] == 2:
    errors = [l for l in stderr.splitlines()
              if l.startswith(f"{program}: error:")]
    others = [l for l in stderr.splitlines()
              if l.strip() and not l.startswith(f"{program}: error:")]
    assert len(errors) == 1 and not others, f"{where}:\n{stderr[-3000:]}"
  del unreadable_blocks


def _fuzz(server, script, budget):
  flags = server.flags_of(script)
  assert flags, f"no flags found for {script}"
  base = _BASES.get(script, [])
  if not os.path.exists(SHIPPED_EXPORT):
    base = [a for a in base if "{shipped}" not in a]

  @settings(max_examples=budget, deadline=None, derandomize=True,
            database=None, print_blob=False,
            suppress_health_check=list(HealthCheck))
  @given(_command_lines(flags, base))
  def check(argv):
    argv = _fill(argv, server.paths)
    if not server.unreadable_blocks:
      # Running as root: a chmod 000 folder reads like any other.
      argv = [a for a in argv if server.paths["unreadable"] not in a]
    outcome = server.run(script, argv)
    _check_outcome(script, argv, outcome, server.unreadable_blocks)

  check()


_DEFAULT_BUDGET = 25
_LONG_BUDGET = 400


@pytest.mark.parametrize("budget", [
    pytest.param(_DEFAULT_BUDGET, id="default"),
    pytest.param(_LONG_BUDGET, id="long", marks=pytest.mark.slow)])
@pytest.mark.parametrize("script", SCRIPTS)
def test_fuzzed_flags_exit_0_or_one_usage_line(server, script, budget):
  _fuzz(server, script, budget)


# Inputs the long fuzz run found; each was a traceback, a second stderr line
# or a value the library then rejected.  They stay in the default run.
FOUND = [
    ("train", ["--export_dir= "]),
    ("train", ["--export_name=a/b"]),
    ("export", ["--describe=\r"]),
    ("export", ["--describe=\x0c"]),
    ("evaluate", ["--baseline=pca", "--baseline_dim=0"]),
    ("evaluate", ["--baseline=pca", "--batch_size=0"]),
    ("evaluate", ["--seed=-1", "--baseline=pca"]),
    ("sweep", ["--metric_seed=-1"]),
    ("traverse", ["--model_dir={fake_run}"]),
    ("transfer", ["--saved_model={shipped}", "--factor=color"]),
]


@pytest.mark.parametrize("script, argv", FOUND,
                         ids=[f"{s}-{i}" for i, (s, _) in enumerate(FOUND)])
def test_inputs_the_fuzzer_found_end_with_one_usage_line(server, script,
                                                         argv):
  if any("{shipped}" in a for a in argv) and not os.path.exists(
      SHIPPED_EXPORT):
    pytest.skip("the shipped export is not in this checkout")
  argv = _fill(argv, server.paths)
  outcome = server.run(script, argv)
  _check_outcome(script, argv, outcome, server.unreadable_blocks)
  assert outcome["code"] == 2, outcome["stderr"][-2000:]
