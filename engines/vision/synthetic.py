"""A generated, labelled dash-cam-like dataset to train the YOLO models offline.

The bundled frames have no labels and nothing may be downloaded, so the detectors learn one class
("vehicle") from drawn road scenes: a sky gradient, buildings and trees at the horizon (things that
are *not* vehicles), a road in perspective with lane marks, and cars seen from behind (body, rear
window, tail lights, plate, bumper, wheels) whose size grows towards the camera. Brightness,
colours and noise vary per image, all drawn from one seeded generator, so a given seed always gives
the same dataset.

The layout is the one Ultralytics reads: ``images/{train,val}``, ``labels/{train,val}`` (one
``class cx cy w h`` line per box, normalised) and ``data.yaml`` with absolute paths. The dataset is
written into a temporary directory and renamed into place, so a half-written dataset is never used.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL.ImageDraw import ImageDraw

CLASS_NAMES = ("vehicle",)
DATA_YAML = "data.yaml"
DEFAULT_COUNT = 120
DEFAULT_WIDTH = 320
VAL_FRACTION = 0.2

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class DatasetSpec:
    """What to generate; the directory name encodes it, so different specs never collide."""

    count: int = DEFAULT_COUNT
    width: int = DEFAULT_WIDTH
    seed: int = 7

    @property
    def height(self) -> int:
        return self.width * 9 // 16

    @property
    def dirname(self) -> str:
        return f"synthetic-{self.count}x{self.width}-seed{self.seed}"


def _colour(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    r, g, b = (int(c) for c in rng.integers(lo, hi, size=3))
    return (r, g, b)


def _car_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    """Mostly white, black, grey and silver, as on real roads; sometimes a saturated colour."""
    if rng.random() < 0.7:
        v = int(rng.integers(15, 245))
        r, g, b = (int(np.clip(v + t, 0, 255)) for t in rng.integers(-8, 9, size=3))
        return (r, g, b)
    return _colour(rng, 20, 230)


def _background(rng: np.random.Generator, w: int, h: int, horizon: int) -> np.ndarray:
    """Sky (blue gradient or overcast grey) above the horizon, grey ground below."""
    img = np.zeros((h, w, 3), dtype=float)
    if rng.random() < 0.5:
        top = np.array([rng.integers(40, 130), rng.integers(90, 170), rng.integers(170, 250)])
        low = np.minimum(top + rng.integers(40, 110), 250)
    else:
        top = np.full(3, rng.integers(150, 235)) + rng.integers(-10, 10, size=3)
        low = np.minimum(top + rng.integers(0, 25), 250)
    t = np.linspace(0.0, 1.0, horizon)[:, None, None]
    img[:horizon] = top * (1 - t) + low * t
    img[horizon:] = np.array([rng.integers(60, 140)] * 3) + rng.integers(-12, 12, size=3)
    return img


def _draw_scenery(draw: ImageDraw, rng: np.random.Generator, w: int, horizon: int) -> None:
    """Buildings (with window grids), trees and poles: shapes that must not be detected."""
    x = int(rng.integers(-20, 10))
    while x < w:
        bw = int(rng.integers(w // 12, w // 4))
        bh = int(rng.integers(horizon // 4, horizon))
        if rng.random() < 0.5:
            wall = _colour(rng, 60, 210)
            draw.rectangle([x, horizon - bh, x + bw, horizon], fill=wall)
            pane = _colour(rng, 20, 120)
            step = max(4, bw // int(rng.integers(3, 7)))
            for wx in range(x + 2, x + bw - step // 2, step):
                for wy in range(horizon - bh + 3, horizon - step // 2, step):
                    draw.rectangle([wx, wy, wx + step // 2, wy + step // 2], fill=pane)
        else:
            green = (int(rng.integers(20, 70)), int(rng.integers(60, 130)), 40)
            draw.ellipse([x, horizon - bh, x + bw, horizon + bh // 5], fill=green)
        x += bw + int(rng.integers(0, w // 10))
    for _ in range(int(rng.integers(0, 4))):
        px = int(rng.integers(0, w))
        draw.line([(px, int(rng.integers(0, horizon // 2))), (px, horizon + 8)], fill=(50, 50, 50))


def _draw_road(draw: ImageDraw, rng: np.random.Generator, w: int, h: int, horizon: int) -> None:
    vanish = w // 2 + int(rng.integers(-w // 8, w // 8))
    grey = int(rng.integers(45, 95))
    corners = [(vanish - 4, horizon), (vanish + 4, horizon), (w + w // 3, h), (-w // 3, h)]
    draw.polygon(corners, fill=(grey, grey, grey))
    paint = (230, 230, 230) if rng.random() < 0.7 else (230, 200, 40)
    for lane in (-0.45, 0.0, 0.45):
        for k in range(6):
            a, b = k / 6, (k + 0.5) / 6
            xa = vanish + (lane * w) * a
            xb = vanish + (lane * w) * b
            ya = horizon + (h - horizon) * a
            yb = horizon + (h - horizon) * b
            draw.line([(xa, ya), (xb, yb)], fill=paint, width=max(1, int(3 * b)))


def _draw_dark_clutter(
    draw: ImageDraw, rng: np.random.Generator, w: int, h: int, horizon: int
) -> None:
    """Dark things that are not vehicles (tree shadows on the road, doorways, underpasses), so
    that darkness alone is never a reason to see a car."""
    for _ in range(int(rng.integers(0, 5))):
        cx, cy = rng.uniform(0, w), rng.uniform(horizon, h)
        rx = rng.uniform(w * 0.05, w * 0.3)
        ry = rx * rng.uniform(0.1, 0.4)
        v = int(rng.integers(5, 45))
        draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=(v, v, v))
    for _ in range(int(rng.integers(0, 3))):
        x, bw = rng.uniform(0, w), rng.uniform(w * 0.03, w * 0.15)
        bh = rng.uniform(h * 0.05, h * 0.2)
        v = int(rng.integers(0, 40))
        draw.rectangle([x, horizon - bh, x + bw, horizon + 2], fill=(v, v, v))


def _draw_car(draw: ImageDraw, rng: np.random.Generator, x0: float, y1: float, cw: float) -> Box:
    """A car seen from behind, bottom-left at (x0, y1), width ``cw``; returns its box."""
    ch = cw * float(rng.uniform(0.65, 1.15))  # saloons to vans
    y0 = y1 - ch

    def part(fx0: float, fy0: float, fx1: float, fy1: float) -> list[float]:
        """A rectangle given as fractions of the car's box."""
        return [x0 + cw * fx0, y0 + ch * fy0, x0 + cw * fx1, y0 + ch * fy1]

    draw.ellipse(part(-0.05, 0.9, 1.05, 1.06), fill=(20, 20, 20))  # shadow on the road
    body = _car_colour(rng)
    draw.rounded_rectangle(part(0.0, 0.3, 1.0, 0.9), radius=max(1, int(cw * 0.06)), fill=body)
    draw.rounded_rectangle(part(0.12, 0.0, 0.88, 0.34), radius=max(1, int(cw * 0.08)), fill=body)
    draw.rectangle(part(0.18, 0.06, 0.82, 0.3), fill=_colour(rng, 20, 80))
    red = (int(rng.integers(170, 255)), 20, 20)
    draw.rectangle(part(0.04, 0.4, 0.2, 0.52), fill=red)
    draw.rectangle(part(0.8, 0.4, 0.96, 0.52), fill=red)
    draw.rectangle(part(0.38, 0.58, 0.62, 0.7), fill=(225, 225, 210))
    draw.rectangle(part(0.0, 0.74, 1.0, 0.9), fill=(30, 30, 30))
    draw.rectangle(part(0.05, 0.86, 0.25, 1.0), fill=(12, 12, 12))
    draw.rectangle(part(0.75, 0.86, 0.95, 1.0), fill=(12, 12, 12))
    return (x0, y0, x0 + cw, y1)


def render_scene(rng: np.random.Generator, w: int, h: int) -> tuple[np.ndarray, list[Box]]:
    """One RGB scene (uint8, h x w x 3) and its vehicle boxes in pixels (x0, y0, x1, y1)."""
    from PIL import Image, ImageDraw, ImageFilter

    horizon = int(h * rng.uniform(0.35, 0.55))
    img = Image.fromarray(_background(rng, w, h, horizon).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    _draw_scenery(draw, rng, w, horizon)
    _draw_road(draw, rng, w, h, horizon)
    _draw_dark_clutter(draw, rng, w, h, horizon)
    boxes: list[Box] = []
    bottoms = sorted(rng.uniform(horizon + 4, h * 1.1, size=int(rng.integers(0, 6))))
    for y1 in bottoms:  # far to near, so nearer cars hide farther ones
        depth = (y1 - horizon) / (h - horizon)
        cw = w * (0.03 + 0.26 * depth) * float(rng.uniform(0.8, 1.2))
        x0 = float(rng.uniform(-0.2 * cw, w - 0.8 * cw))
        box = _draw_car(draw, rng, x0, float(y1), cw)
        boxes = [b for b in boxes if not _covered(b, box)] + [box]
    visible_h = h
    if rng.random() < 0.4:  # the car's own hood along the bottom, as on many dash cams
        visible_h = int(h * rng.uniform(0.85, 0.95))
        hood = [-w // 2, visible_h, w + w // 2, h + (h - visible_h) * 3]
        dark = int(rng.integers(5, 40))
        draw.ellipse(hood, fill=(dark, dark, dark) if rng.random() < 0.5 else _car_colour(rng))
    if rng.random() < 0.3:  # windscreen pillars in the top corners
        v = int(rng.integers(0, 30))
        reach, drop = w * rng.uniform(0.05, 0.25), h * rng.uniform(0.2, 0.6)
        draw.polygon([(0, 0), (reach, 0), (0, drop)], fill=(v, v, v))
        draw.polygon([(w, 0), (w - reach, 0), (w, drop)], fill=(v, v, v))
    img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.0, 0.8))))
    arr = np.asarray(img, dtype=float) * rng.uniform(0.7, 1.15) * _shading(rng, w, h)
    arr += rng.normal(0.0, rng.uniform(2.0, 10.0), size=arr.shape)
    clipped = [c for b in boxes if (c := _clip(b, w, visible_h)) is not None]
    return np.clip(arr, 0, 255).astype(np.uint8), clipped


def _shading(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A smooth multiplicative light field (coarse and finer blotches), so that no surface is flat
    and the detector must learn shapes rather than uniform colours."""
    from PIL import Image

    field = np.ones((h, w), dtype=float)
    for cells, strength in ((4, 0.25), (16, 0.12)):
        noise = rng.normal(0.0, 1.0, size=(cells * h // w + 1, cells)).astype(np.float32)
        smooth = np.asarray(Image.fromarray(noise).resize((w, h), Image.Resampling.BICUBIC))
        field += strength * rng.uniform(0.3, 1.0) * smooth
    return np.clip(field, 0.4, 1.6)[..., None]


def _covered(old: Box, new: Box) -> bool:
    """Whether a later (nearer) car hides most of an earlier one."""
    ix = max(0.0, min(old[2], new[2]) - max(old[0], new[0]))
    iy = max(0.0, min(old[3], new[3]) - max(old[1], new[1]))
    area = (old[2] - old[0]) * (old[3] - old[1])
    return area > 0 and ix * iy / area > 0.6


def _clip(box: Box, w: int, h: int) -> Box | None:
    x0, y0 = max(0.0, box[0]), max(0.0, box[1])
    x1, y1 = min(float(w), box[2]), min(float(h), box[3])
    return (x0, y0, x1, y1) if x1 - x0 >= 3 and y1 - y0 >= 3 else None


def _label_lines(boxes: list[Box], w: int, h: int) -> str:
    return "".join(
        f"0 {(b[0] + b[2]) / 2 / w:.6f} {(b[1] + b[3]) / 2 / h:.6f} "
        f"{(b[2] - b[0]) / w:.6f} {(b[3] - b[1]) / h:.6f}\n"
        for b in boxes
    )


def generate(root: Path, spec: DatasetSpec) -> Path:
    """Write the dataset of ``spec`` under ``root`` (if not already there); return its data.yaml."""
    from PIL import Image

    final = root / spec.dirname
    if (final / DATA_YAML).exists():
        return final / DATA_YAML
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-synthetic-", dir=root))
    rng = np.random.default_rng(spec.seed)
    n_val = max(1, round(spec.count * VAL_FRACTION))
    for i in range(spec.count):
        split = "val" if i >= spec.count - n_val else "train"
        image, boxes = render_scene(rng, spec.width, spec.height)
        for kind in ("images", "labels"):
            (tmp / kind / split).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(tmp / "images" / split / f"{i:05d}.jpg", quality=90)
        labels = _label_lines(boxes, spec.width, spec.height)
        (tmp / "labels" / split / f"{i:05d}.txt").write_text(labels)
    names = "\n".join(f"  {k}: {n}" for k, n in enumerate(CLASS_NAMES))
    (tmp / DATA_YAML).write_text(
        f"# generated by engines.vision.synthetic ({spec})\n"
        f"path: {final.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n"
    )
    try:
        tmp.rename(final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process won the race (same content)
    return final / DATA_YAML


def training_images(data_yaml: Path) -> list[Path]:
    """The training images of a generated dataset, in name order."""
    return sorted((data_yaml.parent / "images" / "train").glob("*.jpg"))
