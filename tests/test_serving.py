"""scripts/serving_client.py against a stand-in for TF Serving's REST API.

TF Serving itself cannot be installed here, so ``_StandInServer`` plays its
part for the client test only: it checks that the request follows TF
Serving's documented REST predict format and answers in TF Serving's reply
format, computed with the real exported SavedModel.
"""

import http.server
import json
import os
import re
import subprocess
import sys
import threading

import numpy as np
import pytest
import tensorflow as tf

from tf_betavae import serving

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PATH = re.compile(r"^/v1/models/(?P<name>[\w.-]+)(/versions/(?P<v>\d+))?"
                   r":predict$")


class _StandInServer:
  """TF Serving REST stand-in on 127.0.0.1 for one SavedModel."""

  def __init__(self, model_name, saved_model_dir):
    loaded = tf.saved_model.load(saved_model_dir)
    self.requests = []
    outer = self

    class Handler(http.server.BaseHTTPRequestHandler):

      def log_message(self, *args):
        pass

      def _reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

      def do_POST(self):  # pylint: disable=invalid-name
        match = _PATH.match(self.path)
        body = json.loads(self.rfile.read(
            int(self.headers["Content-Length"])))
        outer.requests.append({"path": self.path, "body": body})
        if not match or match.group("name") != model_name:
          return self._reply(404, {"error": f"Servable not found: {self.path}"})
        if set(body) - {"signature_name", "instances", "inputs"}:
          return self._reply(400, {"error": f"unknown keys {set(body)}"})
        signature = loaded.signatures.get(
            body.get("signature_name", "serving_default"))
        if signature is None:
          return self._reply(400, {"error": "signature not found"})
        rows = body.get("instances", body.get("inputs"))
        try:
          outputs = signature(images=tf.constant(rows, tf.float32))
        except Exception as e:  # pylint: disable=broad-except
          return self._reply(400, {"error": str(e).splitlines()[0]})
        outputs = {k: v.numpy().tolist() for k, v in outputs.items()}
        if len(outputs) == 1:
          predictions = next(iter(outputs.values()))
        else:
          predictions = [dict(zip(outputs, values))
                         for values in zip(*outputs.values())]
        return self._reply(200, {"predictions": predictions})

    self._server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    self.address = f"127.0.0.1:{self._server.server_address[1]}"
    self._thread = threading.Thread(target=self._server.serve_forever,
                                    daemon=True)

  def __enter__(self):
    self._thread.start()
    return self

  def __exit__(self, *exc):
    self._server.shutdown()
    self._server.server_close()


def test_rest_request_and_response_formats():
  images = np.zeros((2, 4, 4, 1), np.float32)
  body = serving.build_rest_request(images, "encode")
  assert body["signature_name"] == "encode"
  assert np.asarray(body["instances"]).shape == (2, 4, 4, 1)
  assert serving.predict_url("localhost:8501", "m", 3) == (
      "http://localhost:8501/v1/models/m/versions/3:predict")
  multi = {"predictions": [{"mean": [1, 2], "log_variance": [0, 0]},
                           {"mean": [3, 4], "log_variance": [1, 1]}]}
  np.testing.assert_array_equal(
      serving.parse_rest_response(multi, "mean"), [[1, 2], [3, 4]])
  with pytest.raises(serving.ServingError, match="server error"):
    serving.parse_rest_response({"error": "bad"})


def test_client_prints_the_latent_means_of_the_real_model(tiny_run, tmp_path):
  export_path = tiny_run["summary"]["export_path"]
  images = np.random.RandomState(0).uniform(size=(3, 64, 64, 1))
  np.save(tmp_path / "images.npy", images.astype(np.float32))
  expected = tf.saved_model.load(export_path).signatures["serving_default"](
      images=tf.constant(images, tf.float32))["latent_mean"].numpy()
  with _StandInServer("dsprites", export_path) as server:
    result = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "scripts",
                                      "serving_client.py"),
         f"--server={server.address}", "--model_name=dsprites", "--version=1",
         f"--images={tmp_path}/images.npy"],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 0, result.stderr[-2000:]
    request = server.requests[-1]
  assert request["path"] == "/v1/models/dsprites/versions/1:predict"
  assert request["body"]["signature_name"] == "serving_default"
  assert np.asarray(request["body"]["instances"]).shape == (3, 64, 64, 1)
  lines = [l for l in result.stdout.splitlines() if l.startswith("image ")]
  assert len(lines) == 3
  printed = np.array([[float(v) for v in l.split("latent_mean ")[1].split()]
                      for l in lines])
  np.testing.assert_allclose(printed, expected, atol=1e-4)


def test_client_reports_a_server_refusal(tiny_run):
  export_path = tiny_run["summary"]["export_path"]
  with _StandInServer("dsprites", export_path) as server:
    with pytest.raises(serving.ServingError, match="HTTP 404"):
      serving.predict_rest(server.address, "other", np.zeros((1, 64, 64, 1)))
    with pytest.raises(serving.ServingError, match="HTTP 400"):
      serving.predict_rest(server.address, "dsprites",
                           np.zeros((1, 32, 32, 1)))
  with pytest.raises(serving.ServingError, match="cannot reach"):
    serving.predict_rest(server.address, "dsprites", np.zeros((1, 64, 64, 1)),
                         timeout=5)
