"""`harmone doctor` run as the user runs it: a subprocess, text and JSON, healthy and corrupted."""

from __future__ import annotations

import doctest
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harmone_tui.commands import doctor

REPO = Path(__file__).resolve().parents[1]


def run_doctor(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["HARMONE_CONFIG_DIR"] = str(tmp_path / "config")
    env.pop("HARMONE_DATA_DIR", None)
    env.pop("HARMONE_J_PER_CPU_S", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "harmone_tui", "doctor", "--data-dir", str(tmp_path), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def test_text_report(tmp_path: Path) -> None:
    out = run_doctor(tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    backend_line = next(line for line in text.splitlines() if line.strip().startswith("backend"))
    assert backend_line.split()[-1] in ("rapl", "estimated")
    assert "J per CPU-second" in text
    assert str(tmp_path) in text
    assert "knowledge" in text and "not created yet" in text
    assert "regression" in text and "available" in text
    assert not (tmp_path / "knowledge.sqlite3").exists()  # doctor only looks


def test_json_report(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "w.bin").write_bytes(b"x" * 2048)
    out = run_doctor(tmp_path, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["energy"]["source"] in ("rapl", "estimated")
    assert report["energy"]["reason"]
    assert report["energy"]["j_per_cpu_s"] > 0
    assert report["data_dir"] == {"path": str(tmp_path), "exists": True, "bytes": 2048}
    assert report["engines"]["regression"]["available"] is True
    assert set(report["packages"]) >= {"textual", "numpy", "tensorflow", "torch"}
    assert "pyRAPL" not in report["packages"]  # nothing needs it: it is listed as optional
    assert "not used yet" in report["optional"]["pyRAPL"]["for"]
    metrics = report["optional"]["prometheus_client"]
    assert metrics["version"] != "not installed" and "--metrics-port" in metrics["for"]
    assert report["knowledge"]["status"] == "not created yet"


def test_corrupted_store_reported_and_untouched(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 64
    store = tmp_path / "knowledge.sqlite3"
    store.write_bytes(garbage)
    out = run_doctor(tmp_path)
    assert out.returncode != 0
    assert "CORRUPTED" in out.stdout and "knowledge store is corrupted" in out.stdout
    assert store.read_bytes() == garbage
    assert sorted(p.name for p in tmp_path.iterdir()) == ["knowledge.sqlite3"]
    as_json = json.loads(run_doctor(tmp_path, "--json").stdout)
    assert as_json["knowledge"]["status"] == "corrupted"
    assert store.read_bytes() == garbage


def test_healthy_store_counts(tmp_path: Path) -> None:
    from mape.knowledge import KnowledgeStore

    store = KnowledgeStore.open(tmp_path / "knowledge.sqlite3")
    run_id = store.start_run("single-linear", "regression", "sample", {})
    store.finish_run(run_id, "finished", {})
    store.close()
    report = doctor.knowledge_status(tmp_path)
    assert report["status"] == "ok" and report["runs"] == 1 and report["model_versions"] == 0


def test_run_imports_no_heavy_frameworks(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from harmone_tui.cli import main\n"
        f"rc = main(['doctor', '--data-dir', {str(tmp_path)!r}, '--json'])\n"
        "heavy = ('tensorflow', 'torch', 'textual', 'ultralytics', 'sklearn', 'pandas')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules), rc)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "LOADED [] 0"


@pytest.mark.parametrize("label", ["numpy", "no-such-package-xyz"])
def test_package_version(label: str) -> None:
    version = doctor.package_version(label)
    assert (version == "not installed") == (label == "no-such-package-xyz")


def test_doctests() -> None:
    assert doctest.testmod(doctor).failed == 0
