"""Every location the app uses, in one place (platformdirs; honours XDG_DATA_HOME)."""

from __future__ import annotations

import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP_NAME = "harmone"


def data_dir(override: Path | str | None = None) -> Path:
    """The user data directory: knowledge store, model versions, exports, user policies."""
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get("HARMONE_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return user_data_path(APP_NAME, appauthor=False)


def config_dir() -> Path:
    """The user config directory (settings.toml: theme and other remembered choices)."""
    env = os.environ.get("HARMONE_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    return user_config_path(APP_NAME, appauthor=False)


def knowledge_file(root: Path) -> Path:
    return root / "knowledge.sqlite3"


def models_dir(root: Path) -> Path:
    return root / "models"


def exports_dir(root: Path) -> Path:
    return root / "exports"


def policies_dir(root: Path) -> Path:
    return root / "policies"


def sample_data() -> Traversable:
    """The bundled sample data, found through the installed package, never the cwd."""
    return resources.files("sample_data")


def themes() -> Traversable:
    """The bundled Textual themes."""
    return resources.files("themes")


def sample_file(name: str) -> Path:
    """A bundled sample file as a real path (the package is installed unzipped)."""
    return Path(str(sample_data() / name))
