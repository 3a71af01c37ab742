"""`harmone models check` and `harmone models remove` on a data dir with damage and leftovers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harmone_tui.cli import main
from tests.store.helpers import repo_at, rewrite, set_row, train_version


@pytest.fixture
def damaged_dir(tmp_path: Path) -> dict[str, Path]:
    """v1 ok, v2 truncated, v3's row pointing outside the data dir; two crash leftovers."""
    root = tmp_path / "data"
    repo = repo_at(root)
    train_version(repo)
    v2 = train_version(repo)
    v3 = train_version(repo)
    rewrite(v2, "model.pkl", b"\x80\x04trunc", record=False)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("not ours")
    set_row(v3, path="../elsewhere")
    parent = root / "models" / "regression" / "linear"
    staging = parent / ".staging-999999999-1-x1y2"  # its process is gone
    staging.mkdir()
    unrecorded = parent / "v9"  # renamed into place, then the process died before the row
    unrecorded.mkdir()
    repo.store.close()
    return {
        "root": root,
        "v2": v2.directory,
        "v3": v3.directory,
        "outside": outside,
        "staging": staging,
        "unrecorded": unrecorded,
    }


def test_check_reports_each_version_and_the_leftovers(
    damaged_dir: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(damaged_dir["root"])
    assert main(["models", "check", "--json", "--data-dir", root]) == 1
    report = json.loads(capsys.readouterr().out)
    status = {r["version"]: (r["status"], r["problem"]) for r in report["versions"]}
    assert status[1] == ("ok", None)
    assert status[2][0] == "damaged"
    assert "model.pkl does not match its recorded sha256" in status[2][1]
    assert status[3][0] == "damaged" and "'../elsewhere' is outside" in status[3][1]
    assert sorted(report["leftovers"]) == sorted(  # v3's own directory no longer has a row
        str(damaged_dir[k]) for k in ("staging", "unrecorded", "v3")
    )

    assert main(["models", "check", "--data-dir", root]) == 1
    text = capsys.readouterr().out
    assert "regression linear v2" in text and "DAMAGED" in text
    assert "`harmone models remove --damaged`" in text and "`harmone models check --fix`" in text


def test_check_fix_removes_only_the_leftovers(
    damaged_dir: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["models", "check", "--fix", "--data-dir", str(damaged_dir["root"])])
    assert not damaged_dir["staging"].exists() and not damaged_dir["unrecorded"].exists()
    assert damaged_dir["v2"].exists() and (damaged_dir["outside"] / "keep.txt").exists()
    assert "removed: " in capsys.readouterr().out


def test_remove_one_version_and_then_every_damaged_one(
    damaged_dir: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = damaged_dir["root"]
    assert main(["models", "remove", "regression", "linear", "v2", "--data-dir", str(root)]) == 0
    assert not damaged_dir["v2"].exists()
    assert main(["models", "remove", "--damaged", "--data-dir", str(root)]) == 0
    assert "removed regression linear v3 (row only" in capsys.readouterr().out
    assert (damaged_dir["outside"] / "keep.txt").exists()  # nothing outside models/ is deleted
    repo = repo_at(root)
    assert [s.row.version for s in repo.states("regression")] == [1]
    assert main(["models", "check", "--data-dir", str(root)]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["regression", "linear", "two"],
        ["regression", "linear", "7"],
        [],
        ["regression"],
        ["--damaged", "regression"],
    ],
)
def test_remove_refuses_bad_arguments_with_one_line(
    damaged_dir: dict[str, Path], capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    root = str(damaged_dir["root"])
    assert main(["models", "remove", *argv, "--data-dir", root]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("  hint: ")]
    assert len(lines) == 1 and lines[0].startswith("harmone: error: ") and "Traceback" not in err
    assert damaged_dir["v2"].exists()


def test_remove_of_a_version_from_an_empty_data_dir_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped --data-dir must not look like a successful removal."""
    empty = tmp_path / "nothing-here"
    argv = ["models", "remove", "regression", "linear", "1", "--data-dir", str(empty)]
    assert main(argv) == 2
    assert "holds no model versions" in capsys.readouterr().err
    assert main(["models", "remove", "--damaged", "--data-dir", str(empty)]) == 0
    assert not empty.exists()
