"""Settings of one run (from the command line, the TUI's start form or a test)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engines.energy_profile import EnergyProfile
    from harmone_tui.carbon import CarbonFactors


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
    # No policy was named for a plug-in engine: the default policy is fitted to the engine's
    # name and models once it is built (harmone_tui.fitted_policy).
    fit_policy: bool = False
    mode: str = "headless"  # the front end: tui | headless | compare (run_context.MODES)
    carbon: CarbonFactors | None = None  # None: harmone_tui.carbon.resolve() at start
    # The energy ledger counts the process's CPU time from its start (a headless run's own
    # process) rather than from the run's start-up (a TUI, compare or test process).
    ledger_from_process_start: bool = False
    metrics_port: int | None = None  # Prometheus endpoint (harmone_tui/metrics.py); 0: any port
    metrics_host: str = "127.0.0.1"

    def engine_options(self) -> dict[str, Any]:
        """What ``engines.registry.create_engine`` is given besides the engine's name and dirs."""
        return {
            "data": self.data,
            "column": self.column,
            "train": self.train,
            "train_column": self.train_column,
            "gaps": self.gaps,
        }

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
            "mode": self.mode,
            "carbon": self.carbon.to_dict() if self.carbon else None,
            "energy_profile": str(self.calibration_profile.path)
            if self.calibration_profile
            else None,
        }
