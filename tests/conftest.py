"""Makes tests/helpers.py importable as `helpers` under pytest's importlib mode, which
keeps the repository root off sys.path so the installed package is the one tested."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
