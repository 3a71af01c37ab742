"""`--j-per-cpu-s` must be a finite number above 0: refused by argparse (one line, exit 2), and
the energy module refuses the same values wherever they come from."""

from __future__ import annotations

import pytest

from engines.energy import EnergyError, EstimatedMeter, resolve_coefficient
from harmone_common.errors import HarmoneError
from harmone_tui.cli import main


@pytest.mark.parametrize("command", [[], ["compare"]], ids=["run", "compare"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-inf", "lots"])
def test_a_bad_coefficient_is_one_line_and_exit_2(
    command: list[str], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*command, "--no-ui" if not command else "--steps=5", f"--j-per-cpu-s={value}"])
    assert code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "--j-per-cpu-s" in errors[0] and repr(value) in errors[0], err
    assert "Traceback" not in err


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
def test_the_meter_refuses_what_is_not_a_finite_positive_number(value: float) -> None:
    with pytest.raises(EnergyError, match="finite number above 0"):
        resolve_coefficient(value)
    with pytest.raises(EnergyError, match="finite number above 0"):
        EstimatedMeter(value, "test")


def test_an_infinite_environment_coefficient_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARMONE_J_PER_CPU_S", "inf")
    value, family = resolve_coefficient(cpuinfo_text="")
    assert value == 2.76 and "HARMONE_J_PER_CPU_S='inf' ignored" in family


def test_energy_errors_are_user_errors() -> None:
    assert issubclass(EnergyError, HarmoneError)
