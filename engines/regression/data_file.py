"""Opening a data file without ever blocking on something that is not a file.

``--data`` or ``--train`` pointed at a FIFO used to hang in "reading data" (opening a FIFO waits
for a writer, in a thread that SIGTERM cannot stop), and ``/dev/zero`` was read until memory ran
out. So a path is refused unless it is a regular file, checked with ``stat`` before opening and
again on the open descriptor (opened non-blocking, so even a FIFO swapped in between cannot block).
Compressed files are recognised by their magic bytes (gzip, bzip2, xz, zip; zstd when the
``zstandard`` package is installed), whatever their name, and what is read after decompression is
capped at ``MAX_BYTES``.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import IO

from engines.base import EngineError
from engines.regression.limits import HEADER_BYTES, MAX_BYTES

MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
DECOMPRESS_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular_file(path: Path) -> None:
    """Raise :class:`EngineError` unless ``path`` is a readable regular file (never opens it)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise EngineError(f"{path}: file not found") from None
    except OSError as exc:
        raise EngineError(f"{path}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise EngineError(f"{path}: is a directory, expected a CSV file")
    if not stat.S_ISREG(mode):
        raise EngineError(
            f"{path}: is {_kind(mode)}, not a regular file; give a CSV file (plain or compressed)"
        )


def compression_of(head: bytes) -> str | None:
    """The compression a file's first bytes announce, or None for plain text.

    >>> compression_of(b"\\x1f\\x8b\\x08"), compression_of(b"flow\\n1\\n")
    ('gzip', None)
    """
    if head[:3] == b"BZh" and head[4:10] == b"1AY&SY":
        return "bz2"
    return next((name for magic, name in MAGIC if head.startswith(magic)), None)


class CappedReader(io.RawIOBase):
    """A raw stream over ``inner`` that serves ``prefix`` first and refuses to pass ``limit``."""

    def __init__(
        self, inner: IO[bytes], prefix: bytes, limit: int, path: Path, file: IO[bytes]
    ) -> None:
        super().__init__()
        self._inner = inner
        self._file = file
        self._prefix = prefix
        self._limit = limit
        self._path = path
        self.total = len(prefix)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        n = self._inner.readinto(buffer)  # type: ignore[attr-defined]
        self.total += n or 0
        if self.total > self._limit:
            raise EngineError(
                f"{self._path}: more than {self._limit:,} bytes of CSV text, the most harmone"
                f" reads (cut the file, e.g. with head -n)"
            )
        return n

    def close(self) -> None:
        """Close the decompressor and the file (a decompressor never closes a file it was given)."""
        self._inner.close()
        self._file.close()
        super().close()


def _decompressed(raw: IO[bytes], kind: str | None, path: Path) -> IO[bytes]:
    if kind is None:
        return raw
    if kind == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if kind == "bz2":
        import bz2

        return bz2.BZ2File(raw)  # type: ignore[return-value]
    if kind == "xz":
        import lzma

        return lzma.LZMAFile(raw)  # type: ignore[return-value]
    if kind == "zstd":
        try:
            import zstandard  # type: ignore[import-not-found]
        except ImportError:
            raise EngineError(
                f"{path}: zstd-compressed; pip install zstandard, or decompress it first"
            ) from None
        return zstandard.ZstdDecompressor().stream_reader(raw)  # type: ignore[no-any-return]
    return _zip_member(raw, path)


def _zip_member(raw: IO[bytes], path: Path) -> IO[bytes]:
    import zipfile

    try:
        archive = zipfile.ZipFile(raw)
    except zipfile.BadZipFile as exc:
        raise EngineError(f"{path}: not a readable zip file ({exc})") from None
    names = [i.filename for i in archive.infolist() if not i.is_dir()]
    csvs = [n for n in names if n.lower().endswith(".csv")]
    if len(names) != 1 and len(csvs) != 1:
        raise EngineError(
            f"{path}: the zip holds {len(names)} files; expected one CSV file (or exactly one .csv)"
        )
    return archive.open(names[0] if len(names) == 1 else csvs[0])


def open_data_file(path: Path) -> tuple[bytes, io.BufferedReader]:
    """The first line of ``path``'s (decompressed) text and a binary stream of the whole text.

    The stream still yields the first line (pandas parses the header itself); the line is
    returned apart so that the caller can sniff the separator and check the header first.
    The caller closes the stream.
    """
    check_regular_file(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise EngineError(f"{path}: cannot read ({exc.strerror})") from None
    raw = os.fdopen(fd, "rb")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise EngineError(f"{path}: not a regular file; give a CSV file (plain or compressed)")
        kind = compression_of(raw.read(16))
        raw.seek(0)
        inner = _decompressed(raw, kind, path)
        first = inner.readline(HEADER_BYTES + 1)
    except EngineError:
        raw.close()
        raise
    except DECOMPRESS_ERRORS as exc:
        raw.close()
        raise EngineError(f"{path}: cannot decompress ({kind}): {exc}") from None
    if len(first) > HEADER_BYTES:
        inner.close()
        raw.close()
        raise EngineError(
            f"{path}: the first line is longer than {HEADER_BYTES >> 10} KiB; not a CSV header"
        )
    return first, io.BufferedReader(CappedReader(inner, first, MAX_BYTES, path, raw), 1 << 20)
