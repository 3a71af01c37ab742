"""Build sample_data/ for the regression demo from the real PeMS data in ../shared/data/pems/.

    python scripts/make_sample_data.py [--pems DIR]

- ``flow_train.csv``: the published 1,900-row HarmonE training set, copied unchanged.
- ``pems_stream.csv``: weeks 2-8 of the station's ``Flow (Veh/5 Minutes)`` column (week 1 holds
  the training rows), one ``flow`` column, with drift induced in four regimes (see REGIMES).
Deterministic: the same input gives the same files byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOW = "Flow (Veh/5 Minutes)"
WEEKS = range(2, 9)
# (first row, last row exclusive, scale, offset): flow' = scale * flow + offset
REGIMES = (
    (0, 3528, 1.0, 0.0),  # normal
    (3528, 7056, 1.5, 40.0),  # affine change: a recalibrated sensor reads 1.5x + 40
    (7056, 10584, 1.0, 0.0),  # the normal regime returns: stored version 1 should be reused
    (10584, 10**9, 1.0, 90.0),  # level shift: +90 vehicles per 5 minutes (a lane opened)
)


def read_flow(path: Path) -> list[float]:
    with path.open(newline="") as handle:
        return [float(row[FLOW]) for row in csv.DictReader(handle)]


def induce_drift(values: list[float]) -> list[float]:
    out = []
    for i, v in enumerate(values):
        scale, offset = next((s, o) for lo, hi, s, o in REGIMES if lo <= i < hi)
        out.append(round(scale * v + offset, 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pems", type=Path, default=ROOT.parent / "shared" / "data" / "pems")
    args = parser.parse_args()
    out_dir = ROOT / "sample_data"
    shutil.copyfile(args.pems / "flow_train.csv", out_dir / "flow_train.csv")
    stream: list[float] = []
    for week in WEEKS:
        stream += read_flow(args.pems / f"week{week}.csv")
    with (out_dir / "pems_stream.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["flow"])
        writer.writerows([[f"{v:g}"] for v in induce_drift(stream)])
    print(f"wrote {len(stream)} rows to {out_dir / 'pems_stream.csv'}")


if __name__ == "__main__":
    main()
