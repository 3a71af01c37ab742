"""What an image stream may cost: pixels per image, and a zip's size, member count and ratio.

A stream is user input, and images are the input where a small file can cost a lot: a
13,000 x 13,000 PNG of one colour is half a megabyte on disk and took a run to 6.4 GB; a zip of
zeros named ``.png`` expands a thousandfold. Each limit is checked before the cost is paid: an
image's size is read from its header before it is decoded, and a zip's members from its central
directory before anything is extracted.

The limits a user may legitimately need to move are environment variables rather than flags:
they concern the input, not a run's behaviour, so they should hold for every command that reads a
stream (run, TUI, compare) without each one growing options, the same way ``HARMONE_J_PER_CPU_S``
works. The ratio limit is fixed: JPEG and PNG data do not compress further (the bundled frames
deflate by 0.1 %), so only a forged archive comes near it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from engines.base import EngineError

ENV_IMAGE_PIXELS = "HARMONE_MAX_IMAGE_PIXELS"
ENV_ZIP_BYTES = "HARMONE_MAX_ZIP_BYTES"
ENV_ZIP_MEMBERS = "HARMONE_MAX_ZIP_MEMBERS"

# 50 MP takes an 8000 x 6000 photo; decoding one costs at most ~150 MB (RGB) for a moment.
DEFAULT_IMAGE_PIXELS = 50_000_000
# What extracting a zip may write under the data directory (a folder is read in place instead).
DEFAULT_ZIP_BYTES = 4 << 30
# An hour of 25 fps video is 90,000 frames; many more entries is a central-directory bomb.
DEFAULT_ZIP_MEMBERS = 100_000
# Uncompressed / compressed size of the image members, checked once they exceed RATIO_FLOOR:
# a small archive cannot do harm whatever its ratio (a one-colour PNG deflates ~190:1).
MAX_ZIP_RATIO = 100.0
RATIO_FLOOR = 64 << 20

# Frames are decoded reduced to this long side: the detector sees 320 pixels (--imgsz), and the
# runtime holds 30 frames at once while it calibrates energy (30 x 4000 x 3000 RGB is 1 GB).
MAX_FRAME_SIDE = 1280


@dataclass(frozen=True)
class StreamLimits:
    """The limits in force; :meth:`from_env` reads the user's settings."""

    max_image_pixels: int = DEFAULT_IMAGE_PIXELS
    max_zip_bytes: int = DEFAULT_ZIP_BYTES
    max_zip_members: int = DEFAULT_ZIP_MEMBERS
    max_zip_ratio: float = MAX_ZIP_RATIO

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StreamLimits:
        """The defaults, overridden by ``$HARMONE_MAX_*``; EngineError names a malformed one.

        >>> StreamLimits.from_env({"HARMONE_MAX_IMAGE_PIXELS": "1_000_000"}).max_image_pixels
        1000000
        """
        env = os.environ if environ is None else environ
        return cls(
            max_image_pixels=_positive(env, ENV_IMAGE_PIXELS, DEFAULT_IMAGE_PIXELS),
            max_zip_bytes=_positive(env, ENV_ZIP_BYTES, DEFAULT_ZIP_BYTES),
            max_zip_members=_positive(env, ENV_ZIP_MEMBERS, DEFAULT_ZIP_MEMBERS),
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise EngineError(f"${name}={raw!r}: must be a whole number above 0 (default {default:,})")
    return value
