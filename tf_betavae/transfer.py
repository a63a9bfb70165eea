"""Transfer: an exported encoder as a frozen feature extractor in Keras.

``build_probe`` wraps any SavedModel signature that maps images to a feature
vector (``keras.layers.TFSMLayer``, frozen) and puts a small trainable head
on it; ``train_probe`` fits that head to predict one ground-truth factor of
a simulator and reports accuracies.
"""

import keras
import numpy as np
import tensorflow as tf


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
                output_key="latent_mean", hidden_units=0):
  """A Keras model: frozen exported encoder -> small softmax head.

  Args:
    saved_model_path: str, a SavedModel version directory.
    num_classes: int, classes of the head.
    signature: str, the signature returning features.
    output_key: str, the feature output of that signature.
    hidden_units: int, 0 for a linear head, else one ReLU layer this wide.

  Returns:
    keras.Model: images float32 [batch, H, W, C] -> probabilities
    [batch, num_classes].  Only the head's weights are trainable.
  """
  image_shape = signature_image_shape(saved_model_path, signature)
  features = keras.layers.TFSMLayer(saved_model_path, call_endpoint=signature,
                                    name="frozen_encoder")
  features.trainable = False
  inputs = keras.Input(image_shape, name="images")
  outputs = features(inputs)
  if isinstance(outputs, dict):
    if output_key not in outputs:
      raise KeyError(f"signature {signature!r} has no output {output_key!r}; "
                     f"outputs: {sorted(outputs)}")
    outputs = outputs[output_key]
  x = outputs
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
                hidden_units=0, seed=0):
  """Fits a head on a frozen exported encoder to predict one factor.

  Args:
    saved_model_path: str, a SavedModel version directory whose
      serving_default signature maps images to latent_mean.
    ground_truth: a ground-truth dataset (tf_betavae.data.ground_truth).
    factor_name: str, the factor to predict (one of its factor_names).
    num_train, num_test: int, examples drawn for training and testing.
    epochs, batch_size, learning_rate: the head's Adam training.
    hidden_units: int, 0 for a linear head, else one ReLU layer this wide.
    seed: int, seeds the examples and the head's initialisation.

  Returns:
    dict: train_accuracy, test_accuracy, chance (1 / num_classes),
    num_classes, factor, and the settings.
  """
  keras.utils.set_random_seed(seed)
  random_state = np.random.RandomState(seed)
  train_images, train_labels, num_classes = factor_examples(
      ground_truth, factor_name, num_train, random_state)
  test_images, test_labels, _ = factor_examples(ground_truth, factor_name,
                                                num_test, random_state)
  model = build_probe(saved_model_path, num_classes,
                      hidden_units=hidden_units)
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
          "hidden_units": hidden_units, "seed": seed}
