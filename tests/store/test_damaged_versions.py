"""A damaged stored version never ends a run with a traceback: the run says which directory is
damaged and what to do, and goes on with the newest valid version (or trains a new one)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from harmone_tui.snapshot import RunSnapshot
from tests.listening import OnSnapshot
from tests.store.helpers import error_reasons, repo_at, rewrite, run_policy, set_row, train_version


def _pkl(v2_dir: Path) -> bytes:
    return (v2_dir / "model.pkl").read_bytes()


def _meta(v2_dir: Path, **changes: object) -> bytes:
    meta = json.loads((v2_dir / "meta.json").read_text())
    meta.update(changes)
    if changes.get("scaler") == "drop":
        del meta["scaler"]
    return json.dumps(meta).encode()


DAMAGES = {
    "truncated model.pkl": ("model.pkl", lambda d: _pkl(d)[: len(_pkl(d)) // 2], False),
    "empty model.pkl": ("model.pkl", lambda d: b"", False),
    "missing model.pkl": ("model.pkl", lambda d: None, False),
    "missing meta.json": ("meta.json", lambda d: None, False),
    "invalid meta.json": ("meta.json", lambda d: b"{not json", False),
    "edited meta.json": ("meta.json", lambda d: _meta(d, validation_r2=0.99), False),
    "meta without scaler (recorded)": ("meta.json", lambda d: _meta(d, scaler="drop"), True),
    "zero-span scaler (recorded)": (
        "meta.json",
        lambda d: _meta(d, scaler={"min": 5.0, "max": 5.0}),
        True,
    ),
    "wrong object in the pickle (recorded)": (
        "model.pkl",
        lambda d: pickle.dumps(np.arange(3.0)),
        True,
    ),
    "truncated model.pkl (recorded)": ("model.pkl", lambda d: _pkl(d)[:40], True),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_newest_version_falls_back_to_the_previous_one(
    tmp_path: Path, damage: str
) -> None:
    repo = repo_at(tmp_path)
    train_version(repo)
    v2 = train_version(repo)
    name, make, record = DAMAGES[damage]
    rewrite(v2, name, make(v2.directory), record)

    runtime = run_policy(tmp_path)

    assert runtime.status == "finished"
    assert set(runtime.telemetry.version[:30].tolist()) == {1}
    (reason,) = error_reasons(runtime)
    assert str(v2.directory) in reason and "damaged" in reason and "trying v1" in reason
    assert "harmone models remove regression linear 2" in reason


def test_with_no_valid_version_left_a_new_one_is_trained_and_the_run_says_so(
    tmp_path: Path,
) -> None:
    repo = repo_at(tmp_path)
    v1 = train_version(repo)
    rewrite(v1, "model.pkl", b"", record=False)
    said: list[str] = []

    runtime = run_policy(tmp_path, said=said)

    assert runtime.status == "finished"
    assert set(runtime.telemetry.version[:30].tolist()) == {2}
    assert "no valid version of linear is left: training a new one" in said
    (reason,) = error_reasons(runtime)
    assert str(v1.directory) in reason and "no valid version is left" in reason


def test_a_row_whose_path_leaves_the_data_dir_is_refused_with_one_line(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    train_version(repo)
    v2 = train_version(repo)
    set_row(v2, path="../../../../etc")

    runtime = run_policy(tmp_path)

    assert runtime.status == "finished"
    assert set(runtime.telemetry.version[:30].tolist()) == {1}
    (reason,) = error_reasons(runtime)
    assert "regression linear v2" in reason and "'../../../../etc' is outside" in reason
    assert [v.version for v in runtime.repo.versions("regression", "linear")] == [1]


class _Shell:
    """What a crafted model.pkl holds: unpickling it runs a shell command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, (self.command,))


@pytest.mark.parametrize("record", [False, True], ids=["unrecorded", "checksums-rewritten"])
def test_a_crafted_pickle_is_refused_without_running_its_code(tmp_path: Path, record: bool) -> None:
    repo = repo_at(tmp_path)
    train_version(repo)
    v2 = train_version(repo)
    marker = tmp_path / "pwned"
    rewrite(v2, "model.pkl", pickle.dumps(_Shell(f"touch {marker}")), record)

    runtime = run_policy(tmp_path)

    assert not marker.exists()
    assert runtime.status == "finished"
    assert set(runtime.telemetry.version[:30].tolist()) == {1}
    (reason,) = error_reasons(runtime)
    expected = "refers to posix.system" if record else "does not match its recorded sha256"
    assert expected in reason and str(v2.directory) in reason


def test_compare_never_adopts_a_damaged_or_crafted_user_version(tmp_path: Path) -> None:
    import io

    from harmone_tui.commands.compare import compare_policies
    from harmone_tui.settings import RunSettings

    user = tmp_path / "user"
    repo = repo_at(user)
    train_version(repo)
    v2 = train_version(repo)
    marker = tmp_path / "pwned"
    rewrite(v2, "model.pkl", pickle.dumps(_Shell(f"touch {marker}")), record=True)
    err = io.StringIO()

    rows = compare_policies(
        ["single-linear"],
        tmp_path / "out",
        RunSettings(data_dir=user, steps=50, speed=None),
        user / "policies",
        err,
    )

    assert not marker.exists()
    assert rows[0]["errors"] == 0 and rows[0]["steps"] == 50
    said = err.getvalue()
    assert "not using regression linear v2" in said and "refers to posix.system" in said
    assert "using linear v1 from" in said


def test_reusing_a_version_damaged_during_the_run_is_an_error_event_not_a_crash(
    tmp_path: Path,
) -> None:
    import asyncio

    from harmone_tui.runtime import Runtime
    from harmone_tui.settings import RunSettings
    from mape.policy_file import resolve_policy

    repo = repo_at(tmp_path)
    train_version(repo)
    retrained = train_version(repo, origin="retrain")  # not a start version: loaded on reuse
    policy, source, text = resolve_policy("single-linear")
    runtime = Runtime(RunSettings(data_dir=tmp_path, steps=600), policy, source, text)

    done: list[bool] = []

    def listen(snap: RunSnapshot) -> None:
        if snap.step >= 300 and not done:
            done.append(True)
            rewrite(retrained, "model.pkl", b"", record=False)
            runtime.reuse_version("linear", 2, "test", {})

    runtime.listeners.append(OnSnapshot(listen))
    summary = asyncio.run(runtime.run())

    assert summary["status"] == "finished" and summary["steps"] == 600
    assert set(runtime.telemetry.version[:600].tolist()) == {1}
    (reason,) = error_reasons(runtime)
    assert "regression linear v2 is damaged" in reason
