"""tf_betavae.training.gpu_check_command: scripts/gpu_check.py's checks and
lines."""

from absl import flags
import pytest
import tensorflow as tf

from tf_betavae import cli
from tf_betavae.training import gpu_check_command
from tf_betavae.training import step_timing


@pytest.mark.parametrize("changes, message", [
    ({"steps": 0}, "--steps must be >= 1, got 0"),
    ({"warmup_steps": -1}, "--warmup_steps must be >= 0, got -1"),
    ({"batch_size": 0}, "batch_size"),
    ({"variants": ["plain", "fp8"]}, "--variants takes a comma list of "
     "plain, mixed, xla, mixed_xla; got 'plain,fp8'"),
    ({"variants": []}, "--variants takes a comma list of"),
])
def test_bad_values_are_usage_errors(changes, message):
  with pytest.raises(cli.UsageError) as raised:
    gpu_check_command.check(gpu_check_command.GpuCheckFlags(**changes))
  assert message in str(raised.value)


def test_output_must_be_a_writable_file(tmp_path):
  with pytest.raises(cli.UsageError, match="is a directory"):
    gpu_check_command.check(gpu_check_command.GpuCheckFlags(
        output=str(tmp_path)))


def test_the_default_variants_are_all_four_in_order():
  assert gpu_check_command.GpuCheckFlags().variants == list(
      step_timing.VARIANTS)


def test_variant_line():
  line = gpu_check_command.variant_line({
      "mixed_precision": "mixed_bfloat16", "jit_compile": True,
      "images_per_second": 1234.4, "images_per_second_no_input": 2000.6,
      "input_wait_share": 0.383})
  assert line == ("mixed_precision=mixed_bfloat16 jit_compile=True   "
                  "     1234 images/s  (no input:      2001)  input wait "
                  " 38.3%")


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")),
                    reason="skips only without a GPU")
def test_without_a_gpu_it_says_so_and_times_nothing(monkeypatch):
  def fail(*args):
    raise AssertionError(f"timed {args} without a GPU or --allow_cpu")

  monkeypatch.setattr(step_timing, "time_variant", fail)
  values = flags.FlagValues()
  cli.define_config_flags(gpu_check_command.GpuCheckFlags,
                          flag_values=values, module_name="gpu_check_test")
  values(["gpu_check.py"])
  lines = list(gpu_check_command.run(["gpu_check.py"], values))
  assert len(lines) == 1 and "no GPU visible to TensorFlow" in lines[0]
