"""Client side of TF Serving's predict API (REST, and gRPC when installed).

REST follows TF Serving's documented JSON API:
``POST <server>/v1/models/<name>[/versions/<v>]:predict`` with
``{"signature_name": ..., "instances": [...]}`` (row format); the reply is
``{"predictions": [...]}`` (one entry per instance; an entry is a dict of
outputs when the signature has several).  gRPC uses ``PredictionService``
from the optional ``tensorflow-serving-api`` package.
"""

import json
import urllib.error
import urllib.request

import numpy as np

from tf_betavae import data


class ServingError(RuntimeError):
  """The server refused the request or could not be reached."""


def request_images(images_path=None, num_images=4, seed=0):
  """The images to send: a .npy file, or dSprites simulator images.

  Args:
    images_path: a .npy file of images [batch, H, W, C] in [0, 1], or None
      for simulator images.
    num_images: int > 0, simulator images to render without images_path.
    seed: int, seed of the simulator images.

  Returns:
    float32 np.ndarray [batch, H, W, C].

  Raises:
    ValueError: an unreadable file, an array that is not 4-D, or
      num_images <= 0 (the message names the flag to fix).
  """
  if images_path:
    try:
      images = np.load(images_path)
    except (OSError, ValueError) as e:
      raise ValueError(f"cannot read --images {images_path}: {e}") from None
    if images.ndim != 4:
      raise ValueError(f"--images must hold [batch, H, W, C], got shape "
                       f"{images.shape}")
    return images.astype(np.float32)
  if num_images <= 0:
    raise ValueError(f"--num_images must be > 0, got {num_images}")
  simulator = data.ground_truth("dsprites")
  rng = np.random.RandomState(seed)
  return simulator.sample_observations_from_factors(
      simulator.sample_factors(num_images, rng))


def predict(server, model_name, inputs, protocol="rest",
            signature_name="serving_default", version=None,
            output_key="latent_mean", timeout=30.0):
  """Sends a batch over ``protocol`` ('rest' or 'grpc'); see predict_rest
  and predict_grpc.

  Returns:
    np.ndarray [batch, ...] of the output ``output_key``.

  Raises:
    ServingError: the server refused the request or could not be reached.
  """
  if protocol == "rest":
    return predict_rest(server, model_name, inputs, signature_name,
                        version=version, output_key=output_key,
                        timeout=timeout)
  if protocol == "grpc":
    return predict_grpc(server, model_name, inputs, signature_name,
                        output_key=output_key, version=version,
                        timeout=timeout)
  raise ValueError(f"unknown protocol {protocol!r}; choose rest or grpc")


def predict_url(server, model_name, version=None):
  """The REST predict URL, e.g. http://localhost:8501/v1/models/m:predict."""
  base = server.rstrip("/")
  if "://" not in base:
    base = "http://" + base
  path = f"/v1/models/{model_name}"
  if version is not None:
    path += f"/versions/{int(version)}"
  return base + path + ":predict"


def build_rest_request(inputs, signature_name="serving_default"):
  """JSON body (row format) for a batch to a single-input signature.

  Args:
    inputs: float32 np.ndarray [batch, ...], e.g. images [batch, 64, 64, C].
    signature_name: str.

  Returns:
    dict, ready for json.dumps: instances are the bare per-example arrays
    (TF Serving's form for signatures with one input).
  """
  inputs = np.asarray(inputs, np.float32)
  return {"signature_name": signature_name, "instances": inputs.tolist()}


def parse_rest_response(body, output_key=None):
  """Predictions from a REST reply, as float32 arrays.

  Args:
    body: the decoded JSON reply.
    output_key: with multi-output signatures, the output to return (None
      returns a dict of all outputs).

  Returns:
    np.ndarray [batch, ...] or dict name -> np.ndarray.
  """
  if "error" in body:
    raise ServingError(f"server error: {body['error']}")
  if "predictions" in body:
    predictions = body["predictions"]
    if predictions and isinstance(predictions[0], dict):
      outputs = {k: np.asarray([p[k] for p in predictions], np.float32)
                 for k in predictions[0]}
      return outputs[output_key] if output_key else outputs
    return np.asarray(predictions, np.float32)
  if "outputs" in body:
    outputs = body["outputs"]
    if isinstance(outputs, dict):
      outputs = {k: np.asarray(v, np.float32) for k, v in outputs.items()}
      return outputs[output_key] if output_key else outputs
    return np.asarray(outputs, np.float32)
  raise ServingError(f"unexpected reply, no 'predictions' or 'outputs': "
                     f"{str(body)[:200]}")


def predict_rest(server, model_name, inputs, signature_name="serving_default",
                 version=None, output_key=None, timeout=30.0):
  """Sends a batch to TF Serving's REST API and returns the predictions."""
  url = predict_url(server, model_name, version)
  payload = json.dumps(build_rest_request(inputs, signature_name)).encode()
  request = urllib.request.Request(
      url, data=payload, headers={"Content-Type": "application/json"},
      method="POST")
  try:
    with urllib.request.urlopen(request, timeout=timeout) as reply:
      body = json.loads(reply.read().decode())
  except urllib.error.HTTPError as e:
    detail = e.read().decode(errors="replace")[:500]
    raise ServingError(f"{url} answered HTTP {e.code}: {detail}") from None
  except urllib.error.URLError as e:
    raise ServingError(f"cannot reach {url}: {e.reason}") from None
  return parse_rest_response(body, output_key)


def predict_grpc(server, model_name, inputs, signature_name="serving_default",
                 input_name="images", output_key="latent_mean", version=None,
                 timeout=30.0):
  """Sends a batch over gRPC (needs the tensorflow-serving-api package)."""
  try:
    import grpc  # pylint: disable=g-import-not-at-top
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from tensorflow_serving.apis import predict_pb2  # pylint: disable=g-import-not-at-top
    from tensorflow_serving.apis import prediction_service_pb2_grpc  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise ServingError("gRPC needs the tensorflow-serving-api package "
                       "(pip install tensorflow-serving-api); use REST "
                       "otherwise") from None
  request = predict_pb2.PredictRequest()
  request.model_spec.name = model_name
  request.model_spec.signature_name = signature_name
  if version is not None:
    request.model_spec.version.value = int(version)
  request.inputs[input_name].CopyFrom(
      tf.make_tensor_proto(np.asarray(inputs, np.float32)))
  channel = grpc.insecure_channel(server)
  stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
  try:
    reply = stub.Predict(request, timeout=timeout)
  except grpc.RpcError as e:
    raise ServingError(f"gRPC Predict failed: {e.details()}") from None
  return tf.make_ndarray(reply.outputs[output_key])
