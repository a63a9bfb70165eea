"""tf_betavae: β-VAE (Higgins et al., ICLR 2017) in TensorFlow/Keras 3.

Public API:

* ``tf_betavae.models``: ConvEncoder, ConvDecoder, MlpEncoder, MlpDecoder,
  BetaVAE, build_model.
* ``tf_betavae.data``: training_dataset(name, ...), ground_truth(name), the
  procedural dSprites simulator.
* ``tf_betavae.training``: TrainConfig, train(config, model_dir, export_dir).
* ``tf_betavae.export``: export_model, read_metadata.

Importing the package has no side effects beyond importing TensorFlow.
"""

__version__ = "0.1.0"
