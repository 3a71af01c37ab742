"""A zip of frames, extracted safely into a directory we own.

Every member is checked from the central directory before anything is written, and one bad
member refuses the whole archive: a name with an absolute path or a ``..`` component (zip-slip),
a symbolic link, more members, more bytes or a higher compression ratio than
:class:`engines.vision.limits.StreamLimits` allows. The sizes checked are the declared ones, and
they bind: ``zipfile`` stops reading a member at its declared size and fails its CRC check if the
data goes on, so a forged size cannot make extraction write more than was checked. Members are
copied to disk one at a time in chunks and the archive is hashed in chunks, so memory stays flat
however large the archive.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath

from engines.base import EngineError
from engines.vision.limits import ENV_ZIP_BYTES, ENV_ZIP_MEMBERS, RATIO_FLOOR, StreamLimits

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def _unsafe_member(name: str) -> bool:
    """Whether a zip member name would land outside the extraction directory."""
    for flavour in (PurePosixPath(name), PureWindowsPath(name)):
        if flavour.is_absolute() or flavour.drive or flavour.root or ".." in flavour.parts:
            return True
    return False


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    """A member stored as a symbolic link (Unix mode in the high half of ``external_attr``)."""
    return stat.S_ISLNK(info.external_attr >> 16)


def _is_image(info: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(info.filename)
    hidden = path.name.startswith(".")
    return not info.is_dir() and path.suffix.lower() in IMAGE_SUFFIXES and not hidden


def check_zip(archive: Path, limits: StreamLimits | None = None) -> list[zipfile.ZipInfo]:
    """The archive's image members, refusing the whole archive if any member is unsafe."""
    limits = limits or StreamLimits()
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise EngineError(f"{archive}: not a readable zip file ({exc})") from None
    if len(members) > limits.max_zip_members:
        raise EngineError(
            f"{archive}: {len(members):,} members, above the limit of {limits.max_zip_members:,}"
            f" (set ${ENV_ZIP_MEMBERS} to raise it)"
        )
    for info in members:
        if _unsafe_member(info.filename):
            raise EngineError(
                f"{archive}: refusing member {info.filename!r} "
                "(absolute path or '..' would write outside the extraction directory)"
            )
        if _is_symlink(info):
            raise EngineError(f"{archive}: refusing member {info.filename!r} (a symbolic link)")
    images = [m for m in members if _is_image(m)]
    _check_sizes(archive, images, limits)
    return images


def _check_sizes(archive: Path, images: list[zipfile.ZipInfo], limits: StreamLimits) -> None:
    """Refuse what extracting ``images`` would write, if it is too much or suspiciously much."""
    total = sum(m.file_size for m in images)
    packed = sum(m.compress_size for m in images)
    if total > RATIO_FLOOR and total > limits.max_zip_ratio * max(packed, 1):
        raise EngineError(
            f"{archive}: images of {total:,} bytes packed into {packed:,}, a compression ratio of"
            f" {total / max(packed, 1):,.0f}:1 (JPEG and PNG barely compress; above"
            f" {limits.max_zip_ratio:.0f}:1 this is a zip bomb)"
        )
    if total > limits.max_zip_bytes:
        raise EngineError(
            f"{archive}: its images would extract to {total:,} bytes, above the limit of"
            f" {limits.max_zip_bytes:,} (extract it yourself and give the folder, or set"
            f" ${ENV_ZIP_BYTES} to raise it)"
        )


def _digest(archive: Path) -> str:
    """The archive's content hash, read in chunks (an archive may be larger than memory)."""
    with archive.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:16]


def extract_zip(archive: Path, into: Path, limits: StreamLimits | None = None) -> Path:
    """Extract the images of ``archive`` under ``into``; return the folder holding them.

    The folder is named by the archive's content hash, written under a temporary name and renamed,
    so a second run reuses it and an interrupted extraction is never mistaken for a complete one.
    Member paths are flattened to their base names, joined with '__' to keep them unique, so the
    name order of the folder is the name order of the archive.
    """
    members = check_zip(archive, limits)
    if not members:
        raise EngineError(f"{archive}: no JPEG/PNG images")
    final = into / f"{archive.stem}-{_digest(archive)}"
    if final.is_dir():
        return final
    into.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=into))
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in members:
                flat = "__".join(PurePosixPath(info.filename).parts)
                with zf.open(info) as src, (tmp / flat).open("wb") as dst:
                    shutil.copyfileobj(src, dst)
        tmp.rename(final)
    except FileExistsError:
        shutil.rmtree(tmp, ignore_errors=True)  # extracted meanwhile by another process
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)  # corrupt, encrypted or of an unknown method
        raise EngineError(f"{archive}: cannot extract ({exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
