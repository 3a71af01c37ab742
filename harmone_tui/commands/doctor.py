"""`harmone doctor`: what this machine can run, how energy is measured, where data lives.

It answers the questions a user has before a run fails: is the LSTM or vision engine installed,
why is energy "estimated" rather than "rapl", which coefficient is used, is the knowledge store
healthy. Package versions come from installed metadata and engine availability from
``importlib.util.find_spec``, so doctor never imports TensorFlow, torch or Textual and stays fast.
It never creates the data directory or the knowledge store: it only looks.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from harmone_tui import __version__, paths

# label -> distribution names to try, first installed wins (tensorflow-cpu is what [lstm] installs)
PACKAGES: dict[str, tuple[str, ...]] = {
    "textual": ("textual",),
    "numpy": ("numpy",),
    "pandas": ("pandas",),
    "scikit-learn": ("scikit-learn",),
    "river": ("river",),
    "tensorflow": ("tensorflow-cpu", "tensorflow"),
    "torch": ("torch",),
    "torchvision": ("torchvision",),
    "ultralytics": ("ultralytics",),
}
# Packages nothing needs to run: what each is for, so "not installed" is not read as a fault.
OPTIONAL: dict[str, str] = {
    "pyRAPL": "not used yet, kept for Harmonica MAPE files; RAPL is read from powercap directly",
    "psutil": "benchmarks only, pip install 'harmone-tui[bench]'",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--energy-profile",
        type=Path,
        metavar="FILE",
        help="check this calibration profile and report the coefficient a run given it uses",
    )


def package_version(label: str) -> str:
    """The installed version of a package, or "not installed"; reads metadata, imports nothing."""
    for dist in PACKAGES.get(label, (label,)):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def engines_status() -> dict[str, dict[str, Any]]:
    """Which engines can run here, and the install hint when one cannot."""
    lstm = _has("tensorflow")
    vision_missing = [m for m in ("torch", "ultralytics") if not _has(m)]
    return {
        "regression": {"available": True, "note": "linear and SVM via scikit-learn"},
        "lstm": {
            "available": lstm,
            "note": "tensorflow found"
            if lstm
            else "needs tensorflow: pip install 'harmone-tui[lstm]'",
        },
        "vision": {
            "available": not vision_missing,
            "note": "torch and ultralytics found"
            if not vision_missing
            else f"needs {' and '.join(vision_missing)}: pip install 'harmone-tui[vision]'",
        },
    }


def energy_status(root: Path, profile_flag: Path | None = None) -> dict[str, Any]:
    """The backend, the coefficient in force and where it came from (number, profile, family),
    and the data dir's calibration profile, which is only in force when chosen."""
    from engines.energy import EnergyError, describe_backend, resolve_coefficient
    from harmone_tui.energy_source import chosen_profile, mismatch_warning

    source, reason = describe_backend()
    problem = warning = None
    try:
        profile = chosen_profile(profile_flag)
        warning = mismatch_warning(profile)
    except EnergyError as exc:  # $HARMONE_ENERGY_PROFILE is bad: reported, a run would refuse it
        if profile_flag is not None:
            raise  # the file to check was named: one line, exit 2
        profile, problem = None, str(exc)
    try:
        value, family = resolve_coefficient(profile=profile)
    except EnergyError as exc:  # pragma: no cover - only an explicit bad value raises
        value, family = float("nan"), str(exc)
    return {
        "source": source,
        "reason": reason,
        "j_per_cpu_s": value,
        "coefficient_from": family,
        "profile": str(profile.path) if profile else None,
        "profile_problem": problem,
        "profile_warning": warning,
        "calibration_file": stored_profile_status(paths.energy_profile_file(root)),
    }


def stored_profile_status(path: Path) -> dict[str, Any]:
    """The data dir's profile (written by ``harmone energy calibrate``), if any, checked."""
    from engines.energy_profile import ProfileError, load_profile

    if not path.exists():
        return {"path": str(path), "status": "none"}
    try:
        found = load_profile(path)
    except ProfileError as exc:
        return {"path": str(path), "status": "invalid", "error": str(exc)}
    return {"path": str(path), "status": "ok", "origin": found.origin}


def dir_size(root: Path) -> int:
    """Bytes on disk under root (files only; unreadable entries are skipped, not fatal)."""
    total = 0
    for dirpath, _dirs, files in os.walk(root, onerror=lambda _e: None):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
    return total


def human_bytes(n: int) -> str:
    """Bytes for people: 0 B, 1.5 KB, 12.3 MB.

    Examples
    --------
    >>> human_bytes(0), human_bytes(1536), human_bytes(12_900_000)
    ('0 B', '1.5 KB', '12.3 MB')
    """
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def knowledge_status(root: Path) -> dict[str, Any]:
    """Open the store only if it exists: doctor must never create or repair it."""
    from mape.knowledge import KnowledgeError, KnowledgeStore

    path = paths.knowledge_file(root)
    if not path.exists():
        return {"path": str(path), "status": "not created yet"}
    if path.stat().st_size == 0:
        return {"path": str(path), "status": "empty (initialised on the first run)"}
    try:
        store = KnowledgeStore.open(path)
    except KnowledgeError as exc:
        return {"path": str(path), "status": "corrupted", "error": str(exc)}
    try:
        runs = len(store.runs(limit=1_000_000_000))
        versions = len(store.versions())
    finally:
        store.close()
    return {"path": str(path), "status": "ok", "runs": runs, "model_versions": versions}


def collect(data_dir: Path | str | None, profile_flag: Path | None = None) -> dict[str, Any]:
    root = paths.data_dir(data_dir)
    exists = root.is_dir()
    return {
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "harmone": __version__,
        "packages": {label: package_version(label) for label in PACKAGES},
        "optional": {
            label: {"version": package_version(label), "for": why}
            for label, why in OPTIONAL.items()
        },
        "engines": engines_status(),
        "energy": energy_status(root, profile_flag),
        "data_dir": {"path": str(root), "exists": exists, "bytes": dir_size(root) if exists else 0},
        "knowledge": knowledge_status(root),
    }


def render(report: dict[str, Any]) -> str:
    """Plain aligned text: one `label  value` per line, sections indented."""
    rows: list[tuple[str, str]] = [
        ("python", f"{report['python']['version']} ({report['python']['executable']})"),
        ("harmone", report["harmone"]),
        ("packages", ""),
    ]
    rows += [(f"  {k}", v) for k, v in report["packages"].items()]
    rows.append(("optional", ""))
    rows += [
        (f"  {k}", f"{v['version']} (optional: {v['for']})") for k, v in report["optional"].items()
    ]
    rows.append(("engines", ""))
    for name, eng in report["engines"].items():
        state = "available" if eng["available"] else "unavailable"
        rows.append((f"  {name}", f"{state} ({eng['note']})"))
    en = report["energy"]
    rows += [
        ("energy", ""),
        ("  backend", en["source"]),
        ("  why", en["reason"]),
        ("  coefficient", f"{en['j_per_cpu_s']:g} J per CPU-second ({en['coefficient_from']})"),
    ]
    if en["profile_problem"]:
        rows.append(("  profile", f"REFUSED: {en['profile_problem']}"))
    if en["profile_warning"]:
        rows.append(("  profile", en["profile_warning"]))
    cal = en["calibration_file"]
    if cal["status"] == "ok" and cal["path"] != en["profile"]:
        text = (
            f"{cal['path']}, not in force (use it with --energy-profile or $HARMONE_ENERGY_PROFILE)"
        )
        rows.append(("  calibration", text))
    elif cal["status"] == "invalid":
        rows.append(("  calibration", f"INVALID: {cal['error']}"))
    dd = report["data_dir"]
    size = human_bytes(dd["bytes"]) if dd["exists"] else "not created yet"
    rows.append(("data dir", f"{dd['path']} ({size})"))
    kn = report["knowledge"]
    if kn["status"] == "ok":
        text = f"ok: {kn['runs']} run(s), {kn['model_versions']} model version(s)"
    elif kn["status"] == "corrupted":
        text = f"CORRUPTED: {kn['error']}"
    else:
        text = f"{kn['status']} ({kn['path']})"
    rows.append(("knowledge", text))
    width = max(len(label) for label, _ in rows) + 2
    return "\n".join(f"{label:<{width}}{value}".rstrip() for label, value in rows)


def run(args: argparse.Namespace) -> int:
    report = collect(args.data_dir, args.energy_profile)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
    broken = report["knowledge"]["status"] == "corrupted" or report["energy"]["profile_problem"]
    return 1 if broken else 0
