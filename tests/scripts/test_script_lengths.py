"""Every program in scripts/ stays a thin shell: flags, then one call."""

import glob
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# A program longer than this holds logic that belongs in the library (a
# command module beside the code it calls, like training/command.py).
MAX_LINES = 120


def test_every_script_is_at_most_120_lines():
  scripts = sorted(glob.glob(os.path.join(ROOT, "scripts", "*.py")))
  assert scripts
  too_long = {}
  for path in scripts:
    with open(path, encoding="utf-8") as f:
      num_lines = len(f.read().splitlines())
    if num_lines > MAX_LINES:
      too_long[os.path.basename(path)] = num_lines
  assert not too_long, (f"scripts over {MAX_LINES} lines (move the logic "
                        f"into the library): {too_long}")
