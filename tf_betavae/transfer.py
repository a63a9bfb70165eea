"""Transfer: an exported encoder as a feature extractor in Keras.

``build_probe`` puts a small trainable head on an export's latent means;
``train_probe`` fits it to predict one ground-truth factor of a simulator
and reports accuracies.  Frozen (the default), the encoder is any SavedModel
signature mapping images to a feature vector, loaded as
``keras.layers.TFSMLayer(..., trainable=False)``.

Fine-tuned, it is ``encoder_layer(path, trainable=True)``: the package's own
Keras encoder, rebuilt from the export's metadata and given the export's
variable values.  A TFSMLayer cannot be fine-tuned: its weights keep the
names tf.saved_model.load gives a SavedModel's variables,
``encoder/conv_0/kernel:0`` (with the ``:0`` output index), and Keras 3's
optimizers name each slot after its variable, so Adam fails to build with
"'encoder_conv_0_kernel:0_momentum' is not a valid scope name" (seen with
TensorFlow 2.21.0 and Keras 3.15.1, on this package's exports and on Keras'
own ``model.export``; plain SGD, which has no slots, runs).  No upstream
report of that exact failure was found;
https://github.com/keras-team/keras/issues/19335 reports the same mechanism
(slot names built from a variable name Keras rejects, there a '/').  The
rebuilt layer also saves and reloads as ``.keras`` without the export.
"""

from absl import logging
import keras
from keras import ops
import numpy as np
import tensorflow as tf

from tf_betavae import export
from tf_betavae.models import factory

# How close encoder_layer's latent means must come to the export's
# serving_default signature on random images (float32, same ops).
_MATCH_ATOL = 1e-5
_MATCH_IMAGES = 8


@keras.saving.register_keras_serializable(package="tf_betavae")
class ExportedEncoder(keras.layers.Layer):
  """An export's encoder as a Keras layer: images -> latent means.

  Holds the package's encoder of ``arch`` (tf_betavae.models.encoders) as a
  sublayer named "encoder", so its weights carry valid names (any Keras
  optimizer builds slots for them) and a model holding it saves and loads
  as ``.keras`` (its config is the architecture, not a path; importing
  tf_betavae.transfer registers the class for keras.models.load_model).
  Built by encoder_layer, which fills in an export's weights.

  Call: images float32 [batch, H, W, C] -> latent_mean float32
  [batch, latent_dim].  Like the export's serving_default signature, it
  clips pixels to [0, 1] first (no gradient reaches pixels outside).
  """

  def __init__(self, arch, latent_dim, image_shape, **kwargs):
    super().__init__(**kwargs)
    self.arch = str(arch)
    self.latent_dim = int(latent_dim)
    self.image_shape = tuple(int(d) for d in image_shape)
    # float32 whatever the global policy: the export computes in float32.
    self.encoder = factory.build_encoder(self.arch, self.latent_dim,
                                         dtype="float32")

  def build(self, input_shape):
    if tuple(input_shape[1:]) != self.image_shape:
      raise ValueError(f"this encoder takes images of shape "
                       f"{self.image_shape}, got input shape {input_shape}")
    self.encoder.build(input_shape)
    # The encoder's variables are created trainable whatever this layer's
    # flag, and a model holding this layer trains every variable flagged
    # trainable: hand the flag on.  (`self.trainable = self.trainable`
    # would not: Keras skips assigning an attribute its current value.)
    self.encoder.trainable = self.trainable
    for weight in self.encoder.weights:
      weight.trainable = self.trainable

  def call(self, images):
    mean, _ = self.encoder(ops.clip(images, 0.0, 1.0))
    return mean

  def compute_output_shape(self, input_shape):
    return (input_shape[0], self.latent_dim)

  def get_config(self):
    config = super().get_config()
    config.update(arch=self.arch, latent_dim=self.latent_dim,
                  image_shape=list(self.image_shape))
    return config


def _export_variables(loaded, saved_model_path):
  """{name without ':0': tf.Variable} of a tf_betavae export's variables."""
  variables = getattr(loaded, "model_variables", None)
  if variables is None:
    raise ValueError(f"{saved_model_path} holds no model_variables: it was "
                     "not written by tf_betavae.export; re-export the run "
                     "with scripts/export.py")
  # tf.saved_model.load names each variable as a graph tensor,
  # "encoder/conv_0/kernel:0".
  return {v.name.rsplit(":", 1)[0]: v for v in variables}


def _copy_weights(layer, exported, saved_model_path):
  """Assigns each of layer's encoder weights its exported value.

  Raises:
    ValueError: naming the weights the export lacks or holds in another
      shape.
  """
  missing, wrong_shape = [], []
  pairs = []
  for weight in layer.encoder.weights:
    # Exported names are "encoder/<sublayer>/<weight>", the Keras path the
    # encoder had in the trained model; here it sits under `layer`.
    name = "/".join(["encoder"] + weight.path.split("/")[-2:])
    if name not in exported:
      missing.append(name)
    elif tuple(exported[name].shape) != tuple(weight.shape):
      wrong_shape.append(f"{name} {tuple(exported[name].shape)} (expected "
                         f"{tuple(weight.shape)})")
    else:
      pairs.append((weight, exported[name]))
  if missing or wrong_shape:
    found = sorted(n for n in exported if n.startswith("encoder/"))
    raise ValueError(
        f"the variables of {saved_model_path} do not match a {layer.arch!r} "
        f"encoder with {layer.latent_dim} latents: missing {missing}, wrong "
        f"shape {wrong_shape}; the export has {found}.  Check the export's "
        "assets/tf_betavae_metadata.json (arch, latent_dim).")
  for weight, variable in pairs:
    weight.assign(variable.numpy())


def _check_outputs(layer, loaded, saved_model_path, seed=0):
  """Raises ValueError unless layer reproduces serving_default's means."""
  images = np.random.RandomState(seed).uniform(
      size=(_MATCH_IMAGES,) + layer.image_shape).astype(np.float32)
  expected = loaded.signatures["serving_default"](
      images=tf.constant(images))["latent_mean"].numpy()
  actual = ops.convert_to_numpy(layer(images))
  error = float(np.max(np.abs(actual - expected)))
  if not error <= _MATCH_ATOL:
    raise ValueError(
        f"the {layer.arch!r} encoder rebuilt from {saved_model_path} gives "
        f"latent means up to {error:.3g} away from the export's "
        f"serving_default signature (tolerance {_MATCH_ATOL}); its graph "
        "is not this package's encoder of that architecture")
  logging.info("encoder of %s matches serving_default (max |diff| %.2g)",
               saved_model_path, error)


def encoder_layer(saved_model_path, trainable=False, name="exported_encoder"):
  """A Keras layer computing an export's latent means, with its weights.

  Rebuilds the package's encoder from the export's metadata (arch,
  latent_dim, image_shape), copies the SavedModel's variable values into it
  by name, and checks that it gives the export's serving_default latent
  means on random images (to 1e-5).  Needs only the export directory.

  Args:
    saved_model_path: str, a tf_betavae export version directory.
    trainable: bool; True to fine-tune the encoder under any Keras
      optimizer, False to keep its weights fixed.
    name: str, the layer's name.

  Returns:
    ExportedEncoder, built: images float32 [batch, H, W, C] in [0, 1] ->
    latent_mean float32 [batch, latent_dim].

  Raises:
    FileNotFoundError: not a SavedModel, or not a tf_betavae export.
    ValueError: the export's variables or outputs do not match the encoder
      its metadata names (the message says which variables).
  """
  metadata = export.read_metadata(saved_model_path)
  missing = [key for key in ("latent_dim", "image_shape")
             if key not in metadata]
  if missing:
    raise ValueError(f"{saved_model_path}'s metadata lacks {missing}; "
                     "re-export the run with scripts/export.py")
  loaded = tf.saved_model.load(saved_model_path)
  exported = _export_variables(loaded, saved_model_path)
  # export_model records "arch" only when given training metadata; the
  # encoder's layer names tell the two encoders apart.
  arch = metadata.get("arch") or (
      "mlp" if "encoder/hidden_0/kernel" in exported else "conv")
  layer = ExportedEncoder(arch, metadata["latent_dim"],
                          metadata["image_shape"], trainable=trainable,
                          name=name)
  layer.build((None,) + layer.image_shape)
  _copy_weights(layer, exported, saved_model_path)
  _check_outputs(layer, loaded, saved_model_path)
  return layer


def signature_image_shape(saved_model_path, signature="serving_default",
                          input_name="images"):
  """(H, W, C) of a SavedModel signature's image input.

  Raises:
    KeyError: no such signature or input.
  """
  loaded = tf.saved_model.load(saved_model_path)
  if signature not in loaded.signatures:
    raise KeyError(f"{saved_model_path} has no signature {signature!r}; it "
                   f"has {sorted(loaded.signatures)}")
  specs = loaded.signatures[signature].structured_input_signature[1]
  if input_name not in specs:
    raise KeyError(f"signature {signature!r} has no input {input_name!r}; "
                   f"inputs: {sorted(specs)}")
  return tuple(specs[input_name].shape[1:])


def build_probe(saved_model_path, num_classes, signature="serving_default",
                output_key="latent_mean", hidden_units=0, fine_tune=False):
  """A Keras model: exported encoder -> small softmax head.

  Args:
    saved_model_path: str, a SavedModel version directory.
    num_classes: int, classes of the head.
    signature: str, the signature returning features (frozen only).
    output_key: str, the feature output of that signature (frozen only).
    hidden_units: int, 0 for a linear head, else one ReLU layer this wide.
    fine_tune: bool; False (the default) keeps the encoder fixed and takes
      any SavedModel signature (keras.layers.TFSMLayer); True trains the
      encoder too, which needs a tf_betavae export (encoder_layer) and its
      latent means (serving_default, latent_mean).

  Returns:
    keras.Model: images float32 [batch, H, W, C] -> probabilities
    [batch, num_classes].  Frozen, only the head's weights are trainable.

  Raises:
    KeyError: no such signature or output.
    ValueError: fine_tune with another signature or output than the latent
      means, or an export encoder_layer refuses.
  """
  if fine_tune:
    if (signature, output_key) != ("serving_default", "latent_mean"):
      raise ValueError(
          f"fine_tune trains the encoder of the latent means (signature "
          f"'serving_default', output 'latent_mean'), not {signature!r}/"
          f"{output_key!r}; fine-tune without them or freeze the encoder")
    features = encoder_layer(saved_model_path, trainable=True,
                             name="fine_tuned_encoder")
    inputs = keras.Input(features.image_shape, name="images")
    x = features(inputs)
  else:
    image_shape = signature_image_shape(saved_model_path, signature)
    features = keras.layers.TFSMLayer(saved_model_path,
                                      call_endpoint=signature,
                                      trainable=False, name="frozen_encoder")
    inputs = keras.Input(image_shape, name="images")
    x = features(inputs)
    if isinstance(x, dict):
      if output_key not in x:
        raise KeyError(f"signature {signature!r} has no output "
                       f"{output_key!r}; outputs: {sorted(x)}")
      x = x[output_key]
  if hidden_units:
    x = keras.layers.Dense(hidden_units, activation="relu", name="hidden")(x)
  probabilities = keras.layers.Dense(num_classes, activation="softmax",
                                     name="head")(x)
  return keras.Model(inputs, probabilities, name="transfer_probe")


def factor_examples(ground_truth, factor_name, num, random_state):
  """Images and the class index of one factor.

  Returns:
    (float32 images [num, H, W, C], int64 labels [num], num_classes).
  """
  if factor_name not in ground_truth.factor_names:
    raise KeyError(f"unknown factor {factor_name!r}; factors: "
                   f"{', '.join(ground_truth.factor_names)}")
  index = list(ground_truth.factor_names).index(factor_name)
  factors = ground_truth.sample_factors(num, random_state)
  images = ground_truth.sample_observations_from_factors(factors,
                                                         random_state)
  return images, factors[:, index], ground_truth.factors_num_values[index]


def train_probe(saved_model_path, ground_truth, factor_name, num_train=5000,
                num_test=2000, epochs=20, batch_size=256, learning_rate=1e-2,
                hidden_units=0, seed=0, fine_tune=False):
  """Fits a head on an exported encoder to predict one factor.

  Args:
    saved_model_path: str, a SavedModel version directory whose
      serving_default signature maps images to latent_mean.
    ground_truth: a ground-truth dataset (tf_betavae.data.ground_truth).
    factor_name: str, the factor to predict (one of its factor_names).
    num_train, num_test: int, examples drawn for training and testing.
    epochs, batch_size, learning_rate: the Adam training (of the head, and
      with fine_tune of the encoder too).
    hidden_units: int, 0 for a linear head, else one ReLU layer this wide.
    seed: int, seeds the examples and the head's initialisation.
    fine_tune: bool; False (the default) keeps the encoder fixed, True
      trains it with the head (a tf_betavae export; see build_probe).

  Returns:
    dict: train_accuracy, test_accuracy, chance (1 / num_classes),
    num_classes, factor, fine_tune, and the settings.
  """
  keras.utils.set_random_seed(seed)
  random_state = np.random.RandomState(seed)
  train_images, train_labels, num_classes = factor_examples(
      ground_truth, factor_name, num_train, random_state)
  test_images, test_labels, _ = factor_examples(ground_truth, factor_name,
                                                num_test, random_state)
  model = build_probe(saved_model_path, num_classes,
                      hidden_units=hidden_units, fine_tune=fine_tune)
  model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])
  model.fit(train_images, train_labels, batch_size=batch_size, epochs=epochs,
            verbose=0, shuffle=True)
  _, train_accuracy = model.evaluate(train_images, train_labels,
                                     batch_size=1024, verbose=0)
  _, test_accuracy = model.evaluate(test_images, test_labels,
                                    batch_size=1024, verbose=0)
  return {"factor": factor_name, "num_classes": int(num_classes),
          "chance": 1.0 / num_classes,
          "train_accuracy": float(train_accuracy),
          "test_accuracy": float(test_accuracy), "num_train": num_train,
          "num_test": num_test, "epochs": epochs,
          "hidden_units": hidden_units, "seed": seed,
          "fine_tune": bool(fine_tune), "batch_size": batch_size,
          "learning_rate": learning_rate}
