"""`harmone engine list` shows each engine that can be named and why one cannot run; an entry point
that does not import is one error line when a run names it.

The installed plug-ins are real distributions: a ``.dist-info`` folder with an
``entry_points.txt``, on ``sys.path``, which is all ``importlib.metadata`` reads.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harmone_tui.cli import main
from tests.plugins.broken import write_engine


def install_entry_point(site: Path, dist: str, name: str, target: str) -> None:
    info = site / f"{dist}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[harmone.engines]\n{name} = {target}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.setattr(sys, "path", [str(folder), *sys.path])
    return folder


def test_list_shows_bundled_and_installed_engines_and_why_one_is_unavailable(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_engine(site, "good_engine_mod", None)
    install_entry_point(site, "good-engine", "good", "good_engine_mod:create_engine")
    install_entry_point(site, "gone-engine", "gone", "no_such_package.engine:create_engine")
    assert main(["engine", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"regression", "vision", "fake", "good", "gone"} <= set(rows)
    assert rows["regression"]["origin"] == "bundled" and rows["regression"]["available"]
    assert rows["good"] == {
        "name": "good",
        "origin": "good-engine",
        "target": "good_engine_mod:create_engine",
        "available": True,
        "problem": None,
    }
    assert not rows["gone"]["available"]
    assert rows["gone"]["problem"] == (
        "engine 'gone': cannot import no_such_package.engine:"
        " ModuleNotFoundError: No module named 'no_such_package'"
    )
    assert main(["engine", "list"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["ENGINE", "FROM", "FACTORY", "STATUS"]
    assert any(line.startswith("good ") and line.endswith("available") for line in table)


def test_a_run_naming_an_engine_that_does_not_import_is_one_error(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_entry_point(site, "gone-engine", "gone", "no_such_package.engine:create_engine")
    argv = ["--no-ui", "--engine", "gone", "--steps", "5", "--data-dir", str(tmp_path / "d")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "harmone: error: engine 'gone': cannot import no_such_package.engine" in err
    assert "Traceback" not in err


def test_an_installed_engine_runs_by_name(site: Path, tmp_path: Path) -> None:
    write_engine(site, "named_engine_mod", None)
    install_entry_point(site, "named-engine", "broken", "named_engine_mod:create_engine")
    summary = tmp_path / "s.json"
    argv = ["--no-ui", "--engine", "broken", "--steps", "300", "--quiet", "--summary", str(summary)]
    assert main([*argv, "--data-dir", str(tmp_path / "d")]) == 0
    found = json.loads(summary.read_text())
    assert (found["engine"], found["policy"], found["steps"]) == ("broken", "harmone", 300)


def test_doctor_lists_plugins_with_their_problem(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_entry_point(site, "gone-engine", "gone", "no_such_package.engine:create_engine")
    main(["--data-dir", str(tmp_path), "doctor", "--json"])
    engines = json.loads(capsys.readouterr().out)["engines"]
    assert engines["gone"]["available"] is False
    assert "cannot import no_such_package.engine" in engines["gone"]["note"]
