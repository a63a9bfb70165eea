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


def _save_with_encode(path, log_variance=-2.0, with_log_variance=True):
  """A SavedModel whose ``encode`` gives mean = the first 3 pixels and a
  constant log variance."""
  module = tf.Module()
  spec = tf.TensorSpec([None, 4, 4, 1], tf.float32, name="images")

  @tf.function(input_signature=[spec])
  def encode(images):
    mean = tf.reshape(images, [-1, 16])[:, :3]
    outputs = {"mean": mean}
    if with_log_variance:
      outputs["log_variance"] = tf.fill(tf.shape(mean), log_variance)
    return outputs

  @tf.function(input_signature=[spec])
  def serve(images):
    return {"latent_mean": tf.reshape(images, [-1, 16])[:, :3]}

  tf.saved_model.save(module, str(path), signatures={
      "serving_default": serve, "encode": encode})


def test_sampled_codes_are_draws_from_the_posterior(tmp_path):
  _save_with_encode(tmp_path / "m", log_variance=np.log(0.25))
  posterior = representation.saved_model_posterior(
      str(tmp_path / "m"), observation_shape=(4, 4, 1))
  images = np.repeat(
      np.random.RandomState(1).rand(1, 4, 4, 1).astype(np.float32), 20000,
      axis=0)
  stats = posterior(images)
  assert stats.shape == (20000, 6)
  np.testing.assert_allclose(stats[:, 3:], np.log(0.25), rtol=1e-6)
  codes = representation.sampled(posterior, np.random.RandomState(3))(images)
  # One image drawn 20,000 times: its posterior's mean and std (0.5).
  mean = images[0].reshape(16)[:3].astype(np.float64)
  np.testing.assert_allclose(codes.mean(axis=0), mean, atol=0.02)
  np.testing.assert_allclose(codes.std(axis=0), 0.5, atol=0.01)
  # The same noise stream gives the same codes; another stream others.
  again = representation.sampled(posterior, np.random.RandomState(3))(images)
  np.testing.assert_array_equal(codes, again)
  other = representation.sampled(posterior, np.random.RandomState(4))(images)
  assert not np.array_equal(codes, other)


def test_sampling_streams_differ_per_metric_and_seed():
  draw = lambda seed, metric: representation.sampling_random_state(
      seed, metric).standard_normal(4)
  np.testing.assert_array_equal(draw(0, "mig"), draw(0, "mig"))
  assert not np.array_equal(draw(0, "mig"), draw(0, "dci"))
  assert not np.array_equal(draw(0, "mig"), draw(1, "mig"))


def test_sampled_needs_an_encode_signature_with_a_log_variance(tmp_path):
  _save(tmp_path / "plain")
  with pytest.raises(representation.RepresentationError,
                     match="the sampled representation needs an 'encode' "
                           "signature"):
    representation.saved_model_posterior(str(tmp_path / "plain"))
  _save_with_encode(tmp_path / "mean_only", with_log_variance=False)
  with pytest.raises(representation.RepresentationError,
                     match="has no output 'log_variance'"):
    representation.saved_model_posterior(str(tmp_path / "mean_only"))
