"""Carbon factors (flag > environment > settings.toml > default) and the one unit formatter."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmone_tui import units
from harmone_tui.carbon import DEFAULT_PUE, REGIONS, CarbonError, resolve
from tests.conftest import harmone_cmd, subprocess_env


def test_defaults_are_the_world_average_and_the_machine_alone() -> None:
    f = resolve(environ={})
    assert (f.grid_g_per_kwh, f.pue) == (REGIONS["world"], DEFAULT_PUE)
    assert "Ember" in f.intensity_source
    assert f.grams(3.6e6) == pytest.approx(REGIONS["world"])  # 1 kWh


def test_flag_beats_environment_beats_settings(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text('[carbon]\nregion = "deu"\npue = 1.4\n')
    from_file = resolve(settings_path=settings, environ={})
    assert (from_file.grid_g_per_kwh, from_file.pue) == (REGIONS["deu"], 1.4)
    env = {"HARMONE_REGION": "FRA", "HARMONE_PUE": "1.2"}
    from_env = resolve(settings_path=settings, environ=env)
    assert (from_env.grid_g_per_kwh, from_env.pue) == (REGIONS["fra"], 1.2)
    from_flag = resolve(grid_intensity=50.0, pue=1.1, settings_path=settings, environ=env)
    assert (from_flag.grid_g_per_kwh, from_flag.pue) == (50.0, 1.1)
    assert from_flag.grams(7.2e6) == pytest.approx(2 * 50.0 * 1.1)


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"region": "atlantis"}, "unknown region 'atlantis'"),
        ({"grid_intensity": "lots"}, "grid intensity (gCO2e/kWh) must be a number"),
        ({"grid_intensity": "nan"}, "must be a number from 0 to 2000"),
        ({"pue": 0.5}, "PUE must be a number from 1 to 5"),
    ],
)
def test_bad_factors_are_one_clear_error(kwargs: dict, text: str) -> None:
    with pytest.raises(CarbonError, match=None) as info:
        resolve(**kwargs, environ={})
    assert text in str(info.value)


def test_a_bad_settings_file_names_the_file_and_key(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text("[carbon]\ngrid = 3\n")
    with pytest.raises(CarbonError, match=r"settings.toml: \[carbon\] unknown key 'grid'"):
        resolve(settings_path=settings, environ={})


def test_a_bad_flag_exits_2_with_one_line() -> None:
    import subprocess

    done = subprocess.run(
        harmone_cmd("--no-ui", "--steps", "10", "--region", "mars"),
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("harmone: error: --grid-intensity / --region: unknown region")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("joules", "shown"),
    [
        (8.2e-4, "820 µJ"),
        (1.0217e-3, "1.02 mJ"),
        (0.8229e-3, "823 µJ"),
        (2.5, "2.50 J"),
        (999.96, "1.00 kJ"),
        (36_203.0, "36.2 kJ"),
        (0.0, "0 J"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_energy_prefix_follows_magnitude(joules: float | None, shown: str) -> None:
    assert units.energy(joules) == shown


def test_carbon_prefix_follows_magnitude() -> None:
    assert units.carbon(0.0044) == "4.40 mg"
    assert units.carbon(1500.0) == "1.50 kg"
    assert units.energy_and_carbon(36.2, 0.0044) == "36.2 J · 4.40 mg CO₂e"


def test_doctor_says_which_carbon_factors_a_run_would_use() -> None:
    import json
    import subprocess

    done = subprocess.run(
        harmone_cmd("doctor", "--json"),
        env=subprocess_env(HARMONE_REGION="swe", HARMONE_PUE="1.3"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    carbon = json.loads(done.stdout)["carbon"]
    assert carbon["grid_intensity_g_per_kwh"] == REGIONS["swe"] and carbon["pue"] == 1.3
    assert carbon["pue_source"] == "set by $HARMONE_PUE"
