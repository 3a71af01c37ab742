"""The files of a model version: their checksums, and writing them durably.

At commit every file of a version gets a sha256 in ``meta.json`` (and in the store's row), so a
load can tell a truncated, replaced or edited file from the one that was trained, before any of
it is unpickled. That detects damage and tampering by anyone who cannot also rewrite the store;
it is no defence against someone who can write the whole data directory (README: "Trusting a
data directory").

Commits are durable: each file and the directories are fsynced before the store records the
version, so after a power loss a recorded version has all its bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

META = "meta.json"
CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def version_files(directory: Path) -> list[Path]:
    """Every regular file of a version directory except ``meta.json``, in name order."""
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and p.relative_to(directory).as_posix() != META
    )


def checksums(directory: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of the version's files (``meta.json`` excluded)."""
    return {p.relative_to(directory).as_posix(): sha256_of(p) for p in version_files(directory)}


def content_key(files: dict[str, str]) -> str:
    """One hash for a whole version's content (for "already imported as vN")."""
    return hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a rename, a new file) durable; a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(directory: Path) -> None:
    """fsync every file and every directory under ``directory`` (itself included)."""
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            fsync_file(path)
        elif path.is_dir():
            fsync_dir(path)
    fsync_dir(directory)


def write_meta(directory: Path, meta: dict[str, Any]) -> None:
    """Write ``meta.json`` and fsync it."""
    path = directory / META
    path.write_text(json.dumps(meta, indent=2, default=str))
    fsync_file(path)


def problem_with(directory: Path, recorded: dict[str, Any]) -> str | None:
    """What is wrong with a version directory against its store row's metadata, or None.

    Checks that ``meta.json`` is there, parses, and says what the store says, and that every
    file has the checksum recorded at commit (versions written before checksums existed have
    none to check).
    """
    meta_path = directory / META
    if not meta_path.is_file():
        return f"{META} is missing"
    try:
        on_disk = json.loads(meta_path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"{META} is not valid JSON ({exc})"
    if not isinstance(on_disk, dict):
        return f"{META} is not a JSON object"
    if json.dumps(on_disk, sort_keys=True) != json.dumps(recorded, sort_keys=True, default=str):
        keys = set(on_disk) | set(recorded)
        changed = sorted(k for k in keys if on_disk.get(k) != recorded.get(k))
        return f"{META} differs from the store's record ({', '.join(changed[:4])})"
    expected = recorded.get("files")
    if expected is None:
        return None
    if not isinstance(expected, dict):
        return "the recorded checksums are not a mapping"
    present = {p.relative_to(directory).as_posix() for p in version_files(directory)}
    for name, digest in sorted(expected.items()):
        if name not in present:
            return f"{name} is missing"
        if sha256_of(directory / name) != digest:
            return f"{name} does not match its recorded sha256 (damaged or replaced)"
    extra = sorted(present - set(expected))
    if extra:
        return f"unexpected file {extra[0]} (not part of the version when it was stored)"
    return None
