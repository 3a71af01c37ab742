"""Every location the app reads or writes, in one place.

Four roots, each found by one rule (``harmone locate`` prints them):

- **data** (knowledge store, model versions, user policies, exports, logs, the vision engine's
  work files and Ultralytics' config): ``--data-dir``, else ``$HARMONE_DATA_DIR``, else the
  platform's user data dir (``~/.local/share/harmone``; honours ``XDG_DATA_HOME``);
- **config** (``settings.toml``, user themes): ``$HARMONE_CONFIG_DIR``, else ``<data>/config``
  when the data dir was chosen (``--data-dir`` or ``$HARMONE_DATA_DIR``), else the platform's user
  config dir (``~/.config/harmone``);
- **cache** (what ML frameworks write for themselves: matplotlib's font cache, Keras'
  ``keras.json``, ONNX Runtime's device id): ``<data>/cache`` when the data dir was chosen, else
  the platform's user cache dir (``~/.cache/harmone``);
- **logs** (the training worker's output): ``<data>/logs``.

So a chosen data dir isolates everything a run writes: a run with ``--data-dir D`` (and no
``$HARMONE_CONFIG_DIR``) writes nothing outside ``D``. The CLI applies ``--data-dir`` for the
length of a command with :func:`using`; code that builds a location asks this module. ``mape`` and
``engines`` cannot import it: they are given their directories.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from platformdirs import user_cache_path, user_config_path, user_data_path

APP_NAME = "harmone"
ENV_DATA_DIR = "HARMONE_DATA_DIR"
ENV_CONFIG_DIR = "HARMONE_CONFIG_DIR"
# Frameworks that write under the home directory unless told where: variable -> dir in the cache.
# ONNX Runtime keeps a device id under $XDG_CACHE_HOME (~/.cache when unset) and has no variable
# of its own; our own cache dir was resolved before this is set.
FRAMEWORK_DIRS = {"MPLCONFIGDIR": "matplotlib", "KERAS_HOME": "keras", "XDG_CACHE_HOME": "xdg"}

_current: Locations | None = None  # the roots of the command running in this process


@dataclass(frozen=True)
class Locations:
    """The four roots, resolved once (see the module docstring)."""

    data: Path
    config: Path
    cache: Path

    @property
    def logs(self) -> Path:
        return self.data / "logs"


def resolve(data_dir: Path | str | None = None, environ: dict[str, str] | None = None) -> Locations:
    """The roots for a ``--data-dir`` (None: not given), by the rules above.

    >>> env = {"HARMONE_DATA_DIR": "/srv/h"}
    >>> where = resolve("/tmp/d", env)
    >>> [str(p) for p in (where.data, where.config, where.cache, where.logs)]
    ['/tmp/d', '/tmp/d/config', '/tmp/d/cache', '/tmp/d/logs']
    >>> resolve(None, {**env, "HARMONE_CONFIG_DIR": "/etc/h"}).config
    PosixPath('/etc/h')
    """
    env = os.environ if environ is None else environ
    chosen: Path | None = None
    if data_dir is not None:
        chosen = Path(data_dir).expanduser()
    elif env.get(ENV_DATA_DIR):
        chosen = Path(env[ENV_DATA_DIR]).expanduser()
    if env.get(ENV_CONFIG_DIR):
        config = Path(env[ENV_CONFIG_DIR]).expanduser()
    else:
        config = chosen / "config" if chosen else user_config_path(APP_NAME, appauthor=False)
    return Locations(
        data=chosen or user_data_path(APP_NAME, appauthor=False),
        config=config,
        cache=chosen / "cache" if chosen else user_cache_path(APP_NAME, appauthor=False),
    )


def current() -> Locations:
    """The roots of the command running now (its ``--data-dir``, the environment)."""
    return _current if _current is not None else resolve()


@contextmanager
def using(data_dir: Path | None) -> Iterator[Locations]:
    """For the length of a command: ``--data-dir`` (None: not given) applies to every location,
    and the ML frameworks write under the cache dir (their variables are set unless the user set
    them; a training worker started meanwhile inherits them). Restored on the way out."""
    global _current
    saved_current = _current
    saved_env = {name: os.environ.get(name) for name in FRAMEWORK_DIRS}
    where = _current = resolve(data_dir)  # resolved before the variables below change
    for name, sub in FRAMEWORK_DIRS.items():
        os.environ.setdefault(name, str(where.cache / sub))
    try:
        yield where
    finally:
        _current = saved_current
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def data_dir(override: Path | str | None = None) -> Path:
    """The data directory: knowledge store, model versions, exports, user policies, logs."""
    return resolve(override).data if override is not None else current().data


def config_dir() -> Path:
    """The config directory: settings.toml (theme, keys, retention) and user themes."""
    return current().config


def cache_dir() -> Path:
    """Where the ML frameworks keep their own files (see :data:`FRAMEWORK_DIRS`)."""
    return current().cache


def settings_file() -> Path:
    return config_dir() / "settings.toml"


def user_themes_dir() -> Path:
    return config_dir() / "themes"


def knowledge_file(root: Path) -> Path:
    return root / "knowledge.sqlite3"


def models_dir(root: Path) -> Path:
    """Model versions. The name is part of the store's format (rows name versions as
    ``models/<engine>/<model>/v<N>`` relative to ``root``): ``mape.model_repo.MODELS_DIR``, which
    this module cannot import without loading the store; a test checks the two agree."""
    return root / "models"


def exports_dir(root: Path) -> Path:
    return root / "exports"


def energy_profile_file(root: Path) -> Path:
    """Where ``harmone energy calibrate`` writes its calibration profile by default."""
    return root / "energy-profile.json"


def policies_dir(root: Path) -> Path:
    return root / "policies"


def logs_dir(root: Path) -> Path:
    return root / "logs"


def trainer_log(root: Path) -> Path:
    """The training worker's stdout and stderr (TensorFlow and Ultralytics chatter)."""
    return logs_dir(root) / "trainer.log"


def custom_mape_dir(root: Path, run_id: int) -> Path:
    """A run's working copy of a Harmonica user's MAPE files (``mape_logic/``) and the
    ``knowledge/`` folder they read and write (see :mod:`mape.custom.knowledge_files`)."""
    return root / "custom_mape" / f"run-{run_id}"


def custom_mape_log(root: Path, run_id: int) -> Path:
    """What a run's custom MAPE code printed (bounded; the TUI shows it)."""
    return logs_dir(root) / f"custom-mape-run-{run_id}.log"


def vision_dir(root: Path) -> Path:
    """The vision engine's work files: its generated training set and extracted zips."""
    return root / "vision"


def ultralytics_dir(root: Path) -> Path:
    """Ultralytics' config dir (settings, fonts), kept with our data, never in ``~/.config``."""
    return root / "ultralytics"


def engine_dirs(root: Path) -> dict[str, Path]:
    """``create_engine``'s directories under the data dir ``root`` (engines never build one)."""
    return {"work_dir": vision_dir(root), "config_dir": ultralytics_dir(root)}


def sample_data() -> Traversable:
    """The bundled sample data, found through the installed package, never the cwd."""
    return resources.files("sample_data")


def themes() -> Traversable:
    """The bundled Textual themes."""
    return resources.files("themes")


def sample_file(name: str) -> Path:
    """A bundled sample file as a real path (the package is installed unzipped)."""
    return Path(str(sample_data() / name))
