"""The one atomic writer: a reader sees the old text or the new, never a half-written file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harmone_common.files import write_text_atomic


def test_writes_creates_the_folder_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "p.toml"
    write_text_atomic(path, "a = 1\n")
    assert path.read_text(encoding="utf-8") == "a = 1\n"
    write_text_atomic(path, "a = 2  # é\n")
    assert path.read_text(encoding="utf-8") == "a = 2  # é\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["p.toml"]  # no temp file left


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(path, "bad \udc80 surrogate\n")  # not encodable: fails mid-write
    assert path.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.toml"]


def test_a_read_only_folder_fails_with_oserror_and_changes_nothing(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    path = tmp_path / "p.toml"
    path.write_text("old\n", encoding="utf-8")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(OSError):
            write_text_atomic(path, "new\n")
    finally:
        tmp_path.chmod(0o700)
    assert path.read_text(encoding="utf-8") == "old\n"


def test_a_new_file_gets_the_usual_mode_and_a_replaced_file_keeps_its_own(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.toml"
        write_text_atomic(fresh, "x\n")
        assert fresh.stat().st_mode & 0o777 == 0o644  # as open() would make it, not mkstemp's 600
        private = tmp_path / "private.toml"
        private.write_text("old\n")
        private.chmod(0o600)
        write_text_atomic(private, "new\n")
        assert private.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old_umask)
