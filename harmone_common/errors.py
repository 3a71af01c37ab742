"""One error family for everything a user can fix: a message and, where it helps, a hint.

Every user-facing error class of the project (``EngineError``, ``PolicyError``,
``KnowledgeError``, ``EnergyError``, ``OutputError``, ...) is a :class:`HarmoneError`, so a front
end catches one class once: the CLI prints ``harmone: error: <message>`` (and ``  hint: ...``)
and exits 2; the TUI session shows the message, never a traceback. Any other exception is a bug
and keeps its traceback.

>>> err = HarmoneError("week.csv: line 7: 'abc' is not a number", hint="fix the cell")
>>> str(err), err.hint
("week.csv: line 7: 'abc' is not a number", 'fix the cell')
>>> import pickle; again = pickle.loads(pickle.dumps(err))
>>> (str(again), again.hint)
("week.csv: line 7: 'abc' is not a number", 'fix the cell')
"""

from __future__ import annotations

from typing import Any


class HarmoneError(Exception):
    """A problem the user can fix. ``str()`` is the one line shown (it names the file, flag or
    key and what is wrong); ``hint``, when given, says what to do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the hint: errors travel back from the training worker process."""
        return (type(self), (self.message, self.hint))
