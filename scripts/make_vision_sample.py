"""Build the bundled vision stream ``sample_data/vision/stream/`` from the BDD100K frames.

Re-runnable and deterministic: the same source frames give byte-identical output.

1. Day part: the source frames whose mean luma is at least ``DAY_MIN_LUMA`` (the day-looking ones;
   one night frame of the 41 is left out), in name order, downscaled to 640x360.
2. Drift part: the same day frames again, made night-like: gamma 2.2 on the 0-1 intensities, then
   x0.6 brightness, a slight blue cast (R x0.85, B x1.1) and Gaussian sensor noise (sigma 3 levels,
   seeded). Their mean luma falls from ~110 to ~30, which the luminance drift detector sees.

Files are named ``NNN_day_<source>.jpg`` / ``NNN_night_<source>.jpg`` so that name order is
stream order. Usage: ``python scripts/make_vision_sample.py [--source DIR] [--out DIR]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("/work/shared/data/bdd100k")
OUT = ROOT / "sample_data" / "vision" / "stream"
SIZE = (640, 360)
QUALITY = 80
DAY_MIN_LUMA = 70.0
GAMMA = 2.2
NIGHT_GAIN = 0.6
NIGHT_TINT = np.array([0.85, 1.0, 1.1])
NOISE_SIGMA = 3.0
SEED = 7


def luma(rgb: np.ndarray) -> float:
    return float((rgb.astype(float) @ np.array([0.299, 0.587, 0.114])).mean())


def nightify(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The night-like version of a day frame (see the module docstring)."""
    x = (rgb.astype(float) / 255.0) ** GAMMA * NIGHT_GAIN * NIGHT_TINT * 255.0
    x += rng.normal(0.0, NOISE_SIGMA, size=x.shape)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def save(rgb: np.ndarray, path: Path) -> None:
    Image.fromarray(rgb).save(path, format="JPEG", quality=QUALITY, optimize=True)


def build(source: Path, out: Path) -> list[Path]:
    frames = []
    for path in sorted(source.glob("*.jpg")):
        with Image.open(path) as img:
            rgb = np.asarray(img.convert("RGB").resize(SIZE, Image.Resampling.LANCZOS))
        if luma(rgb) >= DAY_MIN_LUMA:
            frames.append((path.stem, rgb))
    if not frames:
        raise SystemExit(f"{source}: no day-looking JPEG frames found")
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.jpg"):
        stale.unlink()
    rng = np.random.default_rng(SEED)
    written = []
    for i, (stem, rgb) in enumerate(frames):
        written.append(out / f"{i:03d}_day_{stem}.jpg")
        save(rgb, written[-1])
    for i, (stem, rgb) in enumerate(frames, start=len(frames)):
        written.append(out / f"{i:03d}_night_{stem}.jpg")
        save(nightify(rgb, rng), written[-1])
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="folder of BDD100K JPEGs")
    parser.add_argument("--out", type=Path, default=OUT, help="stream folder to (re)write")
    args = parser.parse_args()
    written = build(args.source, args.out)
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} frames to {args.out} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
