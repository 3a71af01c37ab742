"""Calibration profiles: validated to one line naming the file, used by runs, told by doctor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engines.energy import create_meter, resolve_coefficient
from engines.energy_profile import (
    FORMAT,
    EnergyProfile,
    ProfileError,
    load_profile,
    machine,
    save_profile,
)
from harmone_tui.cli import main
from harmone_tui.commands import doctor
from harmone_tui.energy_source import chosen_profile


def profile_data(**changes: Any) -> dict[str, Any]:
    data = EnergyProfile(
        cpu_model=machine()["cpu_model"],
        cores=2,
        method="test",
        j_per_cpu_s=2.5,
        fit={"windows": 18, "relative_error": 0.03},
        date="2026-12-01T10:00:00Z",
        harmone_version="0.1.0",
        idle_watts=4.0,
    ).to_json()
    data.update(changes)
    return data


def write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


BAD = {
    "bad JSON": ('{"format": ', "not valid JSON (line 1"),
    "not an object": ("[1, 2]", "expected a JSON object"),
    "missing keys": ({"format": FORMAT, "method": "x"}, "missing machine, j_per_cpu_s, fit"),
    "negative": (profile_data(j_per_cpu_s=-1.5), "j_per_cpu_s must be a finite number above 0"),
    "zero": (profile_data(j_per_cpu_s=0), "j_per_cpu_s must be a finite number above 0"),
    "text": (profile_data(j_per_cpu_s="2.5"), "j_per_cpu_s must be a number"),
    "per model": (
        profile_data(per_model={"svm": -2}, use_per_model=True),
        "per_model.svm must be a finite number above 0",
    ),
    "format": (profile_data(format="other/9"), "format 'other/9' is not"),
    "machine": (profile_data(machine={"cpu_model": "x"}), "machine must have cpu_model and cores"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_profile_is_one_line_naming_the_file(case: str, tmp_path: Path) -> None:
    content, expected = BAD[case]
    path = write(tmp_path / "p.json", content)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and expected in message and "\n" not in message


@pytest.mark.parametrize("command", [["--no-ui", "--steps", "5"], ["compare", "--steps", "5"]])
def test_run_and_compare_refuse_a_bad_profile_before_anything_runs(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "p.json", profile_data(j_per_cpu_s=-1))
    data_dir = tmp_path / "data"
    code = main(["--data-dir", str(data_dir), *command, "--energy-profile", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert str(path) in err and "above 0" in err and "Traceback" not in err
    assert not (data_dir / "exports").exists() and not (data_dir / "knowledge.sqlite3").exists()
    missing = tmp_path / "nowhere.json"
    assert main([*command, "--energy-profile", str(missing)]) == 2
    assert f"{missing}: cannot read the profile" in capsys.readouterr().err


def test_a_number_and_a_profile_cannot_both_be_given(tmp_path: Path, capsys) -> None:
    path = write(tmp_path / "p.json", profile_data())
    assert main(["--no-ui", "--j-per-cpu-s", "2", "--energy-profile", str(path)]) == 2
    assert "not allowed with" in capsys.readouterr().err


def test_precedence_a_number_beats_a_profile_a_flag_beats_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = write(tmp_path / "flag.json", profile_data(j_per_cpu_s=1.25))
    env = write(tmp_path / "env.json", profile_data(j_per_cpu_s=3.75))
    monkeypatch.setenv("HARMONE_ENERGY_PROFILE", str(env))
    assert chosen_profile(None).j_per_cpu_s == 3.75
    assert chosen_profile(flag).j_per_cpu_s == 1.25
    assert chosen_profile(flag, j_per_cpu_s=2.0) is None
    monkeypatch.setenv("HARMONE_J_PER_CPU_S", "0.5")
    assert chosen_profile(None) is None  # the environment's number beats its profile
    assert chosen_profile(flag).j_per_cpu_s == 1.25  # a flag beats the environment
    value, origin = resolve_coefficient(profile=load_profile(flag))
    assert value == 1.25 and origin.startswith(f"from profile {flag}: calibrated on")
    meter = create_meter(powercap_root=tmp_path / "none", profile=load_profile(flag))
    assert meter.j_per_cpu_s == 1.25 and f"profile {flag}" in meter.detail


def test_save_then_load_is_the_same_profile(tmp_path: Path) -> None:
    original = EnergyProfile(**{**_fields(profile_data()), "per_model": {"svm": 3.0}})
    save_profile(original, tmp_path / "sub" / "p.json")
    again = load_profile(tmp_path / "sub" / "p.json")
    assert again.to_json() == original.to_json() and again.path == tmp_path / "sub" / "p.json"
    assert not again.use_per_model and again.coefficient_for("svm") == 2.5


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    box = data.pop("machine")
    data.pop("format")
    return {**data, **box}


def test_a_run_charges_each_model_its_per_model_coefficient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """energy / CPU time of the run's inferences is the profile's linear coefficient, not the
    pooled one; a profile from another CPU model is used with a warning."""
    data = profile_data(per_model={"linear": 5.0, "svm": 1.0}, use_per_model=True)
    data["machine"]["cpu_model"] = "Some Other CPU 9000"
    path = write(tmp_path / "p.json", data)
    summary = tmp_path / "summary.json"
    argv = ["--no-ui", "--policy", "single-linear", "--steps", "300", "--quiet"]
    code = main([*argv, "--energy-profile", str(path), "--summary", str(summary)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"warning: {path}: calibrated on 'Some Other CPU 9000'" in err
    result = json.loads(summary.read_text())
    ratio = result["energy_mj_per_inference"] / result["cpu_ms_per_inference"]
    assert ratio == pytest.approx(5.0, rel=1e-6)
    assert f"profile {path}" in result["energy_detail"] and "linear 5" in result["energy_detail"]


def test_doctor_tells_which_coefficient_is_in_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    stored = write(data_dir / "energy-profile.json", profile_data(j_per_cpu_s=1.75))
    assert main(["--data-dir", str(data_dir), "doctor"]) == 0
    out = capsys.readouterr().out
    assert f"{stored}, not in force" in out and "1.75" not in out
    assert main(["--data-dir", str(data_dir), "doctor", "--energy-profile", str(stored)]) == 0
    out = capsys.readouterr().out
    assert f"1.75 J per CPU-second (from profile {stored}" in out and "not in force" not in out
    report = doctor.collect(data_dir, stored)["energy"]
    assert report["j_per_cpu_s"] == 1.75 and report["profile"] == str(stored)
    other = write(
        tmp_path / "other.json", {**profile_data(), "machine": {"cpu_model": "Z", "cores": 2}}
    )
    assert main(["--data-dir", str(data_dir), "doctor", "--energy-profile", str(other)]) == 0
    assert f"warning: {other}: calibrated on 'Z', this machine has" in capsys.readouterr().out
    bad = write(tmp_path / "bad.json", "{")
    assert main(["--data-dir", str(data_dir), "doctor", "--energy-profile", str(bad)]) == 2
    assert f"{bad}: not valid JSON" in capsys.readouterr().err


def test_compare_runs_every_policy_on_the_profiles_coefficient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mape.knowledge import KnowledgeStore

    path = write(tmp_path / "p.json", profile_data(j_per_cpu_s=4.0))
    argv = ["compare", "--policies", "single-linear", "--steps", "200", "--out", str(tmp_path)]
    assert main([*argv, "--energy-profile", str(path)]) == 0, capsys.readouterr().err
    (store_file,) = tmp_path.glob("compare-*/runs/single-linear/knowledge.sqlite3")
    store = KnowledgeStore.open(store_file)
    try:
        (row,) = store.runs()
        settings = store.run_settings(row.run_id)
    finally:
        store.close()
    assert settings is not None and settings["energy_profile"] == str(path)
    assert row.summary is not None
    ratio = row.summary["energy_mj_per_inference"] / row.summary["cpu_ms_per_inference"]
    assert ratio == pytest.approx(4.0, rel=1e-6)
