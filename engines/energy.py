"""Energy meters: how many joules the managed system spent, and where that figure comes from.

Two backends (DESIGN.md §6), chosen by :func:`create_meter`:

- ``rapl``: the package-level RAPL counters read straight from the powercap files
  (``/sys/class/powercap/intel-rapl:N/energy_uj``; AMD CPUs use the same ``intel-rapl`` naming).
  pyRAPL reads exactly these files, so trying it first would add an import and nothing else;
  the direct read is the only RAPL path. Counters wrap around and may glitch, so deltas are
  accumulated and every implausible step is dropped rather than reported.
- ``estimated``: CPU time times an active-power coefficient (J per CPU-second). It is the
  fallback on VMs and containers, where powercap is absent or root-only. ``read()`` counts the
  whole process; the runtime's hot path instead charges each predict the *calling thread's* CPU
  time times the same coefficient (``engines.base.Engine.cpu_clock``), so the UI's and the store
  writer's threads are not charged to the model.

``read()`` sits on the hot path around every model call, so the estimated backend costs one
``time.process_time_ns()`` and a multiply. Idle power is measured once (RAPL only) and exposed as
``idle_watts`` so the runtime can report it apart: per-inference figures are raw deltas of
``read()`` and never have idle power subtracted or added.

This module imports neither Textual nor ``harmone_tui`` (DESIGN.md §2).
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from pathlib import Path
from typing import Protocol

from harmone_common.errors import HarmoneError

__all__ = [
    "DEFAULT_J_PER_CPU_S",
    "ENV_COEFFICIENT",
    "CoefficientSource",
    "EnergyError",
    "EnergyMeter",
    "EstimatedMeter",
    "RaplMeter",
    "carbon_g",
    "cpu_family_coefficient",
    "create_meter",
    "describe_backend",
    "resolve_coefficient",
]

POWERCAP_ROOT = Path("/sys/class/powercap")
ENV_COEFFICIENT = "HARMONE_J_PER_CPU_S"
EPYC_GENOA_J_PER_CPU_S = 1.54
DEFAULT_J_PER_CPU_S = 2.76  # unknown CPU: a deliberately conservative active-power figure
_PACKAGE_DIR = re.compile(r"intel-rapl:\d+")


class EnergyError(HarmoneError):
    """A backend cannot be used; the message says why (shown by ``harmone doctor``)."""


class EnergyMeter(Protocol):
    """What the runtime asks of a meter. ``source`` travels with every figure shown or exported."""

    source: str
    detail: str
    idle_watts: float | None
    j_per_cpu_s: float

    def read(self) -> float:
        """Cumulative joules since the meter was created; never decreases."""
        ...

    def joules_for_cpu_seconds(self, cpu_s: float) -> float:
        """Joules for ``cpu_s`` CPU-seconds spent in another process (a retrain worker)."""
        ...


def carbon_g(joules: float, grid_g_per_kwh: float = 475.0, pue: float = 1.0) -> float:
    """Grams of CO2e for ``joules``: J / 3.6e6 (kWh) x grid intensity x PUE.

    Examples
    --------
    >>> carbon_g(3.6e6)
    475.0
    >>> round(carbon_g(360.0, grid_g_per_kwh=100.0, pue=1.5), 6)
    0.015
    """
    return joules / 3.6e6 * grid_g_per_kwh * pue


def cpu_family_coefficient(cpuinfo_text: str | None = None) -> tuple[float, str]:
    """Default J per CPU-second for this CPU family, from the ``model name`` in /proc/cpuinfo.

    Only AMD EPYC Genoa-class parts (9004 series such as 9654 or AWS 9R14, and the bare
    "AMD EPYC" cloud VMs report) have a measured figure; anything else, older EPYCs included,
    gets the conservative unknown-CPU default.

    Examples
    --------
    >>> cpu_family_coefficient("model name\\t: AMD EPYC\\n")
    (1.54, 'AMD EPYC')
    >>> cpu_family_coefficient("model name\\t: AMD EPYC 9654 96-Core Processor\\n")
    (1.54, 'AMD EPYC 9654 (Genoa-class)')
    >>> cpu_family_coefficient("model name : Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz")
    (2.76, 'unknown CPU: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz')
    >>> cpu_family_coefficient("")
    (2.76, 'unknown CPU')
    """
    if cpuinfo_text is None:
        try:
            cpuinfo_text = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            cpuinfo_text = ""
    match = re.search(r"^model name\s*:\s*(.+?)\s*$", cpuinfo_text, re.MULTILINE)
    name = match.group(1) if match else ""
    epyc = re.match(r"AMD EPYC\b\s*(\S*)", name)
    if epyc:
        token = epyc.group(1)
        if not token:
            return EPYC_GENOA_J_PER_CPU_S, "AMD EPYC"
        if re.fullmatch(r"9[0-9A-Z]\d{2}\w*", token):
            return EPYC_GENOA_J_PER_CPU_S, f"AMD EPYC {token} (Genoa-class)"
    return DEFAULT_J_PER_CPU_S, f"unknown CPU: {name}" if name else "unknown CPU"


class CoefficientSource(Protocol):
    """A calibration profile as the meter sees it (``engines.energy_profile.EnergyProfile``)."""

    j_per_cpu_s: float

    @property
    def origin(self) -> str: ...


def resolve_coefficient(
    j_per_cpu_s: float | None = None,
    cpuinfo_text: str | None = None,
    profile: CoefficientSource | None = None,
) -> tuple[float, str]:
    """The coefficient and where it came from: explicit argument > calibration ``profile`` >
    $HARMONE_J_PER_CPU_S > family.

    A malformed environment value is ignored (and said so) rather than crashing a run.
    """
    if j_per_cpu_s is not None:
        _check_coefficient(j_per_cpu_s)
        return float(j_per_cpu_s), "set explicitly"
    if profile is not None:
        _check_coefficient(profile.j_per_cpu_s)
        return float(profile.j_per_cpu_s), f"from {profile.origin}"
    note = ""
    raw = os.environ.get(ENV_COEFFICIENT)
    if raw is not None and raw.strip():
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if math.isfinite(value) and value > 0:
            return value, f"from ${ENV_COEFFICIENT}"
        note = f"; ${ENV_COEFFICIENT}={raw!r} ignored (not a finite number above 0)"
    value, family = cpu_family_coefficient(cpuinfo_text)
    return value, family + note


def _check_coefficient(j_per_cpu_s: float) -> None:
    """Refuse a coefficient that is not a finite number above 0 (inf made every figure inf)."""
    if not (math.isfinite(j_per_cpu_s) and j_per_cpu_s > 0):
        raise EnergyError(f"J per CPU-second must be a finite number above 0, got {j_per_cpu_s!r}")


class EstimatedMeter:
    """Process CPU time x coefficient. Counts every thread of this process, none of its children."""

    source = "estimated"

    def __init__(self, j_per_cpu_s: float, family: str, reason: str = "") -> None:
        _check_coefficient(j_per_cpu_s)
        self.j_per_cpu_s = float(j_per_cpu_s)
        self.family = family
        self.idle_watts: float | None = None
        self._j_per_ns = self.j_per_cpu_s * 1e-9
        self._start_ns = time.process_time_ns()
        prefix = f"{reason}; " if reason else ""
        self.detail = f"{prefix}estimated at {self.j_per_cpu_s:g} J per CPU-second ({family})"

    def read(self) -> float:
        return (time.process_time_ns() - self._start_ns) * self._j_per_ns

    def joules_for_cpu_seconds(self, cpu_s: float) -> float:
        return max(0.0, cpu_s) * self.j_per_cpu_s


def _read_uj(path: Path) -> int:
    """One counter in microjoules; any failure (missing, permission, garbage) is an OSError."""
    try:
        return int(path.read_text().strip())
    except ValueError as exc:
        raise OSError(f"unparseable content in {path}") from exc


def _package_domains(root: Path) -> list[Path]:
    """Package-level domain dirs (``intel-rapl:N``), deduplicated; subdomains ``N:M`` excluded.

    Raises EnergyError with the reason when none is usable, so callers can fall back.
    """
    if not root.is_dir():
        raise EnergyError(f"rapl unavailable: no {root}")
    candidates = sorted(root.glob("intel-rapl:*")) + sorted(root.glob("intel-rapl/intel-rapl:*"))
    domains: dict[Path, Path] = {}
    for d in candidates:
        if not _PACKAGE_DIR.fullmatch(d.name):
            continue  # a subdomain (core, uncore, dram): already inside its package's counter
        try:
            name = (d / "name").read_text().strip()
        except OSError:
            name = "package"
        if not name.startswith("package"):
            continue  # psys/platform domains would count the packages twice
        domains.setdefault(d.resolve(), d)
    if not domains:
        raise EnergyError(f"rapl unavailable: no package-level intel-rapl domain under {root}")
    found = list(domains.values())
    for d in found:
        try:
            _read_uj(d / "energy_uj")
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise EnergyError(f"rapl unavailable: {d / 'energy_uj'} not readable ({why})") from exc
    return found


class RaplMeter:
    """Sum of package-level RAPL counters, with wrap-around and glitches handled.

    A step is a wrap when the counter goes down: it adds ``max_energy_range_uj - old + new``. A
    step implying more than ``max_watts`` per package (plus ``slack_j``) is a reset or glitch and
    adds nothing. An unreadable counter mid-run adds nothing and is noted in ``detail``; its next
    good reading resumes from the last good value. ``joules_for_cpu_seconds`` uses the estimated
    coefficient, since a worker's share of a package counter cannot be separated out.
    """

    source = "rapl"

    def __init__(
        self,
        root: Path = POWERCAP_ROOT,
        j_per_cpu_s: float | None = None,
        idle_sample_s: float = 0.2,
        max_watts: float = 1000.0,
        slack_j: float = 100.0,
        profile: CoefficientSource | None = None,
    ) -> None:
        self._domains = _package_domains(root)
        self.j_per_cpu_s, self.family = resolve_coefficient(j_per_cpu_s, profile=profile)
        self._max_watts, self._slack_j = max_watts, slack_j
        self._ranges = [self._max_range(d) for d in self._domains]
        self._last = [_read_uj(d / "energy_uj") for d in self._domains]
        self._last_t = time.monotonic()
        self._total_uj = 0.0
        self._lock = threading.Lock()
        self._problems: list[str] = []
        self.idle_watts: float | None = None
        if idle_sample_s > 0:
            time.sleep(idle_sample_s)
            self.idle_watts = self.read() / idle_sample_s
            self._total_uj = 0.0  # read() counts from creation, which ends after the idle sample
        names = ", ".join(d.name for d in self._domains)
        self._base = f"rapl: {len(self._domains)} package domain(s) under {root} ({names})"

    @staticmethod
    def _max_range(d: Path) -> int:
        try:
            return _read_uj(d / "max_energy_range_uj")
        except OSError:
            return 0  # unknown range: a decrease can only be treated as a reset

    @property
    def detail(self) -> str:
        text = self._base
        if self.idle_watts is not None:
            text += f"; idle {self.idle_watts:.1f} W, reported apart"
        if self._problems:
            text += f"; {len(self._problems)} reading problem(s), last: {self._problems[-1]}"
        return text

    def read(self) -> float:
        with self._lock:
            now = time.monotonic()
            limit_uj = (self._max_watts * (now - self._last_t) + self._slack_j) * 1e6
            for i, d in enumerate(self._domains):
                try:
                    new = _read_uj(d / "energy_uj")
                except OSError as exc:
                    self._note(f"{d / 'energy_uj'} unreadable ({exc.strerror or exc})")
                    continue
                old, span = self._last[i], self._ranges[i]
                delta = new - old if new >= old else (span - old + new if span > old else -1)
                if 0 <= delta <= limit_uj:
                    self._total_uj += delta
                else:
                    self._note(f"{d.name} counter jumped {old} -> {new} uJ; step ignored")
                self._last[i] = new
            self._last_t = now
            return self._total_uj * 1e-6

    def _note(self, problem: str) -> None:
        self._problems.append(problem)
        del self._problems[:-20]

    def joules_for_cpu_seconds(self, cpu_s: float) -> float:
        return max(0.0, cpu_s) * self.j_per_cpu_s


def describe_backend(powercap_root: Path = POWERCAP_ROOT) -> tuple[str, str]:
    """(source, reason) that ``create_meter(prefer="auto")`` would choose, without measuring."""
    try:
        domains = _package_domains(powercap_root)
    except EnergyError as exc:
        return "estimated", str(exc)
    names = ", ".join(d.name for d in domains)
    return "rapl", f"{len(domains)} readable package domain(s) under {powercap_root} ({names})"


def create_meter(
    j_per_cpu_s: float | None = None,
    powercap_root: Path = POWERCAP_ROOT,
    prefer: str = "auto",
    idle_sample_s: float = 0.2,
    profile: CoefficientSource | None = None,
) -> EnergyMeter:
    """The best available meter: RAPL when readable, else the estimate with the reason in detail.

    ``prefer="rapl"`` raises EnergyError when RAPL is unusable; ``"estimated"`` skips RAPL.
    ``profile`` (a calibration, see ``engines.energy_profile``) gives the coefficient unless
    ``j_per_cpu_s`` does.
    """
    if prefer not in ("auto", "rapl", "estimated"):
        raise EnergyError(f"unknown energy backend {prefer!r}; choose auto, rapl or estimated")
    reason = "estimated backend chosen explicitly"
    if prefer != "estimated":
        try:
            return RaplMeter(
                powercap_root, j_per_cpu_s, idle_sample_s=idle_sample_s, profile=profile
            )
        except EnergyError as exc:
            if prefer == "rapl":
                raise
            reason = str(exc)
    value, family = resolve_coefficient(j_per_cpu_s, profile=profile)
    return EstimatedMeter(value, family, reason)
