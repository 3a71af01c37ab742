"""How many runs keep their step rows: ``[store] keep_steps_runs`` in settings.toml, or a flag.

``harmone run`` prunes after every run (the pruning itself is :mod:`mape.retention`), so the
store stays near N runs' worth of steps instead of growing by ~77 bytes a step forever.
``keep_steps_runs = "all"`` turns retention off.
"""

from __future__ import annotations

import argparse
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path

from harmone_tui import paths

DEFAULT_KEEP = 20
ALL = "all"
SECTION, KEY = "store", "keep_steps_runs"


def parse_keep(text: str) -> int | None:
    """``--keep-steps-runs``: a count of runs (at least 1) or `all` (None: never prune)."""
    if text == ALL:
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a count or 'all', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 run (or 'all'), got {value}")
    return value


def configured_keep() -> int | None:
    """The setting (default 20 runs); None when it is "all"."""
    from mape.knowledge import KnowledgeError

    path = paths.settings_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DEFAULT_KEEP
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path}: not a readable TOML file ({exc})") from None
    section = data.get(SECTION, {})
    value = section.get(KEY, DEFAULT_KEEP) if isinstance(section, dict) else DEFAULT_KEEP
    if value == ALL:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise KnowledgeError(
            f'{path}: [{SECTION}] {KEY}: expected a number of runs (at least 1) or "all",'
            f" got {value!r}"
        )
    return value


def after_run(root: Path, keep: int | None, say: Callable[[str], None]) -> None:
    """Drop the step rows of runs older than the ``keep`` newest (None: keep every run's)."""
    from mape.retention import prune_steps

    store = paths.knowledge_file(root)
    if keep is None or not store.exists():
        return
    result = prune_steps(store, keep=keep, vacuum="when-worth-it")
    for run_id in result.runs:  # a custom MAPE's working copy repeats the run's steps
        shutil.rmtree(paths.custom_mape_dir(root, run_id), ignore_errors=True)
    if result.rows:
        say(
            f"kept the step rows of the last {keep} run{'s' if keep > 1 else ''}: removed"
            f" {result.rows:,} rows of {len(result.runs)} older run(s); their summaries and"
            " events stay"
            f" ([{SECTION}] {KEY} in {paths.settings_file()} sets how many)"
        )
    if result.note:
        say(result.note)
