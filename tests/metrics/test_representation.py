import numpy as np
import pytest
import tensorflow as tf

from tf_betavae.metrics import representation


def _save(path, shape=(None, 4, 4, 1), key="latent_mean", input_name="images"):
  module = tf.Module()
  module.w = tf.Variable(np.arange(16 * 3, dtype=np.float32).reshape(16, 3))

  @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32,
                                              name=input_name)])
  def serve(images):
    flat = tf.reshape(images, [-1, 16])
    return {key: flat @ module.w, "other": flat[:, :1]}

  tf.saved_model.save(module, str(path),
                      signatures={"serving_default": serve})
  return module.w.numpy()


def test_saved_model_representation_batches(tmp_path):
  w = _save(tmp_path / "m")
  fn = representation.saved_model_representation(
      str(tmp_path / "m"), batch_size=7, observation_shape=(4, 4, 1))
  images = np.random.RandomState(0).rand(20, 4, 4, 1).astype(np.float32)
  codes = fn(images)
  assert codes.dtype == np.float32 and codes.shape == (20, 3)
  np.testing.assert_allclose(codes, images.reshape(20, 16) @ w, rtol=1e-5)


def test_errors(tmp_path):
  _save(tmp_path / "m")
  with pytest.raises(representation.RepresentationError, match="not a SavedModel"):
    representation.saved_model_representation(str(tmp_path))
  with pytest.raises(representation.RepresentationError,
                     match=r"no signature 'x'; signatures: \['serving_default'\]"):
    representation.saved_model_representation(str(tmp_path / "m"), "x")
  with pytest.raises(representation.RepresentationError,
                     match=r"no output 'z'; output keys: \['latent_mean', 'other'\]"):
    representation.saved_model_representation(str(tmp_path / "m"),
                                              output_key="z")
  with pytest.raises(representation.RepresentationError,
                     match=r"\[None, 4, 4, 1\] does not match .* \[None, 64, 64, 1\]"):
    representation.saved_model_representation(str(tmp_path / "m"),
                                              observation_shape=(64, 64, 1))


def test_is_project_export(tmp_path):
  _save(tmp_path / "export" / "3")
  assert not representation.is_project_export(
      str(tmp_path / "export" / "3"), "images", "serving_default",
      "latent_mean")
  (tmp_path / "export" / "3" / "assets").mkdir(exist_ok=True)
  (tmp_path / "export" / "3" / "assets" /
   "tf_betavae_metadata.json").write_text("{}")
  assert representation.is_project_export(
      str(tmp_path / "export" / "3"), "images", "serving_default",
      "latent_mean")
  assert not representation.is_project_export(
      str(tmp_path / "export" / "3"), "x", "serving_default", "latent_mean")
  _save(tmp_path / "model")
  assert not representation.is_project_export(
      str(tmp_path / "model"), "images", "serving_default", "latent_mean")
