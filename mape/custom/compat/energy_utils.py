"""Harmonica's ``energy_utils`` for MAPE files that import it (``import energy_utils as pyRAPL``,
the newer Harmonica's way past a missing RAPL), when the user's directory has none of its own.

It is last on the user code's ``sys.path`` and offers pyRAPL's API over whichever pyRAPL harmone
chose for the process (:func:`mape.custom.child.choose_pyrapl`): the real one, or harmone's
stand-in, whose energy is the process's CPU time x joules per CPU-second.
"""

from __future__ import annotations

import pyRAPL  # type: ignore[import-not-found]

RAPL_AVAILABLE = not getattr(pyRAPL, "STANDIN", False)
Measurement = pyRAPL.Measurement
EnergyMeter = pyRAPL.Measurement


def setup() -> None:
    pyRAPL.setup()
