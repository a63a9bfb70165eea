"""Dataset tests: data_test_utils.py beside this file is imported by name.

pytest runs in importlib mode, which does not put test folders on sys.path.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
