"""Calibration profiles: a J-per-CPU-second coefficient fitted against RAPL, as a JSON file.

``harmone energy calibrate`` writes one on a machine whose RAPL counters are readable
(:mod:`engines.energy_fit` does the fit); ``--energy-profile FILE`` lets the estimated meter of a
machine of the same kind use its coefficient instead of the CPU-family default. A profile says
which machine it was measured on (CPU model, cores), how (method, windows), how well the fit held
on windows it was not fitted on (fit error), when, and by which harmone version.

A profile is bad input until proven otherwise: any problem is one :class:`ProfileError` line
naming the file and what is wrong.

This module imports neither Textual nor ``harmone_tui`` (DESIGN.md §2).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engines.energy import EnergyError

__all__ = [
    "FORMAT",
    "EnergyProfile",
    "ProfileError",
    "check_writable",
    "load_profile",
    "machine",
    "save_profile",
]

FORMAT = "harmone-energy-profile/1"
REQUIRED = ("format", "machine", "method", "j_per_cpu_s", "fit", "date", "harmone_version")


class ProfileError(EnergyError):
    """A profile file cannot be used; the message names the file."""


@dataclass(frozen=True)
class EnergyProfile:
    """One calibration. ``per_model`` is filled when per-model coefficients measured better
    (``use_per_model``); ``j_per_cpu_s`` is always the pooled fit, the one a single-coefficient
    meter uses. ``fit`` holds the error figures (see :func:`engines.energy_fit.fit_windows`)."""

    cpu_model: str
    cores: int
    method: str
    j_per_cpu_s: float
    fit: dict[str, Any]
    date: str
    harmone_version: str
    idle_watts: float | None = None
    per_model: dict[str, float] = field(default_factory=dict)
    use_per_model: bool = False
    path: Path | None = None  # where it was read from (not stored)

    @property
    def origin(self) -> str:
        """Where the coefficient comes from, in words (doctor and the meter's detail)."""
        where = f"profile {self.path}" if self.path else "a calibration profile"
        error = self.fit.get("relative_error")
        err = f", fit error {error:.1%}" if isinstance(error, float) else ""
        per = (
            ", per model: " + ", ".join(f"{m} {v:g}" for m, v in self.per_model.items())
            if self.use_per_model
            else ""
        )
        return f"{where}: calibrated on {self.cpu_model} ({self.cores} cores) {self.date}{err}{per}"

    def coefficient_for(self, model: str) -> float:
        """J per CPU-second for ``model``'s inference: its own when per-model measured better."""
        if self.use_per_model and model in self.per_model:
            return self.per_model[model]
        return self.j_per_cpu_s

    def mismatch(self, here: dict[str, Any]) -> str | None:
        """Why this profile may not fit the machine ``here`` (:func:`machine`), or None."""
        if here["cpu_model"] != self.cpu_model:
            return f"calibrated on {self.cpu_model!r}, this machine has {here['cpu_model']!r}"
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        return {
            "format": FORMAT,
            "machine": {"cpu_model": data.pop("cpu_model"), "cores": data.pop("cores")},
            **data,
        }


def machine(cpuinfo_text: str | None = None) -> dict[str, Any]:
    """This machine as a profile records it: the CPU ``model name`` and the logical CPU count."""
    if cpuinfo_text is None:
        try:
            cpuinfo_text = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            cpuinfo_text = ""
    match = re.search(r"^model name\s*:\s*(.+?)\s*$", cpuinfo_text, re.MULTILINE)
    return {"cpu_model": match.group(1) if match else "unknown CPU", "cores": os.cpu_count() or 1}


def _coefficient(path: Path, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"{path}: {key} must be a number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ProfileError(f"{path}: {key} must be a finite number above 0, got {value!r}")
    return float(value)


def _parse(path: Path, data: Any) -> EnergyProfile:
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: not a calibration profile (expected a JSON object)")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise ProfileError(f"{path}: not a calibration profile: missing {', '.join(missing)}")
    if data["format"] != FORMAT:
        raise ProfileError(f"{path}: format {data['format']!r} is not {FORMAT!r}")
    box = data["machine"]
    if not isinstance(box, dict) or not {"cpu_model", "cores"} <= box.keys():
        raise ProfileError(f"{path}: machine must have cpu_model and cores")
    if not isinstance(box["cpu_model"], str) or not isinstance(box["cores"], int):
        raise ProfileError(f"{path}: machine.cpu_model must be text and machine.cores a number")
    per_model = data.get("per_model") or {}
    if not isinstance(per_model, dict):
        raise ProfileError(f"{path}: per_model must map model names to J per CPU-second")
    if not isinstance(data["fit"], dict):
        raise ProfileError(f"{path}: fit must be an object")
    idle = data.get("idle_watts")
    if idle is not None and not (isinstance(idle, int | float) and math.isfinite(idle)):
        raise ProfileError(f"{path}: idle_watts must be a number, got {idle!r}")
    use_per_model = bool(data.get("use_per_model", False))
    if use_per_model and not per_model:
        raise ProfileError(f"{path}: use_per_model is true but per_model is empty")
    return EnergyProfile(
        cpu_model=box["cpu_model"],
        cores=box["cores"],
        method=str(data["method"]),
        j_per_cpu_s=_coefficient(path, "j_per_cpu_s", data["j_per_cpu_s"]),
        fit=data["fit"],
        date=str(data["date"]),
        harmone_version=str(data["harmone_version"]),
        idle_watts=None if idle is None else float(idle),
        per_model={str(m): _coefficient(path, f"per_model.{m}", v) for m, v in per_model.items()},
        use_per_model=use_per_model,
        path=path,
    )


def load_profile(path: Path) -> EnergyProfile:
    """The profile in ``path``; ProfileError (one line naming the file) when it is unusable."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profile ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not a calibration profile (not UTF-8 text)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return _parse(Path(path), data)


def check_writable(path: Path) -> None:
    """ProfileError unless a profile could be written at ``path`` (its directory is created)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProfileError(f"{path}: cannot write the profile ({exc.strerror or exc})") from None
    if not os.access(path.parent, os.W_OK) or path.is_dir():
        raise ProfileError(f"{path}: cannot write the profile (not a writable file location)")


def save_profile(profile: EnergyProfile, path: Path) -> None:
    """Write ``profile`` to ``path`` atomically (a half-written profile would be refused later)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(profile.to_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ProfileError(f"{path}: cannot write the profile ({exc.strerror or exc})") from None
