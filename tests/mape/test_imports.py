"""mape stays free of the UI and of ML frameworks (DESIGN.md §2), even while a loop runs."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import subprocess_env

FORBIDDEN = ("textual", "tensorflow", "torch", "ultralytics", "sklearn")

CODE = """
import pkgutil, importlib, sys
import numpy as np
import mape
for m in pkgutil.iter_modules(mape.__path__):
    importlib.import_module(f"mape.{m.name}")
from mape.loop import MapeLoop
from mape.policy_file import resolve_policy
from tests.mape.helpers import RecordingEffector, r2_quality
for name in ("harmone", "switch+retrain"):
    p = resolve_policy(name)[0]
    for detector in ("kl", "adwin"):
        loop = MapeLoop(p.with_values(drift=p.drift.__class__(detector=detector)), r2_quality, RecordingEffector(), p.start_model, 1)
        x = np.arange(3000.0) % 97
        for s in range(0, 3000, 20):
            if s and s % 20 == 0:
                loop.cycle(s)
            loop.observe(s, p.start_model, x[s:s+20], x[s:s+20], x[s:s+20], np.ones(20))
bad = [m for m in {forbidden!r} if m in sys.modules]
print(bad)
sys.exit(1 if bad else 0)
"""


def test_mape_imports_no_ui_and_no_ml_framework() -> None:
    code = CODE.replace("{forbidden!r}", repr(FORBIDDEN))
    done = subprocess.run([sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
