"""The image stream: a folder or a .zip of JPEG/PNG files, in file-name order.

A zip is extracted into a directory we own, after *every* member name has been checked: a member
with an absolute path or a ``..`` component (zip-slip) makes the whole archive refused before
anything is written. Files that turn out not to be decodable images are not fatal: the stream
skips them and reports each one (name, reason) to whoever iterates it.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np

from engines.base import EngineError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def image_files(folder: Path) -> list[Path]:
    """The JPEG/PNG files directly in ``folder``, in name order (hidden files ignored)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )


def _unsafe_member(name: str) -> bool:
    """Whether a zip member name would land outside the extraction directory."""
    for flavour in (PurePosixPath(name), PureWindowsPath(name)):
        if flavour.is_absolute() or flavour.drive or flavour.root or ".." in flavour.parts:
            return True
    return False


def check_zip(archive: Path) -> list[zipfile.ZipInfo]:
    """The archive's image members, refusing the whole archive if any member is unsafe."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise EngineError(f"{archive}: not a readable zip file ({exc})") from None
    for info in members:
        if _unsafe_member(info.filename):
            raise EngineError(
                f"{archive}: refusing member {info.filename!r} "
                "(absolute path or '..' would write outside the extraction directory)"
            )
    return [
        m
        for m in members
        if not m.is_dir()
        and PurePosixPath(m.filename).suffix.lower() in IMAGE_SUFFIXES
        and not PurePosixPath(m.filename).name.startswith(".")
    ]


def extract_zip(archive: Path, into: Path) -> Path:
    """Extract the images of ``archive`` under ``into``; return the folder holding them.

    The folder is named by the archive's content hash, written under a temporary name and renamed,
    so a second run reuses it and an interrupted extraction is never mistaken for a complete one.
    Member paths are flattened to their base names, joined with '__' to keep them unique, so the
    name order of the folder is the name order of the archive.
    """
    members = check_zip(archive)
    if not members:
        raise EngineError(f"{archive}: no JPEG/PNG images")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    final = into / f"{archive.stem}-{digest}"
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
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def resolve_stream(source: Path, extract_into: Path) -> list[Path]:
    """The image files of a folder or zip, in name order; EngineError when there are none."""
    if not source.exists():
        raise EngineError(f"{source}: no such file or folder")
    if source.is_dir():
        folder = source
    elif zipfile.is_zipfile(source):
        folder = extract_zip(source, extract_into)
    else:
        raise EngineError(f"{source}: not a folder or a .zip of JPEG/PNG images")
    files = image_files(folder)
    if not files:
        raise EngineError(f"{source}: no JPEG/PNG images")
    return files


def _sniff(path: Path) -> None:
    """Refuse a file whose first bytes are not a JPEG or PNG signature.

    Checked before Pillow sees the file: once Ultralytics is imported it patches ``Image.open`` to
    try installing a HEIF plugin on every unidentified file, which offline ends in an ImportError
    (and log noise) per bad frame instead of a clean refusal.
    """
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head.startswith(JPEG_MAGIC) and not head.startswith(PNG_MAGIC):
        raise ValueError(f"not a JPEG or PNG file (starts with {head[:4].hex(' ')})")


def load_rgb(path: Path) -> np.ndarray:
    """Decode an image file to an RGB uint8 array; ValueError with the reason if it cannot."""
    from PIL import Image

    try:
        _sniff(path)
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except ValueError as exc:
        raise ValueError(f"not a decodable image ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - truncated, corrupt, unreadable: all mean "skip it"
        raise ValueError(f"not a decodable image ({type(exc).__name__}: {exc})") from None


def luminance(rgb: np.ndarray) -> float:
    """Mean luma (ITU-R BT.601 weights) of an RGB image, 0-255.

    >>> luminance(np.full((2, 2, 3), 200, dtype=np.uint8))
    200.0
    """
    weights = np.array([0.299, 0.587, 0.114])
    return round(float((rgb[..., :3].astype(float) @ weights).mean()), 6)


def decoded(
    files: list[Path], on_skip: Callable[[str, str], None]
) -> Iterator[tuple[Path, np.ndarray]]:
    """Each decodable file with its pixels; undecodable ones are reported and skipped."""
    for path in files:
        try:
            yield path, load_rgb(path)
        except ValueError as exc:
            on_skip(path.name, str(exc))
