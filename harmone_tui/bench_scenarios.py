"""The streams `harmone bench` runs: the bundled scenario library, a directory of one's own, or
named CSV files.

A scenario directory is what ``scripts/make_scenarios.py`` writes: CSV files plus a
``scenarios.json`` listing them (name, file, description). A directory without that list
contributes every ``*.csv`` in it, named after the file.

>>> [s.name for s in resolve_scenarios("stuck,recurring")]
['stuck', 'recurring']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harmone_common.errors import HarmoneError
from harmone_tui import paths
from mape.names import NAME_RE, NAME_RULE


class BenchError(HarmoneError):
    """A bench argument the user must fix: a scenario, a seed count, a missing extra."""


@dataclass(frozen=True)
class Scenario:
    """One stream of the sweep."""

    name: str
    path: Path
    description: str = ""


def bundled_dir() -> Path:
    return paths.sample_file("scenarios")


def from_directory(directory: Path) -> list[Scenario]:
    """The scenarios of a directory: its ``scenarios.json`` list, or every CSV in it."""
    listing = directory / "scenarios.json"
    if not listing.exists():
        found = [Scenario(p.stem, p) for p in sorted(directory.glob("*.csv"))]
        if not found:
            raise BenchError(f"--scenarios {directory}: no scenarios.json and no *.csv in it")
        return found
    try:
        entries = json.loads(listing.read_text(encoding="utf-8"))["scenarios"]
        out = [
            Scenario(str(e["name"]), directory / str(e["file"]), str(e.get("description", "")))
            for e in entries
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"{listing}: not a scenario list ({type(exc).__name__}: {exc})") from None
    for s in out:
        if not s.path.is_file():
            raise BenchError(f"{listing}: scenario {s.name!r}: file {s.path} is missing")
    return out


def resolve_scenarios(spec: str | None) -> list[Scenario]:
    """Scenarios from ``--scenarios``: comma-separated bundled names, directories or CSV files
    (None: every bundled scenario). Names must be unique: they name the rows and run folders."""
    bundled = {s.name: s for s in from_directory(bundled_dir())}
    if spec is None:
        return list(bundled.values())
    out: list[Scenario] = []
    for item in (i.strip() for i in spec.split(",")):
        if not item:
            continue
        path = Path(item).expanduser()
        if path.is_dir():
            out += from_directory(path)
        elif path.is_file():
            out.append(Scenario(path.stem, path))
        elif item in bundled:
            out.append(bundled[item])
        else:
            raise BenchError(
                f"--scenarios: {item!r} is neither a file, a directory nor a bundled scenario",
                hint=f"bundled: {', '.join(bundled)}",
            )
    if not out:
        raise BenchError("--scenarios: name at least one scenario")
    names = [s.name for s in out]
    for name in names:  # a scenario's name becomes a run folder
        if not NAME_RE.match(name) or ".." in name:
            raise BenchError(f"--scenarios: scenario name {name!r}: {NAME_RULE}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BenchError(f"--scenarios: {', '.join(twice)} named twice")
    return out
