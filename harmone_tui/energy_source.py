"""The calibration profile a command uses: ``--energy-profile FILE``, else $HARMONE_ENERGY_PROFILE.

The meter's coefficient, first found wins: ``--j-per-cpu-s``, ``--energy-profile``,
$HARMONE_J_PER_CPU_S, $HARMONE_ENERGY_PROFILE, the CPU-family default (a number beats a profile,
a flag beats the environment). A profile file is validated when the command starts, before
anything runs: a bad one is one line naming it, exit 2. A profile calibrated on another CPU model
is used, with a warning: the user chose it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from engines.energy import ENV_COEFFICIENT
from engines.energy_profile import EnergyProfile, load_profile, machine

ENV_PROFILE = "HARMONE_ENERGY_PROFILE"
PROFILE_HELP = (
    "energy estimate: use the J per CPU-second of this calibration profile (written by"
    " `harmone energy calibrate` on a machine with RAPL; default: $HARMONE_ENERGY_PROFILE)"
)


def chosen_profile(flag: Path | None, j_per_cpu_s: float | None = None) -> EnergyProfile | None:
    """The profile in force for a command given ``--energy-profile`` (``flag``) and
    ``--j-per-cpu-s``; None when a number (flag or environment) or the family default wins."""
    if j_per_cpu_s is not None:
        return None
    if flag is not None:
        return load_profile(flag)
    if os.environ.get(ENV_COEFFICIENT, "").strip():
        return None
    env = os.environ.get(ENV_PROFILE, "").strip()
    return load_profile(Path(env).expanduser()) if env else None


def profile_for(flag: Path | None, j_per_cpu_s: float | None) -> EnergyProfile | None:
    """:func:`chosen_profile`, with its CPU-mismatch warning on stderr: what a command calls."""
    profile = chosen_profile(flag, j_per_cpu_s)
    warning = mismatch_warning(profile)
    if warning:
        print(f"harmone: {warning}", file=sys.stderr)
    return profile


def mismatch_warning(profile: EnergyProfile | None) -> str | None:
    """A warning line when ``profile`` was calibrated on another CPU model than this one."""
    if profile is None:
        return None
    why = profile.mismatch(machine())
    return f"warning: {profile.path}: {why}; its coefficient may not hold here" if why else None
