"""The image stream: a folder or a .zip of JPEG/PNG files, in file-name order.

A zip is extracted by :mod:`engines.vision.archive`, which refuses unsafe or oversized archives
before anything is written. Files that cannot be used are not fatal: the stream skips them and
reports each one (name, reason) to whoever iterates it. That includes an image above the pixel
limit, refused from its header before a byte of it is decoded, and any image is decoded reduced
to a long side of ``MAX_FRAME_SIDE`` (see :mod:`engines.vision.limits` for why).
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import EngineError
from engines.vision.archive import IMAGE_SUFFIXES, extract_zip
from engines.vision.limits import ENV_IMAGE_PIXELS, MAX_FRAME_SIDE, StreamLimits

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def image_files(folder: Path) -> list[Path]:
    """The JPEG/PNG files directly in ``folder``, in name order (hidden files ignored)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )


def resolve_stream(
    source: Path, extract_into: Path, limits: StreamLimits | None = None
) -> list[Path]:
    """The image files of a folder or zip, in name order; EngineError when there are none."""
    if not source.exists():
        raise EngineError(f"{source}: no such file or folder")
    if source.is_dir():
        folder = source
    elif zipfile.is_zipfile(source):
        folder = extract_zip(source, extract_into, limits)
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


def load_rgb(path: Path, max_pixels: int | None = None, max_side: int | None = None) -> np.ndarray:
    """Decode an image file to an RGB uint8 array; ValueError with the reason if it cannot.

    An image of more than ``max_pixels`` is refused from its header, before decoding; one with a
    side above ``max_side`` is decoded reduced to fit it (a JPEG is decoded at 1/2, 1/4 or 1/8
    scale directly, so a large photo never exists in memory at full size).
    """
    try:
        _sniff(path)
        with _open(path, max_pixels) as img:
            _check_pixels(img.size, max_pixels)
            if max_side is not None and max(img.size) > max_side:
                img.thumbnail((max_side, max_side))  # JPEG: decodes at a reduced scale
            return np.asarray(img.convert("RGB"))
    except ValueError as exc:
        raise ValueError(f"not a decodable image ({exc})") from None
    except _TooLarge as exc:
        raise ValueError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - truncated, corrupt, unreadable: all mean "skip it"
        raise ValueError(f"not a decodable image ({type(exc).__name__}: {exc})") from None


class _TooLarge(Exception):
    """An image above the pixel limit (a reason of its own, not "not decodable")."""


def _open(path: Path, max_pixels: int | None) -> Any:
    """``Image.open`` (header only) without Pillow's decompression-bomb warning.

    Our pixel limit is the check, made right after on the same header; Pillow's own warning
    (above 89 MP) would only print noise over the TUI. Its error (above 179 MP) is kept, and
    reported as our limit being exceeded; a user who raises our limit past Pillow's raises
    Pillow's with it.
    """
    from PIL import Image

    if max_pixels is not None and max_pixels > (Image.MAX_IMAGE_PIXELS or max_pixels):
        Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(path)
        except Image.DecompressionBombError as exc:
            raise _TooLarge(f"above the pixel limit ({exc})") from None


def _check_pixels(size: tuple[int, int], max_pixels: int | None) -> None:
    width, height = size
    if max_pixels is not None and width * height > max_pixels:
        raise _TooLarge(
            f"{width} x {height} = {width * height:,} pixels, above the limit of {max_pixels:,}"
            f" (set ${ENV_IMAGE_PIXELS} to raise it)"
        )


def luminance(rgb: np.ndarray) -> float:
    """Mean luma (ITU-R BT.601 weights) of an RGB image, 0-255.

    >>> luminance(np.full((2, 2, 3), 200, dtype=np.uint8))
    200.0
    """
    weights = np.array([0.299, 0.587, 0.114])
    return round(float((rgb[..., :3].astype(float) @ weights).mean()), 6)


def decoded(
    files: list[Path],
    on_skip: Callable[[str, str], None],
    max_pixels: int | None = None,
    max_side: int | None = MAX_FRAME_SIDE,
) -> Iterator[tuple[Path, np.ndarray]]:
    """Each usable file with its pixels, one at a time; the others are reported and skipped."""
    for path in files:
        try:
            yield path, load_rgb(path, max_pixels, max_side)
        except ValueError as exc:
            on_skip(path.name, str(exc))
