"""The user's UI settings in ``<config dir>/settings.toml``, comments kept.

``[ui]`` holds the remembered theme and ``confirm_quit_after_s``; ``[keymap]`` remaps keys
(:mod:`harmone_tui.ui.keymap`).

Read with tomllib, written with tomlkit on top of the existing file, so a user's comments and
other keys survive the app remembering a theme.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomlkit

from harmone_common.files import write_text_atomic
from harmone_tui import paths


def settings_file() -> Path:
    return paths.config_dir() / "settings.toml"


def read() -> tuple[dict[str, Any], str | None]:
    """The whole of settings.toml, and one line saying why it could not be read (None when it
    was read or does not exist): the app reports it once and goes on with its defaults."""
    path = settings_file()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), None
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"{path}: cannot be read ({exc.strerror or exc})"
    except tomllib.TOMLDecodeError as exc:
        return {}, f"{path}: not valid TOML ({exc}); using the defaults"


def load() -> dict[str, Any]:
    """The ``[ui]`` table of settings.toml (empty when missing or unreadable)."""
    ui = read()[0].get("ui", {})
    return dict(ui) if isinstance(ui, dict) else {}


def seconds(ui: dict[str, Any], key: str, default: float) -> tuple[float, str | None]:
    """A ``[ui]`` duration in seconds (>= 0), or the default and a line saying what was wrong."""
    value = ui.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return default, (
            f"{settings_file()}: [ui] {key} must be a number of seconds >= 0, got {value!r}"
        )
    return float(value), None


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
    write_text_atomic(path, tomlkit.dumps(doc))
    return path
