"""TrainConfig: bad settings are refused with one-line reasons."""

import pytest

from tf_betavae import training


def _config(**overrides):
  values = dict(steps=20, log_every=10, checkpoint_every=10, seed=1,
                learning_rate=1e-3)
  values.update(overrides)
  return training.TrainConfig(**values)


@pytest.mark.parametrize("overrides, message", [
    ({"beta": -1.0}, "--beta must be >= 0"),
    ({"beta": float("nan")}, "--beta must be a finite number"),
    ({"learning_rate": 0.0}, "--learning_rate must be > 0"),
    ({"latent_dim": 0}, "--latent_dim must be a positive integer"),
    ({"batch_size": -2}, "--batch_size must be a positive integer"),
    ({"steps": 0}, "--steps must be a positive integer"),
    ({"dataset": "mnist"}, "unknown --dataset 'mnist'"),
    ({"arch": "resnet"}, "unknown --arch"),
    ({"objective": "C"}, "unknown --objective"),
    ({"likelihood": "poisson"}, "unknown --likelihood"),
    ({"lr_warmup_steps": -1}, "--lr_warmup_steps must be an integer >= 0"),
    ({"lr_decay": "step"}, "unknown --lr_decay 'step'"),
    ({"lr_decay": "cosine", "lr_warmup_steps": 20},
     r"--lr_decay=cosine needs --lr_warmup_steps \(20\) < --steps \(20\)"),
    ({"beta_warmup_steps": -5}, "--beta_warmup_steps must be an integer >= 0"),
    ({"beta_hold_steps": 1.5}, "--beta_hold_steps must be an integer >= 0"),
    ({"beta_warmup_steps": 20},
     r"--beta_hold_steps \+ --beta_warmup_steps \(20\) must be < --steps "
     r"\(20\)"),
    ({"beta_hold_steps": 12, "beta_warmup_steps": 8},
     r"--beta_hold_steps \+ --beta_warmup_steps \(20\) must be < --steps"),
    ({"beta_warmup_steps": 10, "method": "factor_vae"},
     "--method=factor_vae has none"),
    ({"beta_hold_steps": 10, "objective": "B"},
     "--method=annealed_vae has none"),
])
def test_bad_settings_are_refused(overrides, message):
  with pytest.raises(training.ConfigError, match=message):
    _config(**overrides).validate()


def test_bad_image_summary_interval_is_refused():
  with pytest.raises(training.ConfigError, match="--image_summary_every"):
    _config(image_summary_every=-1).validate()
