"""Themes: the shipped ``themes/*.toml`` plus the user's ``<config dir>/themes/*.toml``.

Each TOML file maps 1:1 onto :class:`textual.theme.Theme` (Posting's convention), so a user theme
is a copy of a shipped one with other colours. A user theme with a shipped theme's name overrides
it. Widget code never holds a colour: it uses ``$primary``/``$warning``/``$error``/``$success``.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from textual.theme import Theme

from harmone_common.errors import HarmoneError
from harmone_tui import paths

DEFAULT_THEME = "harmone-dark"
_FIELDS = {f.name for f in fields(Theme)}


class ThemeFileError(HarmoneError):
    """A theme file that cannot be used; the message names the file."""


def theme_from_toml(text: str, source: str) -> Theme:
    """Build a Theme from TOML text; unknown keys are refused with the file named."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"{source}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ThemeFileError(f"{source}: unknown keys {', '.join(unknown)}")
    if "name" not in data or "primary" not in data:
        raise ThemeFileError(f"{source}: a theme needs at least 'name' and 'primary'")
    try:
        return Theme(**data)
    except Exception as exc:  # Theme validates colours lazily; surface the message
        raise ThemeFileError(f"{source}: {exc}") from None


def user_themes_dir() -> Path:
    return paths.user_themes_dir()


def load_themes() -> tuple[list[Theme], list[str]]:
    """Shipped themes then user themes; returns (themes, problems) so a bad file never crashes."""
    found: dict[str, Theme] = {}
    problems: list[str] = []
    shipped = sorted(
        (p for p in paths.themes().iterdir() if p.name.endswith(".toml")), key=lambda p: p.name
    )
    sources: list[tuple[str, str]] = [(p.read_text(encoding="utf-8"), p.name) for p in shipped]
    user = user_themes_dir()
    if user.is_dir():
        sources += [(p.read_text(encoding="utf-8"), str(p)) for p in sorted(user.glob("*.toml"))]
    for text, source in sources:
        try:
            theme = theme_from_toml(text, source)
        except ThemeFileError as exc:
            problems.append(str(exc))
            continue
        found[theme.name] = theme
    return list(found.values()), problems
