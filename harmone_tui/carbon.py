"""Carbon: gCO2e = energy (kWh) x grid intensity (gCO2e/kWh) x PUE, and where the factors came from.

Sources of the defaults (docs/energy.md repeats them):

- **Grid intensity**: annual average carbon intensity of electricity generation per country or
  region, from Ember's yearly electricity data as packaged by the Green Web Foundation's CO2.js
  (``src/data/average-intensities.min.js``, github.com/thegreenwebfoundation/co2.js, commit
  84384da). The default is that table's ``WORLD`` figure, 437.66 gCO2e/kWh. Real-time intensity
  varies by hour and season; these are yearly averages.
- **PUE** (power usage effectiveness: facility energy / IT energy): default 1.0, i.e. the
  machine's own energy and nothing for cooling or power distribution, right for a laptop or a
  workstation. In a data centre set it: the Uptime Institute's 2023 global survey reports an
  average annual PUE of 1.58; hyperscale operators publish 1.1-1.2.

Resolution, first found wins, per factor: the flag (``--grid-intensity``, ``--region``,
``--pue``), the environment (``HARMONE_GRID_INTENSITY``, ``HARMONE_REGION``, ``HARMONE_PUE``),
``[carbon]`` in settings.toml (``grid_intensity``, ``region``, ``pue``), the default. A number
for the intensity wins over a region at the same level.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.energy import carbon_g
from harmone_common.errors import HarmoneError

SOURCE = "Ember yearly averages via CO2.js (thegreenwebfoundation/co2.js, 84384da)"
DEFAULT_REGION = "world"
DEFAULT_PUE = 1.0
MAX_INTENSITY = 2000.0  # no grid emits more than ~1,000 g/kWh (lignite); beyond this: a typo
MAX_PUE = 5.0
ENV_INTENSITY, ENV_REGION, ENV_PUE = "HARMONE_GRID_INTENSITY", "HARMONE_REGION", "HARMONE_PUE"
SECTION = "carbon"

# gCO2e/kWh, annual average of generation (SOURCE); keys: ISO 3166 alpha-3, or a named region.
REGIONS: dict[str, float] = {
    "world": 437.66,
    "eu": 276.63,
    "oecd": 341.08,
    "aus": 501.7,
    "bra": 102.04,
    "can": 125.84,
    "che": 41.28,
    "chn": 533.98,
    "deu": 385.39,
    "esp": 217.42,
    "fra": 84.88,
    "gbr": 261.16,
    "ind": 633.4,
    "ita": 372.63,
    "jpn": 494.86,
    "kor": 437.6,
    "nld": 354.31,
    "nor": 28.93,
    "pol": 633.23,
    "swe": 45.12,
    "usa": 368.1,
    "zaf": 708.21,
}


class CarbonError(HarmoneError):
    """A grid intensity, region or PUE that cannot be used."""


@dataclass(frozen=True)
class CarbonFactors:
    """The factors in force and, for each, where it came from (shown next to every figure)."""

    grid_g_per_kwh: float
    pue: float
    intensity_source: str
    pue_source: str

    def grams(self, joules: float) -> float:
        """gCO2e for ``joules``."""
        return carbon_g(joules, self.grid_g_per_kwh, self.pue)

    def to_dict(self) -> dict[str, Any]:
        return {
            "grid_intensity_g_per_kwh": self.grid_g_per_kwh,
            "pue": self.pue,
            "grid_intensity_source": self.intensity_source,
            "pue_source": self.pue_source,
        }

    def describe(self) -> str:
        """One line: ``437.66 gCO2e/kWh (region world, ...) x PUE 1.0 (default)``."""
        return (
            f"{self.grid_g_per_kwh:g} gCO2e/kWh ({self.intensity_source}) x PUE {self.pue:g}"
            f" ({self.pue_source})"
        )


def region_intensity(region: str, where: str) -> float:
    """The table's figure for ``region`` (case-insensitive), or a CarbonError naming ``where``."""
    key = region.strip().lower()
    if key not in REGIONS:
        raise CarbonError(
            f"{where}: unknown region {region!r}",
            hint=f"choose from {', '.join(sorted(REGIONS))}, or give --grid-intensity G_PER_KWH",
        )
    return REGIONS[key]


def _number(raw: Any, where: str, what: str, lo: float, hi: float) -> float:
    if isinstance(raw, bool):
        raw = "not a number"
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and lo <= value <= hi):
        raise CarbonError(f"{where}: {what} must be a number from {lo:g} to {hi:g}, got {raw!r}")
    return value


def _settings_section(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CarbonError(f"{path}: not a readable TOML file ({exc})") from None
    section = data.get(SECTION, {})
    if not isinstance(section, dict):
        raise CarbonError(f"{path}: [{SECTION}] must be a table")
    unknown = set(section) - {"grid_intensity", "region", "pue"}
    if unknown:
        raise CarbonError(
            f"{path}: [{SECTION}] unknown key {sorted(unknown)[0]!r}",
            hint="known keys: grid_intensity, region, pue",
        )
    return section


def resolve(
    grid_intensity: float | None = None,
    region: str | None = None,
    pue: float | None = None,
    settings_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> CarbonFactors:
    """The factors in force: flag > environment > settings.toml ``[carbon]`` > default."""
    env = os.environ if environ is None else environ
    section = _settings_section(settings_path)
    where_toml = f"{settings_path} [{SECTION}]"
    levels: list[tuple[str, Any, Any]] = [
        ("--grid-intensity / --region", grid_intensity, region),
        (f"${ENV_INTENSITY} / ${ENV_REGION}", env.get(ENV_INTENSITY) or None, env.get(ENV_REGION)),
        (where_toml, section.get("grid_intensity"), section.get("region")),
    ]
    intensity, intensity_source = REGIONS[DEFAULT_REGION], f"default: region world, {SOURCE}"
    for where, number, name in levels:
        if number is not None:
            intensity = _number(number, where, "grid intensity (gCO2e/kWh)", 0.0, MAX_INTENSITY)
            intensity_source = f"set by {where.split(' / ')[0]}"
            break
        if name:
            intensity = region_intensity(str(name), where)
            intensity_source = f"region {str(name).lower()} ({where.split(' / ')[-1]}), {SOURCE}"
            break
    pue_levels = [
        ("--pue", pue),
        (f"${ENV_PUE}", env.get(ENV_PUE) or None),
        (where_toml, section.get("pue")),
    ]
    value, pue_source = DEFAULT_PUE, "default: the machine alone, no facility overhead"
    for where, raw in pue_levels:
        if raw is not None:
            value = _number(raw, where, "PUE", 1.0, MAX_PUE)
            pue_source = f"set by {where}"
            break
    return CarbonFactors(intensity, value, intensity_source, pue_source)
