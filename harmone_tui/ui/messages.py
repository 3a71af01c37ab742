"""App-level messages: past-tense facts the runtime or a screen announces (STYLE b.2).

The runtime never imports Textual; the session's callbacks turn its listener calls into these
messages. Dense data is not sent as messages: screens pull the telemetry arrays on a timer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from mape.events import Event
    from mape.policy import Policy


class ProgressReported(Message):
    """The runtime reported progress (preparing, first-use training, loading a model)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProgressReported)


class RunStateChanged(Message):
    """The run loop paused or resumed (it takes effect between batches, after the key press)."""

    def __init__(self, state: str) -> None:
        super().__init__()
        self.state = state


class AdaptationRecorded(Message):
    """An event (switch, drift, retrain, reuse, policy change, error) was stored."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class RunFinished(Message):
    """The run ended (stream exhausted, --steps reached, or stopped); its summary is stored."""

    def __init__(self, summary: dict[str, Any]) -> None:
        super().__init__()
        self.summary = summary


class RunFailed(Message):
    """Preparing or running failed; ``error`` is the message for the user."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class PolicyApplied(Message):
    """The editor handed a new policy to the running loop (in force at the next MAPE cycle)."""

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.policy = policy


class PolicySaved(Message):
    """The editor wrote a policy file."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class PolicyEdited(Message):
    """The policy form changed; ``dirty`` says whether unapplied, unsaved edits exist."""

    def __init__(self, dirty: bool) -> None:
        super().__init__()
        self.dirty = dirty
