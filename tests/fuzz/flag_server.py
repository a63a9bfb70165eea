"""Runs fuzzed command lines of the scripts, one forked child per case.

Started by test_script_flags.py as ``python flag_server.py SANDBOX``.  It
imports TensorFlow and the package once; each request (one JSON line on
stdin: {"script": path, "argv": [...]}) is run in a child forked from it, so
a case costs milliseconds instead of a TensorFlow import, every case starts
from fresh flags and patches, and a case that hangs is killed.  The child
loads the script module, replaces the heavy library entry points with
recorders, parses the argv with the script's own parser and calls its
``main``.  A recorder that is reached checks that the library's own
validation accepts what the script let through (so a bad value cannot slip
past the script and fail after hours of training) and then stops the case
with ``Reached`` (counted as exit 0).  The answer is one JSON line on
stdout: code, stderr, reached, invalid (what a recorder found wrong).

Requests {"describe": path} answer the script's own flags (name, type,
enum values), which the tests draw values for.
"""

import contextlib
import importlib.util
import json
import math
import os
import select
import signal
import sys
import tempfile
import traceback

# Quiet TensorFlow like the programs do, before it is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position,unused-import

from tf_betavae import cli  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import data as data_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import export as export_lib  # pylint: disable=g-import-not-at-top,wrong-import-position,unused-import
from tf_betavae import serving  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import tf_startup  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import training  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae import transfer  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.experiments import reproduce  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.experiments import selection  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.experiments import settings as settings_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.experiments import standalone  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.experiments import sweep  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.training import command  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.training import step_timing  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf_betavae.visualize import picture_files  # pylint: disable=g-import-not-at-top,wrong-import-position

# Seconds one case may take before it counts as a hang (loading a real
# SavedModel takes a few).
CASE_TIMEOUT = 120


class Reached(Exception):
  """A recorder was reached and found nothing wrong: the case ends here."""


class InvalidAccepted(Exception):
  """A recorder found a value the script accepted but the library rejects."""


def _need(condition, message):
  if not condition:
    raise InvalidAccepted(message)


def _valid_seed(seed, what):
  _need(isinstance(seed, int) and 0 <= seed < 2**32,
        f"{what}={seed!r} reached the library (RandomState needs 0..2**32-1)")


def _dir_target(path, what):
  """A directory the program will create or write into."""
  _need(isinstance(path, str) and path.strip(),
        f"{what}={path!r}: an empty directory reached the library")
  path = os.path.abspath(path)
  _need(not os.path.exists(path) or os.path.isdir(path),
        f"{what}={path!r} is a file but reached the library as a directory")
  parent = os.path.dirname(path)
  while not os.path.exists(parent):
    parent = os.path.dirname(parent)
  _need(os.path.isdir(parent),
        f"{what}={path!r}: {parent} is a file, the directory cannot be made")


def _file_target(path, what):
  """A file the program will write."""
  _need(isinstance(path, str) and path.strip(),
        f"{what}={path!r}: an empty file name reached the library")
  _need(not os.path.isdir(path),
        f"{what}={path!r} is a directory but reached the library as a file")
  _dir_target(os.path.dirname(os.path.abspath(path)), what + " (its folder)")


def _finite_positive(value, what):
  _need(isinstance(value, (int, float)) and math.isfinite(value)
        and value > 0, f"{what}={value!r} reached the library")


# Recorders, one set per script.  Each replaces the heavy entry point the
# script calls after its own checks.


def _patch_train(module):
  del module

  def record(config, model_dir, export_dir=None, export_name=None,
             strategy=None):
    del strategy
    try:
      config.validate()
      data_lib.check_available(config.dataset, data_dir=config.data_dir,
                               dsprites_file=config.dsprites_file)
    except (training.ConfigError, data_lib.DatasetUnavailableError) as e:
      raise InvalidAccepted(f"TrainConfig rejects it: {e}") from None
    _dir_target(model_dir, "--model_dir")
    if export_dir:
      _dir_target(export_dir, "--export_dir")
    _need(export_name and os.sep not in export_name
          and export_name not in (".", ".."),
          f"model name {export_name!r} reached the export")
    raise Reached()

  command.loop.train = record


def _patch_evaluate(module):
  del module

  def record(request):
    names, gt = standalone._check(request)  # pylint: disable=protected-access
    del names
    if request.saved_model:
      standalone._representation(request, gt)  # pylint: disable=protected-access
    else:
      _need(request.baseline_dim >= 1,
            f"--baseline_dim={request.baseline_dim} reached the baseline")
    _valid_seed(request.seed, "--seed")
    _need(request.batch_size >= 1,
          f"--batch_size={request.batch_size} reached the SavedModel calls")
    if request.output:
      _file_target(request.output, "--output")
    raise Reached()

  standalone.evaluate = record


def _patch_export(module):
  del module

  def record(model, config, export_root, history, model_name=None,
             version=None, overwrite=False):
    del model, config, history, overwrite
    _dir_target(export_root, "--export_dir")
    _need(version is None or version >= 1, f"--version={version} reached")
    _need(model_name is None or (model_name and os.sep not in model_name),
          f"--model_name={model_name!r} reached the export")
    raise Reached()

  export_lib.export_trained = record


def _patch_reproduce(module):

  def record(settings, ground_truth=None):
    del ground_truth
    try:
      settings_lib.validate(settings)
      data_lib.check_available(settings.dataset,
                               dsprites_file=settings.dsprites_file)
    except (settings_lib.UsageError, data_lib.DatasetUnavailableError) as e:
      raise InvalidAccepted(f"the settings are invalid: {e}") from None
    for seed in settings.seeds:
      _valid_seed(settings.metric_seed + seed, "--metric_seed + seed")
    _dir_target(settings.work_dir, "--work_dir")
    _file_target(module.FLAGS.output_md, "--output_md")
    raise Reached()

  reproduce.reproduce = record


def _patch_sweep(module):
  del module

  def record(base, betas, seeds, sweep_dir, settings, ground_truth,
             udr_num_points):
    del ground_truth
    for beta in betas:
      for seed in seeds:
        try:
          training.TrainConfig(**dict(base.to_dict(), beta=beta,
                                      seed=seed)).validate()
        except training.ConfigError as e:
          raise InvalidAccepted(f"beta={beta} seed={seed}: {e}") from None
    _valid_seed(settings.seed, "--metric_seed")
    _need(udr_num_points >= 10, f"--udr_num_points={udr_num_points}")
    _dir_target(sweep_dir, "--sweep_dir")
    raise Reached()

  sweep.run_sweep = record


def _patch_select_models(module):

  def record(models, dataset, num_points, random_state, *args, **kwargs):
    del models, dataset, random_state, args, kwargs
    flag_values = module.FLAGS
    _need(num_points >= 2, f"--num_points={num_points}")
    _need(math.isfinite(flag_values.kl_filter_threshold)
          and flag_values.kl_filter_threshold >= 0,
          f"--kl_filter_threshold={flag_values.kl_filter_threshold}")
    for name in ("supervised_num_train", "supervised_num_eval"):
      value = flag_values[name].value
      _need(value is None or value >= 2, f"--{name}={value}")
    if flag_values.output:
      _file_target(flag_values.output, "--output")
    raise Reached()

  selection.sample_posteriors = record


def _patch_traverse(module):
  del module

  def record(source, dataset=None, num_images=64, seed=0, data_dir=None):
    del source, dataset, data_dir
    _need(num_images >= 1, f"--num_images={num_images}")
    _valid_seed(seed, "--seed")
    raise Reached()

  picture_files.input_images = record


def _patch_transfer(module):

  def record(saved_model_path, ground_truth, factor_name, num_train=5000,
             num_test=2000, epochs=20, batch_size=256, learning_rate=1e-2,
             hidden_units=0, seed=0, fine_tune=False):
    del batch_size, fine_tune
    _need(factor_name in ground_truth.factor_names,
          f"--factor={factor_name!r} reached the probe")
    for name, value in (("num_train", num_train), ("num_test", num_test),
                        ("epochs", epochs)):
      _need(value >= 1, f"--{name}={value}")
    _finite_positive(learning_rate, "--learning_rate")
    _need(hidden_units >= 0, f"--hidden_units={hidden_units}")
    _valid_seed(seed, "--seed")
    if module.FLAGS.output:
      _file_target(module.FLAGS.output, "--output")
    # The real loader: what it raises for a broken SavedModel must be one
    # the script reports.
    shape = transfer.signature_image_shape(saved_model_path)
    _need(tuple(shape) == tuple(ground_truth.observation_shape),
          f"the encoder takes {shape}, the dataset gives "
          f"{ground_truth.observation_shape}")
    raise Reached()

  transfer.train_probe = record


def _patch_serving_client(module):
  del module

  def record(server, model_name, inputs, protocol="rest",
             signature_name="serving_default", version=None,
             output_key="latent_mean", timeout=30.0):
    del signature_name, output_key
    _need(protocol in ("rest", "grpc"), f"--protocol={protocol!r}")
    _need(isinstance(server, str) and server.strip(), f"--server={server!r}")
    _need(model_name, f"--model_name={model_name!r}")
    _need(version is None or version >= 1, f"--version={version}")
    _finite_positive(timeout, "--timeout")
    _need(inputs.ndim == 4 and inputs.shape[0] >= 1,
          f"images of shape {inputs.shape} reached the request")
    raise Reached()

  serving.predict = record


def _patch_gpu_check(module):

  def record(mixed_precision, jit_compile, steps, warmup, batch_size):
    try:
      training.TrainConfig(batch_size=batch_size).validate()
    except training.ConfigError as e:
      raise InvalidAccepted(f"TrainConfig rejects it: {e}") from None
    _need(steps >= 1, f"--steps={steps}")
    _need(warmup >= 0, f"--warmup_steps={warmup}")
    if module.FLAGS.output:
      _file_target(module.FLAGS.output, "--output")
    # The rest of main (the table, --output) runs on these numbers.
    return {"mixed_precision": mixed_precision, "jit_compile": jit_compile,
            "images_per_second": 1.0, "images_per_second_no_input": 1.0,
            "input_wait_share": 0.0}

  step_timing.time_variant = record


PATCHES = {
    "train": _patch_train, "evaluate": _patch_evaluate,
    "export": _patch_export, "reproduce": _patch_reproduce,
    "sweep": _patch_sweep, "select_models": _patch_select_models,
    "traverse": _patch_traverse, "transfer": _patch_transfer,
    "serving_client": _patch_serving_client, "gpu_check": _patch_gpu_check,
}


def _load(script):
  spec = importlib.util.spec_from_file_location("script_under_fuzz", script)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _describe(script):
  before = set(flags.FLAGS)
  module = _load(script)
  described = []
  for name in sorted(set(module.FLAGS) - before):
    flag = module.FLAGS[name]
    if flag.name != name:  # a short name
      continue
    described.append({"name": flag.name, "type": flag.flag_type(),
                      "enum": list(getattr(flag.parser, "enum_values", None)
                                   or [])})
  return described


def _run_case(script, argv, out_path):
  """In the child: runs one case; writes the outcome JSON to out_path."""
  name = os.path.splitext(os.path.basename(script))[0]
  program = os.path.basename(script)
  outcome = {"code": None, "reached": False, "invalid": None}
  capture = tempfile.TemporaryFile()
  os.dup2(capture.fileno(), 1)
  os.dup2(capture.fileno(), 2)
  try:
    module = _load(script)
    PATCHES[name](module)
    # What cli.run does before main: library INFO is hidden.
    tf_startup.hide_library_info()
    parse = getattr(module, "_parse_flags", cli.flags_parser(program))
    try:
      module.main(parse([program] + argv))
      outcome["code"] = 0
    except SystemExit as e:
      outcome["code"] = 0 if e.code is None else e.code
    except Reached:
      outcome["code"], outcome["reached"] = 0, True
    except InvalidAccepted as e:
      outcome["code"], outcome["invalid"] = 0, str(e)
    except Exception:  # pylint: disable=broad-except
      traceback.print_exc()
      outcome["code"] = 1
  finally:
    sys.stdout.flush()
    sys.stderr.flush()
    capture.seek(0)
    outcome["stderr"] = capture.read().decode(errors="replace")[-6000:]
    with open(out_path, "w") as f:
      json.dump(outcome, f)


def _serve(sandbox):
  proto = os.fdopen(os.dup(1), "w")
  # Cases' own writes go nowhere near the protocol stream.
  devnull = os.open(os.devnull, os.O_WRONLY)
  os.dup2(devnull, 1)
  out_path = os.path.join(sandbox, ".outcome.json")
  for line in sys.stdin:
    request = json.loads(line)
    if "describe" in request:
      pid = os.fork()
      if pid == 0:
        with open(out_path, "w") as f:
          json.dump(_describe(request["describe"]), f)
        os._exit(0)  # pylint: disable=protected-access
      os.waitpid(pid, 0)
      with open(out_path) as f:
        proto.write(f.read() + "\n")
      proto.flush()
      continue
    if os.path.exists(out_path):
      os.remove(out_path)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
      os.close(read_end)
      os.chdir(request.get("cwd", sandbox))
      try:
        _run_case(request["script"], request["argv"], out_path)
      finally:
        os._exit(0)  # pylint: disable=protected-access
    os.close(write_end)
    # The pipe closes when the child exits (or hangs past the timeout).
    ready, _, _ = select.select([read_end], [], [], CASE_TIMEOUT)
    os.close(read_end)
    if not ready:
      os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if not ready:
      outcome = {"code": "hang", "stderr": "", "reached": False,
                 "invalid": None}
    else:
      try:
        with open(out_path) as f:
          outcome = json.load(f)
      except (OSError, ValueError):
        outcome = {"code": f"died (status {status})", "stderr": "",
                   "reached": False, "invalid": None}
    proto.write(json.dumps(outcome) + "\n")
    proto.flush()


if __name__ == "__main__":
  with contextlib.suppress(KeyboardInterrupt):
    _serve(sys.argv[1])
