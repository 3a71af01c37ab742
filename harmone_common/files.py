"""The one durable atomic writer for the app's text files (policies, settings).

A policy or a settings file is written by the app while the user may be reading it, and a crash
or a full disk must not leave it half-written. So the text goes to a temporary file in the same
directory (a rename is atomic only within one file system), which is fsynced, renamed over the
target, and the directory is fsynced so that the rename itself survives a power cut. Any failure
removes the temporary file and leaves the old file as it was.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> write_text_atomic(folder / "sub" / "a.toml", "x = 1\\n")
>>> (folder / "sub" / "a.toml").read_text(), [p.name for p in (folder / "sub").iterdir()]
('x = 1\\n', ['a.toml'])
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically and durably; creates missing folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # 0o666 less the umask, as open() would make the file (mkstemp would make it private)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            if path.exists():
                os.chmod(out.fileno(), path.stat().st_mode & 0o7777)  # keep a replaced mode
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (not possible on every platform: then skipped)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
