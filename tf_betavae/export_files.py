"""The files of an export that several processes write, without TensorFlow.

An export root holds ``<model_name>/<version>/`` directories (TF Serving's
layout).  Two exporters of one model name, or two evaluations of one
export, may run at the same moment (two terminals, a restarted job whose
first instance still runs).  This module makes their writes safe:

* Versions are allocated at commit time.  A SavedModel is written into a
  private staging directory inside the model folder (a name starting with
  ``.tmp-export-``: not an integer, so TF Serving ignores it); then, under
  the export root's lock, the next version (highest + 1) is chosen and the
  staging directory renamed to it.  Two exporters get two versions; an
  existing version is replaced only when asked to.
* A replaced version is swapped with the new one in one ``renameat2(...,
  RENAME_EXCHANGE)`` call on Linux, so a server polling the version never
  sees it missing or half-written.  Without that call (other systems, old
  kernels, filesystems that refuse it) two renames are used, and for the
  moment between them the version directory is absent.
* Results written beside an export (``metrics.json`` and the scores in the
  metadata asset) are read, merged and rewritten atomically under the
  export directory's lock, so two evaluations keep both their results.

Staging directories of exporters that were killed are removed by the next
export of the same model name once their owner is gone: each exporter
holds a lock on a file inside its staging directory while it works, and
the operating system drops that lock when the process ends.

Kept free of TensorFlow so that racing processes in tests and small tools
can use it cheaply.
"""

import contextlib
import ctypes
import errno
import os
import shutil
import tempfile

from absl import logging

from tf_betavae import io_utils
from tf_betavae import locking

STAGING_PREFIX = ".tmp-export-"
EXPORT_LOCK = ".export.lock"
METRICS_LOCK = ".metrics.lock"
METRICS_FILE = "metrics.json"
METADATA_FILENAME = "tf_betavae_metadata.json"
DEFAULT_PROTOCOL = "disentanglement_lib"

_OWNER_LOCK = ".owner.lock"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class ExportError(RuntimeError):
  """The export cannot be written where or as asked."""


def is_version_name(name):
  """True for a directory name TF Serving reads as a version (digits)."""
  return name.isascii() and name.isdigit()


def versions(model_root):
  """The integer versions present in ``model_root`` (sorted list)."""
  return sorted(int(name) for name in os.listdir(model_root)
                if is_version_name(name))


def check_version(version):
  """Raises ExportError unless ``version`` is None or an int > 0."""
  if version is None:
    return
  if isinstance(version, bool) or not isinstance(version, int) or version <= 0:
    raise ExportError(f"export version must be a positive integer (TF "
                      f"Serving's layout), got {version!r}")


def model_root_of(export_root, model_name):
  """``<export_root>/<model_name>``, created; ExportError if it cannot be."""
  model_root = os.path.join(export_root, model_name)
  try:
    os.makedirs(model_root, exist_ok=True)
  except OSError as e:
    raise ExportError(f"cannot create export directory {model_root}: "
                      f"{e.strerror}") from None
  return model_root


def _exists_error(final_dir):
  return ExportError(f"{final_dir} already exists; pass overwrite=True "
                     "(--overwrite) to replace it or choose another version")


def refuse_existing(model_root, version, overwrite):
  """Raises ExportError when an explicit version exists and not overwrite.

  Called before anything is written, so a refused export costs nothing;
  ``commit`` checks again under the lock, which is what makes it hold.
  """
  if version is not None and not overwrite:
    final_dir = os.path.join(model_root, str(version))
    if os.path.exists(final_dir):
      raise _exists_error(final_dir)


def _export_lock(export_root):
  # The lock lives in the export root, not in the model folder: the model
  # folder holds versions only (and transient staging directories).
  return locking.exclusive(export_root, f"export root {export_root}",
                           wait=True, lock_name=EXPORT_LOCK)


def _remove_abandoned_staging(model_root):
  """Removes staging directories whose exporter has ended (call under the
  export lock: a live exporter takes its owner lock under it too)."""
  for name in os.listdir(model_root):
    path = os.path.join(model_root, name)
    if not name.startswith(STAGING_PREFIX) or not os.path.isdir(path):
      continue
    if locking.holder_of(path, lock_name=_OWNER_LOCK) is None:
      logging.info("Removing %s, left by an exporter that ended.", path)
      shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def staging(export_root, model_name):
  """A private directory inside the model folder to write an export into.

  Yields:
    (model root, staging directory).  Write the SavedModel into a
    subdirectory of the staging directory and pass it to ``commit``.  The
    staging directory is removed on exit, committed or not.
  """
  model_root = model_root_of(export_root, model_name)
  with contextlib.ExitStack() as stack:
    with _export_lock(export_root):
      _remove_abandoned_staging(model_root)
      path = tempfile.mkdtemp(dir=model_root, prefix=STAGING_PREFIX)
      # Taken under the export lock, before any other exporter can look at
      # the new directory, so it is never mistaken for an abandoned one.
      stack.enter_context(locking.exclusive(path, wait=True,
                                            lock_name=_OWNER_LOCK))
    try:
      yield model_root, path
    finally:
      with _export_lock(export_root):
        shutil.rmtree(path, ignore_errors=True)


def _renameat2_exchange(source, target):
  """Swaps two paths atomically; False when the system cannot."""
  try:
    renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
  except (OSError, AttributeError):  # no such libc function (not Linux)
    return False
  renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                        ctypes.c_char_p, ctypes.c_uint]
  renameat2.restype = ctypes.c_int
  if renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD,
               os.fsencode(target), _RENAME_EXCHANGE) == 0:
    return True
  error = ctypes.get_errno()
  if error in (errno.ENOSYS, errno.EINVAL):  # old kernel or filesystem
    return False
  raise OSError(error, os.strerror(error), target)


def _replace(source, final_dir):
  """Puts ``source`` at ``final_dir`` (which exists); the old content ends
  up at ``source`` (to be deleted by the caller)."""
  if _renameat2_exchange(source, final_dir):
    return
  # No atomic exchange here: between these two renames ``final_dir`` is
  # missing, and a server polling it may unload the version for a moment.
  logging.warning("Atomic directory exchange unavailable; %s is briefly "
                  "absent while it is replaced.", final_dir)
  aside = source + ".replaced"
  os.rename(final_dir, aside)
  os.rename(source, final_dir)
  os.rename(aside, source)


def commit(export_root, model_root, source, version=None, overwrite=False,
           prepare=None):
  """Makes the complete SavedModel at ``source`` a version of its model.

  Args:
    export_root: str, whose lock serialises the commits of all its models.
    model_root: str, the model folder (``<export_root>/<model_name>``).
    source: str, a directory inside a ``staging`` directory of model_root.
    version: int > 0, or None for one more than the highest present.
    overwrite: replace an existing ``version`` (atomically on Linux).
    prepare: optional callable(version) run under the lock just before the
      rename (e.g. to write the version into the metadata in ``source``).

  Returns:
    (version, version directory).

  Raises:
    ExportError: ``version`` exists and not ``overwrite``, or a bad version.
  """
  check_version(version)
  with _export_lock(export_root):
    if version is None:
      version = max(versions(model_root), default=0) + 1
    final_dir = os.path.join(model_root, str(version))
    exists = os.path.lexists(final_dir)
    if exists and not overwrite:
      raise _exists_error(final_dir)
    if prepare is not None:
      prepare(version)
    if exists:
      _replace(source, final_dir)
      shutil.rmtree(source, ignore_errors=True)  # the replaced version
    else:
      os.rename(source, final_dir)
  return version, final_dir


def result_key(name, result):
  """The key a metric result is merged under beside an export.

  The metric name, then ``:protocol`` for a protocol other than
  disentanglement_lib's (the β-VAE metric's paper protocol) and
  ``:sampled`` for disentanglement_lib's sampled representation, so that
  results of every protocol and representation are kept side by side.
  """
  protocol = result.get("protocol", DEFAULT_PROTOCOL)
  key = name if protocol == DEFAULT_PROTOCOL else f"{name}:{protocol}"
  if result.get("postprocessing", "mean") != "mean":
    key += f":{result['postprocessing']}"
  return key


def _read_json_dict(path):
  try:
    value = io_utils.read_json_if_present(path, {})
  except (OSError, ValueError) as e:
    logging.warning("Replacing unreadable %s: %s", path, e)
    return {}
  if not isinstance(value, dict):
    logging.warning("Replacing %s: not a JSON object.", path)
    return {}
  return value


def record_results(export_dir, results, with_metrics_file=True,
                   with_metadata=True):
  """Merges metric results into the files beside an export.

  With ``with_metrics_file``, ``<export_dir>/metrics.json`` gets each
  result under ``result_key`` (a result of the same key is replaced,
  others are kept) and, with ``with_metadata``, the export's metadata asset gets the scores (score,
  protocol, dataset, seed).  Read, merge and write happen under the export
  directory's ``.metrics.lock``, each file written atomically, so two
  processes recording at once both keep their results.

  Args:
    export_dir: a version directory.
    results: dict metric name -> result dict with at least "score".
    with_metrics_file: update metrics.json.
    with_metadata: update assets/tf_betavae_metadata.json (which must
      exist).

  Returns:
    (merged metrics.json content or None, merged metadata or None).
  """
  results = io_utils.to_jsonable(results)
  with locking.exclusive(export_dir, f"export {export_dir}", wait=True,
                         lock_name=METRICS_LOCK):
    merged = metadata = None
    if with_metrics_file:
      path = os.path.join(export_dir, METRICS_FILE)
      merged = _read_json_dict(path)
      for name, result in results.items():
        merged[result_key(name, result)] = result
      io_utils.write_json_atomic(path, merged)
    if with_metadata:
      metadata_path = os.path.join(export_dir, "assets", METADATA_FILENAME)
      # Raw, not upgraded (export.upgrade_metadata): only the scores
      # change, so the file keeps its layout version and every field.
      metadata = io_utils.read_json(metadata_path)
      scores = dict(metadata.get("metrics") or {})
      for name, result in results.items():
        kept = {"score": result["score"]}
        for key in ("protocol", "dataset", "seed"):
          if key in result:
            kept[key] = result[key]
        scores[result_key(name, result)] = kept
      metadata["metrics"] = scores
      io_utils.write_json_atomic(metadata_path, metadata)
  return merged, metadata
