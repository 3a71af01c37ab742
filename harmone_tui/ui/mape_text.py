"""The MAPE screen's text (pure: no Textual): who decides, the custom code's figures, its log.

>>> print(decider_lines(None, "harmone")[0])
decides    harmone's built-in plan (policy harmone)
>>> print(decider_lines(None, "harmone", "/home/me/mape")[1])
state      starting with the run
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape

from harmone_tui.ui.format import number

TAIL_BYTES = 32_000
TAIL_LINES = 300


def _value(v: Any) -> str:
    return number(v) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)


def decider_lines(view: Any, policy_name: str, custom: str = "") -> list[str]:
    """Lines about who decides; ``view`` is a :class:`~harmone_tui.custom_mape.CustomView` or
    None: the built-in plan decides, or (``custom``: the policy's directory) the run is still
    starting."""
    if view is None and custom:
        return [f"decides    custom MAPE in {escape(custom)}", "state      starting with the run"]
    if view is None:
        return [
            f"decides    harmone's built-in plan (policy {escape(policy_name)})",
            "",
            "To let your own Harmonica MAPE files decide: harmone --mape DIR",
            "(monitor.py, analyse.py, plan.py, execute.py), or "
            + escape('[mape] custom = "DIR"')
            + " in a policy.",
        ]
    lines = [
        f"decides    custom MAPE in {escape(view.folder)}",
        f"state      {view.state}",
        f"on error   {view.fallback}",
        f"calls      {view.calls} ({view.failed_calls} failed)"
        + (f"; calling {view.calling} now" if view.calling else ""),
        f"pyRAPL     {escape(view.pyrapl.removeprefix('pyRAPL: ')) or '–'}",
    ]
    if view.decision:
        lines.append(f"decision   step {view.decision_step:,}: {escape(view.decision)}")
    if view.last_error:
        lines.append(
            f"[b]error[/b]      step {view.last_error_step or 0:,}: {escape(view.last_error)}"
        )
    if view.figures:
        shown = " · ".join(f"{escape(str(k))} {escape(_value(v))}" for k, v in view.figures.items())
        lines.append(f"figures    step {view.figures_step:,}: {shown}")
    else:
        lines.append("figures    none yet (monitor_mape() is polled at each cycle)")
    lines.append(f"log        {escape(view.log)}")
    return lines


def log_tail(path: Path) -> list[str]:
    """The last lines of the log (at most ``TAIL_BYTES`` read); [] if there is none yet."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - TAIL_BYTES))
            data = f.read()
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > TAIL_BYTES and lines:
        lines = lines[1:]  # the first line read is cut
    return lines[-TAIL_LINES:]
