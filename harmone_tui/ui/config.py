"""The user's remembered UI choices in ``<config dir>/settings.toml`` (theme), comments kept.

Read with tomllib, written with tomlkit on top of the existing file, so a user's comments and
other keys survive the app remembering a theme.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomlkit

from harmone_tui import paths


def settings_file() -> Path:
    return paths.config_dir() / "settings.toml"


def load() -> dict[str, Any]:
    """The ``[ui]`` table of settings.toml (empty when missing or unreadable)."""
    path = settings_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    ui = data.get("ui", {})
    return dict(ui) if isinstance(ui, dict) else {}


def remember(key: str, value: Any) -> Path:
    """Set ``[ui] key = value`` in settings.toml, keeping everything else in the file."""
    path = settings_file()
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, tomlkit.exceptions.ParseError):
        doc = tomlkit.document()
        doc.add(tomlkit.comment("harmone settings; the app rewrites only the keys it owns"))
    if "ui" not in doc:
        doc["ui"] = tomlkit.table()
    doc["ui"][key] = value  # type: ignore[index]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    tmp.replace(path)
    return path
