"""Check a Harmonica custom MAPE directory before a run: every problem is one line, exit 2.

Harmonica's upload takes ``monitor.py``, ``analyse.py``, ``plan.py``, ``execute.py`` and
``manage.py``. harmone drives the cycle itself, so ``manage.py`` is accepted and not run; the
other four are required, and the two functions harmone calls must be defined at top level.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

from harmone_common.errors import HarmoneError
from mape.policy import Policy

REQUIRED = ("monitor.py", "analyse.py", "plan.py", "execute.py")
NOT_RUN = ("manage.py",)  # Harmonica's own loop: harmone's step-based cycle replaces it
FUNCTIONS = {"execute.py": ("execute_mape",), "monitor.py": ("monitor_mape",)}
MAX_FILE_BYTES = 5_000_000
HINT = "a custom MAPE directory holds monitor.py, analyse.py, plan.py and execute.py (Harmonica's)"


class CustomMapeError(HarmoneError):
    """A custom MAPE directory that cannot be used; the message names the file and the problem."""


def top_level_functions(tree: ast.Module) -> set[str]:
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def check_folder(folder: Path) -> Path:
    """The resolved ``folder`` if it holds usable MAPE files; else :class:`CustomMapeError`."""
    folder = folder.expanduser()
    if not folder.is_dir():
        what = "is not a directory" if folder.exists() else "does not exist"
        raise CustomMapeError(f"custom MAPE: {folder} {what}", HINT)
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise CustomMapeError(f"custom MAPE: {folder} has no {', '.join(missing)}", HINT)
    for name in REQUIRED:
        path = folder / name
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CustomMapeError(f"custom MAPE: {path} is over {MAX_FILE_BYTES:,} bytes")
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except SyntaxError as exc:
            raise CustomMapeError(
                f"custom MAPE: {path}:{exc.lineno}: syntax error: {exc.msg}"
            ) from None
        except (OSError, ValueError) as exc:
            raise CustomMapeError(f"custom MAPE: {path}: cannot be read: {exc}") from None
        absent = [f for f in FUNCTIONS.get(name, ()) if f not in top_level_functions(tree)]
        if absent:
            raise CustomMapeError(
                f"custom MAPE: {path} defines no {', '.join(absent)}()",
                "harmone calls execute_mape(trigger) and polls monitor_mape() (Harmonica's API)",
            )
    return folder.resolve()


def with_folder(policy: Policy, source: str, given: Path | None) -> Policy:
    """``policy`` with its custom MAPE directory checked and made absolute: ``given``
    (``--mape``, relative to the working directory) or the policy's ``[mape] custom`` (relative
    to the policy file's directory). Unchanged when neither names one."""
    if given is None and not policy.mape.custom:
        return policy
    if given is not None:
        folder = given
    else:
        folder = Path(policy.mape.custom).expanduser()
        file = Path(source)
        if not folder.is_absolute() and file.suffix == ".toml" and file.is_file():
            folder = file.parent / folder
    checked = check_folder(folder)
    return replace(policy, mape=replace(policy.mape, custom=str(checked)))


def decider(policy: Policy) -> str:
    """Which logic decides a run of ``policy``, in one line."""
    mape = policy.mape
    if not mape.custom:
        return "harmone's built-in plan decides"
    fallback = "harmone's built-in plan" if mape.on_error == "builtin" else "no adaptation"
    return (
        f"custom MAPE in {mape.custom} decides (its execute_mape/execute_drift, every"
        f" {policy.switch.every_steps} steps and on drift); when a call fails: {fallback}"
    )
