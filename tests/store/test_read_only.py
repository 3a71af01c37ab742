"""A knowledge store that cannot be written is reported as read-only, never as corrupted."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mape.knowledge import KnowledgeError, KnowledgeStore
from tests.conftest import harmone_cmd, subprocess_env


def _store_with_a_run(root: Path) -> Path:
    store = KnowledgeStore.open(root / "knowledge.sqlite3")
    store.start_run("p", "regression", "d", {})
    store.close()
    return root / "knowledge.sqlite3"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file modes")
def test_a_read_only_store_file_is_reported_as_read_only(tmp_path: Path) -> None:
    path = _store_with_a_run(tmp_path)
    path.chmod(0o444)
    with pytest.raises(KnowledgeError, match="read-only") as info:
        KnowledgeStore.open(path)
    assert "corrupted" not in str(info.value)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_a_store_on_a_read_only_mount_is_reported_as_read_only(tmp_path: Path) -> None:
    """The store file bind-mounted read-only (as root, the only way to make it unwritable),
    in a private mount namespace; the directory stays writable."""
    path = _store_with_a_run(tmp_path)
    before = path.read_bytes()
    command = " ".join(harmone_cmd("models", "list", "--data-dir", str(tmp_path)))
    script = (
        f"mount --bind {path} {path} && mount -o remount,bind,ro {path} {path} || exit 99;"
        f" exec {command}"
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode == 99 or "Operation not permitted" in done.stderr:
        pytest.skip("no permission to make a private read-only mount here")
    assert done.returncode == 2, done.stderr
    assert "the knowledge store is read-only" in done.stderr
    assert "corrupted" not in done.stderr and "Traceback" not in done.stderr
    assert path.read_bytes() == before
