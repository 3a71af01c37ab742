"""`harmone energy calibrate` on a fake powercap tree whose counter follows real CPU work.

The fake package counts ``energy_uj`` = idle power x wall time + a known J per CPU-second x the
process CPU time spent. Like the hardware counter it is current whenever it is read: the meter's
file read (``engines.energy._read_uj``) first brings the file up to date, so the figures do not
depend on when a writer thread gets the CPU (on a loaded machine one was 50 ms late, and that
alone cost the fit 40%). The regression models really predict; the fit must recover the known
coefficient and idle power from the measured pairs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engines import energy
from engines.energy_fit import CalibrationError, Window, fit_windows, run_windows
from engines.energy_profile import load_profile
from engines.registry import create_engine
from harmone_tui.cli import main
from harmone_tui.energy_calibration import calibrate, loaded_models, open_rapl

# Figures a desktop package could show; the CPU term is kept well above the idle one because on a
# loaded test machine (load 10 on 2 cores) the CPU share of full- and low-duty windows differs
# little, and a pause between the counter and the clocks costs idle power x pause.
K = 8.0  # J per CPU-second the fake package charges
IDLE_W = 1.0
START_UJ = 10_000_000


class FakePackage:
    """A powercap tree with one package whose counter advances with this process's CPU time."""

    def __init__(self, root: Path, coefficient: Callable[[], float] = lambda: K) -> None:
        self.dir = root / "intel-rapl:0"
        self.dir.mkdir(parents=True)
        (self.dir / "name").write_text("package-0\n")
        (self.dir / "max_energy_range_uj").write_text("262143328850\n")
        self.coefficient = coefficient
        self._uj = float(START_UJ)
        self._wall, self._cpu = time.monotonic(), time.process_time()
        self.refresh()

    def refresh(self) -> None:
        """Add the energy since the last refresh: the CPU time spent at the current coefficient."""
        now, cpu = time.monotonic(), time.process_time()
        self._uj += (IDLE_W * (now - self._wall) + self.coefficient() * (cpu - self._cpu)) * 1e6
        self._wall, self._cpu = now, cpu
        (self.dir / "energy_uj").write_text(f"{int(self._uj)}\n")


def fake_package(
    root: Path, monkeypatch: pytest.MonkeyPatch, coefficient: Callable[[], float] = lambda: K
) -> FakePackage:
    """A :class:`FakePackage` brought up to date by every read of its counter."""
    package = FakePackage(root, coefficient)
    original = energy._read_uj

    def read(path: Path) -> int:
        if path == package.dir / "energy_uj":
            package.refresh()
        return original(path)

    monkeypatch.setattr(energy, "_read_uj", read)
    return package


@pytest.fixture
def engine():
    return create_engine("regression")


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePackage:
    return fake_package(tmp_path / "powercap", monkeypatch)


def test_the_fit_recovers_the_coefficient_from_real_inference(engine, package, tmp_path) -> None:
    meter = open_rapl(package.dir.parent)
    profile, fit, windows = calibrate(engine, meter, ["linear", "svm"], 0.25, 3, lambda _: None)
    assert len(windows) == 2 * 3 * 3
    assert min(w.cpu_s for w in windows) < 0.5 * max(w.cpu_s for w in windows)  # duties differ
    assert fit.j_per_cpu_s == pytest.approx(K, rel=0.08)
    assert fit.idle_watts == pytest.approx(IDLE_W, rel=0.25)
    assert fit.relative_error < 0.05 and fit.r2 > 0.95
    assert not profile.use_per_model  # one true coefficient: per-model cannot measure better
    assert profile.j_per_cpu_s == pytest.approx(fit.j_per_cpu_s, abs=1e-5)
    assert profile.fit["windows"] == 18 and profile.harmone_version


def test_per_model_coefficients_are_chosen_when_models_really_differ(
    engine, tmp_path, monkeypatch
) -> None:
    """The fake package charges svm 3x what it charges linear: per-model must win and recover
    both; the pooled coefficient lies in between with a larger held-out error."""
    running = {"model": "linear"}
    truth = {"linear": 4.0, "svm": 12.0}
    package = fake_package(tmp_path / "powercap", monkeypatch, lambda: truth[running["model"]])
    meter = open_rapl(package.dir.parent)
    predicts = loaded_models(engine, ["linear", "svm"], tmp_path, lambda _: None)

    def tagged(name: str) -> Callable[[object], object]:
        def predict(x: object) -> object:
            running["model"] = name
            return predicts[name](x)

        return predict

    xs = [s.x for s, _ in zip(engine.samples(), range(200), strict=False)]
    windows = run_windows({m: tagged(m) for m in predicts}, xs, meter.read, 0.25, 3)
    fit = fit_windows(windows)
    assert fit.use_per_model, fit
    assert fit.per_model["linear"] == pytest.approx(4.0, rel=0.15)
    assert fit.per_model["svm"] == pytest.approx(12.0, rel=0.15)
    assert fit.per_model_relative_error < fit.relative_error
    assert 4.0 < fit.j_per_cpu_s < 12.0


def test_the_command_writes_a_profile_that_a_run_uses(package, tmp_path, capsys) -> None:
    out = tmp_path / "profile.json"
    argv = [
        "energy",
        "calibrate",
        "--powercap",
        str(package.dir.parent),
        "--models",
        "linear,linear",
    ]
    code = main([*argv, "--window", "0.2", "--rounds", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr()
    assert "J per CPU-second" in printed.out and str(out) in printed.out
    assert "round 2 linear  duty 100%" in printed.err
    data = json.loads(out.read_text())
    assert data["machine"]["cores"] >= 1 and data["machine"]["cpu_model"]
    assert data["j_per_cpu_s"] > 0 and data["fit"]["windows"] == 6  # accuracy: tests above
    assert load_profile(out).j_per_cpu_s == data["j_per_cpu_s"]


def test_without_rapl_calibrate_says_so_in_one_line(tmp_path, capsys) -> None:
    out = tmp_path / "profile.json"
    missing = tmp_path / "no-powercap"
    code = main(["energy", "calibrate", "--powercap", str(missing), "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs readable RAPL" in err and str(missing) in err
    assert "Traceback" not in err and not out.exists()


def test_a_counter_that_does_not_move_is_refused() -> None:
    still = [Window("linear", r, d, 1.0, d, 0.0) for r in range(2) for d in (0.2, 1.0)]
    with pytest.raises(CalibrationError, match="did not advance"):
        fit_windows(still)


def test_energy_the_cpu_work_does_not_explain_is_refused() -> None:
    """Energy falling as the CPU time rises (other load came and went) gives no coefficient."""
    noise = [
        Window("linear", r, d, 1.0, d, joules)
        for r in range(3)
        for d, joules in ((0.2, 30.0), (0.6, 20.0), (1.0, 10.0))
    ]
    with pytest.raises(CalibrationError, match="did not explain the energy"):
        fit_windows(noise)


def test_a_counter_glitch_mid_measurement_writes_nothing(tmp_path, monkeypatch, capsys) -> None:
    """A jump the meter drops (a reset or glitch) leaves a window short: refused, not fitted."""
    package = fake_package(tmp_path / "powercap", monkeypatch)
    reads = {"n": 0}
    refresh = package.refresh

    def glitchy() -> None:
        refresh()
        reads["n"] += 1
        if reads["n"] == 5:  # once, mid-run: a step implying far more than 1000 W
            package._uj += 5e9
            (package.dir / "energy_uj").write_text(f"{int(package._uj)}\n")

    package.refresh = glitchy  # type: ignore[method-assign]
    out = tmp_path / "profile.json"
    argv = ["energy", "calibrate", "--powercap", str(package.dir.parent), "--models", "linear"]
    assert main([*argv, "--window", "0.1", "--rounds", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "misbehaved" in err[-1] and "counter jumped" in err[-1] and not out.exists()


def test_show_validates_and_prints_the_data_dirs_profile(package, tmp_path, capsys) -> None:
    data_dir = tmp_path / "data"
    argv = ["--data-dir", str(data_dir), "energy", "calibrate", "--powercap"]
    args = [str(package.dir.parent), "--models", "linear", "--window", "0.1", "--rounds", "2"]
    assert main([*argv, *args]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "energy", "show"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == json.loads((data_dir / "energy-profile.json").read_text())
    (data_dir / "energy-profile.json").write_text('{"format": "harmone-energy-profile/1"}')
    assert main(["--data-dir", str(data_dir), "energy", "show"]) == 2
    assert "missing machine, method" in capsys.readouterr().err


def test_an_unwritable_out_is_refused_before_measuring(package, tmp_path, capsys) -> None:
    (tmp_path / "a-file").write_text("")
    out = tmp_path / "a-file" / "profile.json"
    argv = ["energy", "calibrate", "--powercap", str(package.dir.parent), "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{out}: cannot write the profile" in err, err
