"""The TUI session catches the error family once: a user's error is its line, never a traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from engines.base import EngineError
from engines.energy import EnergyError
from harmone_common.errors import HarmoneError
from harmone_tui.outputs import OutputError
from harmone_tui.start_versions import VersionUnusable
from mape.knowledge import KnowledgeError
from mape.policy import PolicyError
from tests.ui.harness import fake_session

# The user-facing error classes a run can end with. VersionUnusable and OutputError were missing
# from the session's list of names, so they were shown with a traceback.
USER_ERRORS = [EngineError, EnergyError, KnowledgeError, PolicyError, OutputError, VersionUnusable]


def failed_with(data_dir: Path, error: BaseException) -> Any:
    """A fake run whose start-up ends with ``error`` (raised right after prepare)."""
    session = fake_session(data_dir, steps=50)

    def fail(_runtime: Any) -> None:
        raise error

    session.after_prepare = fail
    asyncio.run(session.start())
    return session


@pytest.mark.parametrize("cls", USER_ERRORS, ids=lambda cls: cls.__name__)
def test_a_user_error_is_shown_as_its_line(cls: type[HarmoneError], fake_data_dir: Path) -> None:
    session = failed_with(fake_data_dir, cls("week.csv: line 7: 'abc' is not a number"))
    assert session.state == "failed"
    assert session.error == "week.csv: line 7: 'abc' is not a number"
    assert session.details == ""


def test_a_hint_follows_the_line(fake_data_dir: Path) -> None:
    session = failed_with(fake_data_dir, HarmoneError("no such run", hint="see `runs list`"))
    assert session.error == "no such run (hint: see `runs list`)" and session.details == ""


def test_a_bug_keeps_its_traceback(fake_data_dir: Path) -> None:
    session = failed_with(fake_data_dir, ZeroDivisionError("division by zero"))
    assert session.error == "ZeroDivisionError: division by zero"
    assert "Traceback" in session.details
