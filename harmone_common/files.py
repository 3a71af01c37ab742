"""The one durable way to replace a file: a crash leaves the old file or the new, never half.

A temporary file in the same directory (so the rename stays on one file system) is written and
fsynced, renamed over the target, and the directory is fsynced so the rename itself survives a
power cut. The temporary name carries the pid, so two processes saving the same file never write
into each other's temporary file.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8), durably; its directory is made if missing.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "sub" / "settings.toml"
    >>> write_text_atomic(target, "a = 1\\n"); write_text_atomic(target, "a = 2\\n")
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('a = 2\\n', ['settings.toml'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
