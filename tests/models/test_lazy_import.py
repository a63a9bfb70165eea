"""tf_betavae.models resolves its public names on first use."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _python(code):
  done = subprocess.run(
      [sys.executable, "-c", code], capture_output=True, text=True,
      timeout=300, cwd=ROOT,
      env=dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3"))
  assert done.returncode == 0, done.stderr[-3000:]
  return done.stdout


def test_the_methods_load_without_tensorflow():
  _python("import sys\n"
          "import tf_betavae.models.methods\n"
          "from tf_betavae.models import latent_stats\n"
          "from tf_betavae.models import METHODS, METHOD_NAMES\n"
          "assert METHODS and METHOD_NAMES\n"
          "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n")


def test_one_name_registers_every_keras_class_as_the_eager_package_did():
  # BetaVAE.from_config rebuilds its encoder and decoder by their
  # registered names: they must be registered though only BetaVAE was
  # named.
  out = _python(
      "import keras\n"
      "from tf_betavae.models import BetaVAE\n"
      "names = ['ConvEncoder', 'MlpEncoder', 'ConvDecoder', 'MlpDecoder',\n"
      "         'SpatialBroadcastDecoder', 'BetaVAE', 'FactorVAE', 'DIPVAE',\n"
      "         'BetaTCVAE', 'Discriminator', 'FusedAdam']\n"
      "missing = [n for n in names\n"
      "           if keras.saving.get_registered_object('tf_betavae>' + n)\n"
      "           is None]\n"
      "assert not missing, missing\n"
      "import tf_betavae.models as models\n"
      "assert set(models.__all__) <= set(dir(models))\n"
      "for name in models.__all__:\n"
      "  getattr(models, name)\n"
      "print(models.beta_vae.VectorMean.__name__)\n"
      "try:\n"
      "  models.no_such_name\n"
      "except AttributeError as e:\n"
      "  print(e)\n")
  assert out.splitlines() == [
      "VectorMean", "module 'tf_betavae.models' has no attribute "
      "'no_such_name'"]
