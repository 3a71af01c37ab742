"""Settings of one run (from the command line, the TUI's start form or a test)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engines.energy_profile import EnergyProfile


@dataclass
class RunSettings:
    """Where the data comes from, how fast to go, and where knowledge lives."""

    data_dir: Path
    engine: str = "regression"
    data: Path | None = None
    column: str = "flow"
    train: Path | None = None
    train_column: str = "flow"
    steps: int | None = None
    speed: float | None = None
    j_per_cpu_s: float | None = None
    calibration_profile: EnergyProfile | None = None  # --energy-profile, see energy_source
    batch_rows: int = 500
    gaps: str = "hold"  # empty cells in a CSV stream: hold | skip | refuse (see --gaps)

    def describe(self) -> dict[str, Any]:
        """The settings as JSON-ready data, stored with the run."""
        return {
            "engine": self.engine,
            "data": str(self.data) if self.data else None,
            "column": self.column,
            "train": str(self.train) if self.train else None,
            "gaps": self.gaps,
            "steps": self.steps,
            "speed": self.speed,
            "j_per_cpu_s": self.j_per_cpu_s,
            "energy_profile": str(self.calibration_profile.path)
            if self.calibration_profile
            else None,
        }
