"""The one-line status bar on every screen: run state, step, speed, active model, energy source.

Screens do not compute anything for it: the app hands it a :class:`StatusInfo` a few times a
second. The state is also a CSS class (``-paused``, ``-failed``, ``-finished``) so themes colour it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

STATES = ("-starting", "-preparing", "-running", "-paused", "-finished", "-stopped", "-failed")
ICONS = {"running": "▶", "paused": "⏸", "finished": "■", "stopped": "■", "failed": "✖"}


@dataclass(frozen=True)
class StatusInfo:
    """What the status bar shows; built by the app from the session."""

    state: str
    progress: str = ""
    step: int = 0
    total: int = 0
    rate: float | None = None
    speed: float | None = None
    model: str = ""
    version: int = 0
    policy: str = ""
    energy: str = ""


def speed_text(speed: float | None) -> str:
    """``50/s`` or ``max``."""
    return "max" if speed is None else f"{speed:g}/s"


class StatusBar(Static):
    """Run state at a glance; see the module docstring."""

    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; background: $panel; color: $foreground; padding: 0 1; }
    StatusBar.-paused { background: $warning 30%; }
    StatusBar.-failed { background: $error 40%; }
    StatusBar.-finished, StatusBar.-stopped { background: $success 20%; }
    """

    def show(self, info: StatusInfo, narrow: bool = False) -> None:
        """Render ``info``; ``narrow`` drops the least useful parts first."""
        self.set_classes_for(info.state)
        self.update(self.line(info, narrow), layout=False)  # one line, full width: never resizes

    def set_classes_for(self, state: str) -> None:
        for cls in STATES:
            self.set_class(cls == f"-{state}", cls)

    @staticmethod
    def line(info: StatusInfo, narrow: bool = False) -> Text:
        """The status line as styled text (pure, tested without an app)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        icon = ICONS.get(info.state, "…")
        text.append(f"{icon} {info.state}", style="bold")
        if info.state in ("starting", "preparing", "failed"):
            text.append(f"  {info.progress}")
            return text
        total = f"/{info.total:,}" if info.total else ""
        text.append(f"  step {info.step:,}{total}")
        if info.state in ("running", "paused"):
            if narrow:
                rate = "" if info.rate is None else f"{info.rate:,.0f}/s "
                text.append(f"  {rate}(speed {speed_text(info.speed)})")
            else:
                rate = "" if info.rate is None else f"{info.rate:,.0f} steps/s "
                text.append(f"  {rate}(speed {speed_text(info.speed)})")
        text.append("  ")
        text.append(f"{info.model} v{info.version}", style="bold")
        if not narrow:
            text.append(f"  policy {info.policy}")
        text.append(f"  energy {info.energy}")
        return text
