"""Hostile policies: names that are paths, numbers that are not, river parameters that only fail
at run time. Each is caught by `harmone policy check` (in-process), with file, line and key, and
every problem of a file is reported, not only the first."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from harmone_tui.cli import main
from harmone_tui.ui import policy_edit
from harmone_tui.ui.screens import modals
from mape.policy_doc import PolicyDocument
from mape.policy_file import preset_text

NAN, INF = float("nan"), float("inf")


def edit_text(text: str, changes: dict[str, Any]) -> str:
    return PolicyDocument(text, "test").edit(changes).text


def _policy(tmp_path: Path, changes: dict[str, Any], name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(edit_text(preset_text("harmone"), changes), encoding="utf-8")
    return path


def _line(path: Path, dotted: str) -> int:
    """The line of ``dotted`` (``section.key`` or a top-level key) in the file, found by hand."""
    section, _, key = dotted.rpartition(".")
    current = ""
    for number, row in enumerate(path.read_text().splitlines(), start=1):
        header = re.match(r"^\[(.+)\]", row.strip())
        if header:
            current = header.group(1)
        elif current == section and re.match(rf"^{re.escape(key)}\s*=", row.strip()):
            return number
    raise AssertionError(f"{dotted} not in {path}")


def _check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["policy", "check", str(path)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


ADWIN = {"drift.detector": "adwin"}
KSWIN = {"drift.detector": "kswin"}
CASES = [
    # (what, changes, the key whose line is named, words in the message)
    ("name ..", {"name": ".."}, "name", "policy name"),
    ("name with a slash", {"name": "a/b"}, "name", "policy name"),
    ("name with ..", {"name": "a..b"}, "name", "policy name"),
    ("NaN drift threshold", {"drift.threshold": NAN}, "drift.threshold", "finite"),
    ("NaN min_score", {"switch.min_score": NAN}, "switch.min_score", "finite"),
    ("inf energy ceiling", {"score.energy_ceiling_uj": INF}, "score.energy_ceiling_uj", "finite"),
    ("NaN initial score", {"score.initial.linear": NAN}, "score.initial", "finite"),
    ("huge drift window", {"drift.window": 10**12}, "drift.window", "must be <= 1000000"),
    ("huge period", {"retrain.every_steps": 10**12}, "retrain.every_steps", "must be <="),
    ("seed past 32 bits", {"seed": 2**32}, "seed", "must be <= 4294967295"),
    (
        "adwin delta text",
        {**ADWIN, "drift.params.delta": "abc"},
        "drift.params.delta",
        "must be a number",
    ),
    ("adwin clock 0", {**ADWIN, "drift.params.clock": 0}, "drift.params.clock", "must be >= 1"),
    (
        "kswin stat > window",
        {**KSWIN, "drift.params.stat_size": 200, "drift.params.window_size": 100},
        "drift.params.stat_size",
        "at most half of window_size",
    ),
    (
        "kswin stat > half window",
        {**KSWIN, "drift.params.stat_size": 60, "drift.params.window_size": 100},
        "drift.params.stat_size",
        "at most half of window_size",
    ),
    (
        "page_hinkley mode",
        {"drift.detector": "page_hinkley", "drift.params.mode": "sideways"},
        "drift.params.mode",
        "must be one of",
    ),
]


@pytest.mark.parametrize(("what", "changes", "key", "words"), CASES, ids=[c[0] for c in CASES])
def test_policy_check_refuses_with_file_line_and_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    what: str,
    changes: dict[str, Any],
    key: str,
    words: str,
) -> None:
    path = _policy(tmp_path, changes)
    code, err = _check(path, capsys)
    assert code == 2, what
    assert f"harmone: error: {path}:{_line(path, key)}: {key}: " in err, err
    assert words in err, err


def test_every_problem_of_a_file_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changes = {
        "name": "..",
        "seed": 2**32,
        "drift.threshold": NAN,
        **ADWIN,
        "drift.params.delta": "abc",
        "drift.params.clock": 0,
    }
    path = _policy(tmp_path, changes)
    code, err = _check(path, capsys)
    assert code == 2
    assert f"harmone: error: {path}: 5 problems" in err
    for key in ("name", "seed", "drift.threshold", "drift.params.delta", "drift.params.clock"):
        assert f"{path}:{_line(path, key)}: {key}: " in err, (key, err)


def test_valid_river_parameters_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for changes in (
        {**ADWIN, "drift.params.delta": 0.01, "drift.params.clock": 16},
        {
            **KSWIN,
            "drift.params.stat_size": 50,
            "drift.params.window_size": 100,
            "drift.params.alpha": 0.01,
        },
        {"drift.detector": "page_hinkley", "drift.params.mode": "up", "drift.params.threshold": 20},
    ):
        code, err = _check(_policy(tmp_path, changes), capsys)
        assert code == 0, err


@pytest.mark.parametrize(
    "changes",
    [
        {"drift.threshold": NAN},
        {**KSWIN, "drift.params.stat_size": 60, "drift.params.window_size": 100},
    ],
    ids=["nan", "kswin"],
)
def test_a_run_refuses_the_policy_before_touching_the_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, Any]
) -> None:
    path = _policy(tmp_path, changes)
    data = tmp_path / "data"
    code = main(["--no-ui", "--policy", str(path), "--steps", "10", "--data-dir", str(data)])
    err = capsys.readouterr().err
    assert code == 2 and f"{path}:" in err and "Traceback" not in err
    assert not data.exists()


def test_the_tui_editor_uses_the_same_rules() -> None:
    check_name = modals.name_problem  # what the save-as dialog checks a name with
    for name in ("..", ".", "a/b", "a..b", "", "x" * 65):
        assert check_name(name) is not None, name
    for name in ("mine", "single-lstm+retrain", "v1.2_b"):
        assert check_name(name) is None, name
    threshold = policy_edit.Field("drift", "threshold", 0.75)
    assert "finite" in (threshold.check(threshold.parse("nan")) or "")
    assert threshold.check(0.5) is None and not math.isnan(threshold.parse("0.5"))


def test_policy_new_refuses_a_name_that_is_not_a_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a..b", "..", "a/b"):
        assert main(["policy", "--data-dir", str(tmp_path), "new", name]) == 2
        err = capsys.readouterr().err
        assert f"policy name {name!r}" in err and "Traceback" not in err
    assert not (tmp_path / "policies").exists() or not list((tmp_path / "policies").iterdir())


def _canary(folder: Path) -> dict[str, str]:
    (folder / "keep").mkdir(parents=True)
    (folder / "keep" / "notes.txt").write_text("precious")
    (folder / "top.txt").write_text("mine")
    return {"keep/notes.txt": "precious", "top.txt": "mine"}


def _intact(folder: Path, canary: dict[str, str]) -> bool:
    return all((folder / k).is_file() and (folder / k).read_text() == v for k, v in canary.items())


def test_compare_refuses_a_policy_named_dotdot_and_removes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "that.toml"
    path.write_text(edit_text(preset_text("single-linear"), {"name": ".."}), encoding="utf-8")
    out = tmp_path / "v"
    canary = _canary(out)
    code = main(
        [
            "compare",
            "--policies",
            str(path),
            "--out",
            str(out),
            "--steps",
            "500",
            "--data-dir",
            str(tmp_path / "data"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and f"{path}:{_line(path, 'name')}: name: " in err and "Traceback" not in err
    assert _intact(out, canary) and sorted(p.name for p in out.iterdir()) == ["keep", "top.txt"]


def test_compare_writes_into_a_new_directory_under_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v"
    canary = _canary(out)
    args = [
        "compare",
        "--policies",
        "naive",
        "--out",
        str(out),
        "--steps",
        "200",
        "--data-dir",
        str(tmp_path / "data"),
    ]
    assert main(args) == 0 and main(args) == 0
    err = capsys.readouterr().err
    runs = sorted(p for p in out.iterdir() if p.name.startswith("compare-"))
    assert len(runs) == 2 and _intact(out, canary)
    for run in runs:
        assert (run / "compare.csv").is_file() and (run / "runs" / "naive").is_dir()
        assert f"written: {run / 'compare.csv'}" in err


def test_a_policy_name_never_reaches_outside_the_policies_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    (data / "policies").mkdir(parents=True)
    (data / "outside.toml").write_text(preset_text("naive"))
    monkeypatch.chdir(tmp_path)  # "../outside" is no file from here, only from policies/
    assert main(["policy", "--data-dir", str(data), "check", "../outside"]) == 2
    assert "unknown policy '../outside'" in capsys.readouterr().err
