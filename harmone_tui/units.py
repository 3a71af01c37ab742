"""The one unit convention: display prefixes chosen by magnitude, base units in machine output.

Every screen, table and line that shows energy or carbon formats it here, so a figure reads the
same on the dashboard, in the summary line and in ``harmone compare`` (before this module the
dashboard showed µJ, the summary and compare mJ, totals J). Machine-readable outputs (summary
JSON, CSV, exports) carry base units, J and g, with the unit in the key or column name
(``energy_j``, ``carbon_g``); they never go through these formatters.

>>> energy(0.00082)
'820 µJ'
>>> energy(1.0217e-3)
'1.02 mJ'
>>> energy(12345.0)
'12.3 kJ'
>>> carbon(0.0042)
'4.20 mg'
>>> energy(None)
'–'
"""

from __future__ import annotations

import math

MISSING = "–"
ENERGY_PREFIXES = (("MJ", 1e6), ("kJ", 1e3), ("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9))
CARBON_PREFIXES = (("t", 1e6), ("kg", 1e3), ("g", 1.0), ("mg", 1e-3), ("µg", 1e-6), ("ng", 1e-9))


def scaled(value: float | None, prefixes: tuple[tuple[str, float], ...], digits: int = 3) -> str:
    """``value`` in the largest unit of ``prefixes`` it reaches, to ``digits`` significant digits.

    >>> scaled(0.0, ENERGY_PREFIXES)
    '0 J'
    >>> scaled(999.95, ENERGY_PREFIXES)
    '1.00 kJ'
    >>> scaled(-0.002, ENERGY_PREFIXES)
    '-2.00 mJ'
    """
    if value is None or not math.isfinite(value):
        return MISSING
    if value == 0:
        return f"0 {_base(prefixes)}"
    size = float(f"{abs(value):.{digits - 1}e}")  # rounded first: 999.95 J is 1.00 kJ
    unit, factor = next(((u, f) for u, f in prefixes if size >= f), prefixes[-1])
    return f"{_significant(math.copysign(size, value) / factor, digits)} {unit}"


def _base(prefixes: tuple[tuple[str, float], ...]) -> str:
    return next(unit for unit, factor in prefixes if factor == 1.0)


def _significant(x: float, digits: int) -> str:
    """``x`` with ``digits`` significant digits, never in exponent notation (1.00, 12.3, 820)."""
    size = abs(x)
    whole = 1 if size < 1 else int(math.floor(math.log10(size))) + 1
    decimals = max(0, digits - whole)
    return f"{x:.{decimals}f}"


def energy(joules: float | None, digits: int = 3) -> str:
    """Joules shown with the prefix their magnitude calls for (nJ … MJ)."""
    return scaled(joules, ENERGY_PREFIXES, digits)


def carbon(grams: float | None, digits: int = 3) -> str:
    """Grams of CO2e shown with the prefix their magnitude calls for (ng … t)."""
    return scaled(grams, CARBON_PREFIXES, digits)


def energy_and_carbon(joules: float | None, grams: float | None) -> str:
    """The pair every energy total is shown as: ``1.23 J · 0.15 mg CO₂e``."""
    return f"{energy(joules)} · {carbon(grams)} CO₂e"
