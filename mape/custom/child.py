"""The process the user's MAPE code runs in (``spawn``ed by :mod:`mape.custom.process`).

It lays itself out as Harmonica's managed system did: working directory = the working copy's
root, ``mape_logic/`` first on ``sys.path`` (the files import each other by bare name), output to
the bounded log. pyRAPL: the real one if it sets up here, else harmone's stand-in (energy from
this process's CPU time). The four modules are imported at start (their import-time code, e.g.
``pyRAPL.setup()``, runs then), then each request is one call: ``(module, function, args)`` →
``(ok, value, error, printed, cpu_s)``. The process exits when its parent is gone.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import random
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from mape.custom.capped import CappedLog

MODULES = ("monitor", "analyse", "plan", "execute")
STANDIN_DIR = Path(__file__).resolve().parent / "standin"
COMPAT_DIR = Path(__file__).resolve().parent / "compat"  # last on sys.path: the user's own win
ENV_J_PER_CPU_S = "HARMONE_J_PER_CPU_S"
PARENT_POLL_S = 0.5
MAX_KEYS = 100
MAX_TEXT = 500


def main(
    conn: Connection,
    root: str,
    log_path: str,
    parent_pid: int,
    seed: int,
    j_per_cpu_s: float,
    per_call: int,
) -> None:
    log = CappedLog(Path(log_path), per_call)
    sys.stdout = sys.stderr = log  # type: ignore[assignment]
    _exit_with_parent(parent_pid)
    os.chdir(root)
    sys.path.insert(0, str(Path(root) / "mape_logic"))
    sys.path.append(str(COMPAT_DIR))
    note = choose_pyrapl(j_per_cpu_s)
    log.note(note)
    random.seed(seed)  # Harmonica's template plans with random.choice: same run, same choices
    problems = {}
    for name in MODULES:
        log.begin_call()
        try:
            importlib.import_module(name)
        except BaseException as exc:
            traceback.print_exc()
            problems[name] = describe(exc)
        log.end_call()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)
    conn.send(("ready", note, problems))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            break
        if request[0] == "quit":
            break
        _, module, function, args = request
        log.begin_call()
        started = time.process_time()
        try:
            reply = (True, plain(call(module, function, args)), None)
        except BaseException as exc:
            traceback.print_exc()
            reply = (False, None, describe(exc))
        cpu_s = time.process_time() - started
        printed = log.end_call()
        conn.send((*reply, printed, cpu_s))


def call(module: str, function: str, args: tuple[Any, ...]) -> Any:
    """``module.function(*args)``, with fewer args if the function takes fewer (Harmonica's
    template takes ``trigger="local"``, a user's may take nothing)."""
    target = getattr(importlib.import_module(module), function)
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return target(*args)
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return target(*args)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return target(*args[: len(positional)])


def describe(exc: BaseException) -> str:
    """``Type: message (file.py:line)``, the line being the innermost in the user's files."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if "mape_logic" in frame.filename:
            where = f" ({Path(frame.filename).name}:{frame.lineno})"
    text = str(exc)[:MAX_TEXT]
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as plain, bounded data for the parent: numbers, text, lists and dicts."""
    if value is None or isinstance(value, bool | int | str):
        return value[:MAX_TEXT] if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "item") and callable(value.item):  # a numpy scalar
        try:
            return plain(value.item(), depth)
        except (TypeError, ValueError):
            pass
    if depth < 3 and isinstance(value, dict):
        items = list(value.items())[:MAX_KEYS]
        return {str(k)[:MAX_TEXT]: plain(v, depth + 1) for k, v in items}
    if depth < 3 and isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value[:MAX_KEYS]]
    return repr(value)[:MAX_TEXT]


def choose_pyrapl(j_per_cpu_s: float) -> str:
    """Use pyRAPL if it sets up here, else put the stand-in first on ``sys.path``; say which."""
    try:
        import pyRAPL  # type: ignore[import-not-found]

        pyRAPL.setup()
        return "pyRAPL: the real one (RAPL is readable here)"
    except ImportError:
        reason = "pyRAPL is not installed"
    except Exception as exc:
        reason = f"pyRAPL.setup() failed: {describe(exc)}"
    for name in [m for m in sys.modules if m == "pyRAPL" or m.startswith("pyRAPL.")]:
        del sys.modules[name]
    os.environ[ENV_J_PER_CPU_S] = repr(j_per_cpu_s)
    sys.path.insert(0, str(STANDIN_DIR))
    return (
        f"pyRAPL: harmone's stand-in ({reason}); its energy is this process's CPU time"
        f" x {j_per_cpu_s:g} J per CPU-second"
    )


def _exit_with_parent(parent_pid: int) -> None:
    """End this process when harmone is gone (kill -9 included): polls the parent pid, as the
    training worker does (harmone_tui/trainer_pool.py)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        os._exit(3)

    threading.Thread(target=watch, name="harmone-parent-watch", daemon=True).start()
