"""Energy meters: RAPL on a fake powercap tree, the CPU-time estimate, coefficient precedence."""

from __future__ import annotations

import doctest
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest

from engines import energy
from engines.energy import (
    EnergyError,
    EstimatedMeter,
    RaplMeter,
    carbon_g,
    cpu_family_coefficient,
    create_meter,
    describe_backend,
    resolve_coefficient,
)

MAX_RANGE = 262_143_328_850  # a real max_energy_range_uj


def make_domain(root: Path, rel: str, name: str, uj: int, max_range: int = MAX_RANGE) -> Path:
    d = root / rel
    d.mkdir(parents=True)
    (d / "name").write_text(name + "\n")
    (d / "energy_uj").write_text(f"{uj}\n")
    (d / "max_energy_range_uj").write_text(f"{max_range}\n")
    return d


def set_uj(domain: Path, uj: int) -> None:
    (domain / "energy_uj").write_text(f"{uj}\n")


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """Two packages, each with a core subdomain, plus a psys domain that must be ignored."""
    root = tmp_path / "powercap"
    p0 = make_domain(root, "intel-rapl:0", "package-0", 1_000_000)
    p1 = make_domain(root, "intel-rapl:1", "package-1", 5_000_000)
    core = make_domain(root, "intel-rapl:0:0", "core", 700_000)
    make_domain(root, "intel-rapl:2", "psys", 9_000_000)
    return root, p0, p1, core


def test_doctests() -> None:
    result = doctest.testmod(energy)
    assert result.attempted >= 5 and result.failed == 0


def test_rapl_sums_packages_without_subdomains(tree) -> None:
    root, p0, p1, core = tree
    (core / "name").unlink()  # a nameless subdomain is still recognised by its N:M dir name
    meter = RaplMeter(root, j_per_cpu_s=1.54, idle_sample_s=0)
    assert meter.source == "rapl" and meter.idle_watts is None
    assert meter.read() == 0.0
    set_uj(p0, 3_000_000)  # +2 J
    set_uj(p1, 5_500_000)  # +0.5 J
    set_uj(core, 90_000_000)  # subdomain: must not count
    assert meter.read() == pytest.approx(2.5)
    set_uj(p0, 4_000_000)  # +1 J
    assert meter.read() == pytest.approx(3.5)
    assert "2 package domain(s)" in meter.detail


def test_rapl_wraparound(tree) -> None:
    root, p0, p1, _ = tree
    set_uj(p0, MAX_RANGE - 1_000_000)
    meter = RaplMeter(root, idle_sample_s=0)
    set_uj(p0, 2_000_000)  # wrapped: 1 J to the top, then 2 J
    assert meter.read() == pytest.approx(3.0)
    set_uj(p0, 2_500_000)
    assert meter.read() == pytest.approx(3.5)


def test_rapl_reset_and_unreadable_midrun(tree) -> None:
    root, p0, p1, _ = tree
    meter = RaplMeter(root, idle_sample_s=0)
    set_uj(p0, 2_000_000)
    assert meter.read() == pytest.approx(1.0)
    set_uj(p0, 100)  # reset: as a wrap it would mean ~262 kJ in no time
    after_reset = meter.read()
    assert 1.0 <= after_reset < 2.0
    assert "jumped" in meter.detail
    (p1 / "energy_uj").unlink()
    (p1 / "energy_uj").mkdir()  # unreadable even as root
    set_uj(p0, 1_100)
    assert meter.read() == pytest.approx(after_reset + 0.001)
    assert "unreadable" in meter.detail
    (p1 / "energy_uj").rmdir()
    (p1 / "energy_uj").write_text("garbage")
    assert meter.read() == pytest.approx(after_reset + 0.001)
    set_uj(p1, 6_000_000)  # readable again: +1 J since the last good value
    assert meter.read() == pytest.approx(after_reset + 1.001)


def test_rapl_unknown_range_decrease_is_ignored(tmp_path: Path) -> None:
    root = tmp_path / "pc"
    p0 = make_domain(root, "intel-rapl:0", "package-0", 5_000_000)
    (p0 / "max_energy_range_uj").unlink()
    meter = RaplMeter(root, idle_sample_s=0)
    set_uj(p0, 10)
    assert meter.read() == 0.0
    set_uj(p0, 1_000_010)
    assert meter.read() == pytest.approx(1.0)


def test_rapl_idle_watts_measured_apart(tree) -> None:
    root, *_ = tree
    meter = RaplMeter(root, idle_sample_s=0.05)
    assert meter.idle_watts == 0.0  # fake counters did not move
    assert meter.read() == 0.0
    assert "reported apart" in meter.detail


def test_unreadable_at_start_falls_back(tree) -> None:
    root, p0, _, _ = tree
    (p0 / "energy_uj").unlink()
    (p0 / "energy_uj").mkdir()
    source, reason = describe_backend(root)
    assert source == "estimated"
    assert "intel-rapl:0/energy_uj not readable" in reason
    meter = create_meter(powercap_root=root, idle_sample_s=0)
    assert meter.source == "estimated"
    assert "not readable" in meter.detail and "J per CPU-second" in meter.detail
    with pytest.raises(EnergyError, match="not readable"):
        create_meter(powercap_root=root, prefer="rapl", idle_sample_s=0)


def test_create_meter_selection(tree, tmp_path: Path) -> None:
    root, *_ = tree
    assert create_meter(powercap_root=root, idle_sample_s=0).source == "rapl"
    assert describe_backend(root)[0] == "rapl"
    forced = create_meter(powercap_root=root, prefer="estimated", idle_sample_s=0)
    assert forced.source == "estimated"
    missing = tmp_path / "nope"
    meter = create_meter(powercap_root=missing)
    assert meter.source == "estimated" and meter.idle_watts is None
    assert f"no {missing}" in meter.detail
    assert describe_backend(missing) == ("estimated", f"rapl unavailable: no {missing}")
    with pytest.raises(EnergyError):
        create_meter(powercap_root=missing, prefer="rapl")
    with pytest.raises(EnergyError):
        create_meter(prefer="gpu")


def test_amd_nested_layout_deduplicated(tmp_path: Path) -> None:
    """The class dir /sys/class/powercap/intel-rapl/intel-rapl:0 and its top-level link."""
    root = tmp_path / "pc"
    real = make_domain(root, "intel-rapl/intel-rapl:0", "package-0", 1_000_000)
    (root / "intel-rapl:0").symlink_to(real)
    meter = RaplMeter(root, idle_sample_s=0)
    set_uj(real, 2_000_000)
    assert meter.read() == pytest.approx(1.0)  # counted once, not twice


def burn_cpu(seconds: float) -> float:
    start = time.process_time()
    x = 0
    while time.process_time() - start < seconds:
        for i in range(1000):
            x += i * i
    return time.process_time() - start


def test_estimated_tracks_cpu_time() -> None:
    meter = EstimatedMeter(2.0, "test")
    before = meter.read()
    cpu_s = burn_cpu(0.2)
    spent = meter.read() - before
    assert spent == pytest.approx(cpu_s * 2.0, rel=0.10)
    assert meter.joules_for_cpu_seconds(3.0) == pytest.approx(6.0)
    assert meter.joules_for_cpu_seconds(-1.0) == 0.0


def test_estimated_sleep_costs_little() -> None:
    meter = EstimatedMeter(1.54, "AMD EPYC")
    before = meter.read()
    time.sleep(0.2)  # wall time is not CPU time
    assert meter.read() - before < 0.05 * 1.54


def test_read_is_monotonic(tree) -> None:
    root, p0, *_ = tree
    for meter in (EstimatedMeter(1.54, "x"), RaplMeter(root, idle_sample_s=0)):
        values = []
        for k in range(200):
            if meter.source == "rapl":
                set_uj(p0, 1_000_000 + (k * 7919 % 13) * 1_000)  # goes up and down
            values.append(meter.read())
        assert all(b >= a for a, b in pairwise(values))


def test_coefficient_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    epyc = "model name\t: AMD EPYC\n"
    monkeypatch.setenv("HARMONE_J_PER_CPU_S", "3.5")
    assert resolve_coefficient(1.2, cpuinfo_text=epyc) == (1.2, "set explicitly")
    assert resolve_coefficient(None, cpuinfo_text=epyc)[0] == 3.5
    assert create_meter(j_per_cpu_s=1.2, powercap_root=Path("/nonexistent")).joules_for_cpu_seconds(
        1.0
    ) == pytest.approx(1.2)
    assert create_meter(powercap_root=Path("/nonexistent")).joules_for_cpu_seconds(1.0) == 3.5
    monkeypatch.setenv("HARMONE_J_PER_CPU_S", "banana")
    value, label = resolve_coefficient(None, cpuinfo_text=epyc)
    assert value == 1.54 and "ignored" in label
    monkeypatch.delenv("HARMONE_J_PER_CPU_S")
    assert resolve_coefficient(None, cpuinfo_text=epyc) == (1.54, "AMD EPYC")
    with pytest.raises(EnergyError):
        resolve_coefficient(0.0)


@pytest.mark.parametrize(
    ("text", "value", "label_part"),
    [
        ("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t: fpu\n", 1.54, "AMD EPYC"),
        ("model name\t: AMD EPYC 9R14 96-Core Processor\n", 1.54, "Genoa-class"),
        ("model name\t: AMD EPYC 7763 64-Core Processor\n", 2.76, "unknown"),
        ("model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz\n", 2.76, "unknown"),
        ("processor\t: 0\n", 2.76, "unknown"),
    ],
)
def test_cpu_family_coefficient(text: str, value: float, label_part: str) -> None:
    got, label = cpu_family_coefficient(text)
    assert got == value and label_part in label


def test_carbon() -> None:
    assert carbon_g(3.6e6) == pytest.approx(475.0)
    assert carbon_g(7.2e6, grid_g_per_kwh=100.0, pue=1.2) == pytest.approx(240.0)


def test_no_forbidden_imports() -> None:
    code = (
        "import sys, engines.energy as e; e.create_meter(idle_sample_s=0).read(); "
        "bad = ('textual', 'harmone_tui', 'tensorflow', 'torch'); "
        "print(sorted(m for m in bad if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
