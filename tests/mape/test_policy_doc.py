"""The one policy document: every problem at once with file:line:key, comment-keeping edits and
the one validated, atomic save."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from harmone_tui.cli import main
from mape.policy import PolicyError
from mape.policy_doc import PolicyDocument, user_policy_path
from mape.policy_file import preset_text

HARMONE = preset_text("harmone")


def _line(text: str, start: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith(start))


def _bad_text() -> str:
    return (
        HARMONE.replace(
            'models = ["linear", "svm", "lstm"]', 'models = ["linear", "svm", "lstm", "gbm"]'
        )
        .replace("explore = 0.0", "explore = 2")
        .replace("seed = 7", "seed = -1")
    )


def test_policy_check_reports_schema_and_model_problems_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(_bad_text(), encoding="utf-8")
    text = path.read_text()
    assert main(["policy", "--data-dir", str(tmp_path), "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"harmone: error: {path}: 3 problems" in err, err
    assert f"{path}:{_line(text, 'seed')}: seed: must be >= 0, got -1" in err
    assert f"{path}:{_line(text, 'explore')}: switch.explore: must be <= 1.0, got 2" in err
    assert f"{path}:{_line(text, 'models')}: models: unknown model 'gbm'" in err
    assert "Traceback" not in err


def test_policy_check_reports_an_unknown_engine_with_the_other_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(_bad_text().replace('engine = "regression"', 'engine = "regresion"'))
    text = path.read_text()
    assert main(["policy", "--data-dir", str(tmp_path), "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: 3 problems" in err, err
    assert f"{path}:{_line(text, 'engine')}: engine: unknown engine 'regresion'" in err
    assert "unknown model" not in err  # models cannot be told for an unknown engine


def test_not_valid_toml_names_the_line(tmp_path: Path) -> None:
    text = HARMONE.replace("seed = 7", "seed = ")
    doc = PolicyDocument(text, "p.toml")
    (problem,) = doc.errors
    assert str(problem).startswith(f"p.toml:{_line(text, 'seed')}: not valid TOML (")
    with pytest.raises(PolicyError, match="not valid TOML"):
        doc.edit({"seed": 3})


def test_edits_keep_comments_layout_and_inline_tables() -> None:
    doc = PolicyDocument(HARMONE, "preset harmone")
    edited = doc.edit(
        {
            "score.initial": {"linear": 0.7, "svm": 0.79, "lstm": 0.82},
            "drift.threshold": 0.5,
            "models": ("linear", "svm", "lstm"),
        }
    )
    text = edited.text
    assert "initial = {" in text and "[score.initial]" not in text  # still an inline table
    assert "threshold = 0.5           # drift when KL exceeds this" in text
    assert 'models = ["linear", "svm", "lstm"]' in text  # unchanged: left as written
    assert [r for r in HARMONE.splitlines() if "threshold" not in r and "initial =" not in r] == [
        r for r in text.splitlines() if "threshold" not in r and "initial =" not in r
    ]
    policy = edited.policy
    assert policy.drift.threshold == 0.5 and policy.score.initial["linear"] == 0.7


def test_edit_adds_a_missing_table_and_a_river_parameter() -> None:
    doc = PolicyDocument('name = "x"\nengine = "regression"\n', "x.toml")
    edited = doc.edit({"drift.detector": "adwin", "drift.params.delta": 0.01})
    assert tomllib.loads(edited.text)["drift"] == {"detector": "adwin", "params": {"delta": 0.01}}
    assert edited.policy.drift.params == {"delta": 0.01}


def test_save_validates_refuses_to_overwrite_and_writes_nothing_on_error(tmp_path: Path) -> None:
    path = tmp_path / "policies" / "mine.toml"
    PolicyDocument(HARMONE, "preset harmone").edit({"name": "mine"}).save(path)
    assert tomllib.loads(path.read_text())["name"] == "mine"
    with pytest.raises(PolicyError, match="already exists"):
        PolicyDocument(HARMONE, "preset harmone").save(path)
    bad = PolicyDocument(HARMONE, "preset harmone").edit({"switch.explore": 2})
    with pytest.raises(PolicyError) as err:
        bad.save(path, replace=True)
    line = _line(bad.text, "explore")
    assert str(err.value) == f"{path}:{line}: switch.explore: must be <= 1.0, got 2"
    assert tomllib.loads(path.read_text())["switch"]["explore"] == 0.0  # the old file is kept
    assert sorted(p.name for p in path.parent.iterdir()) == ["mine.toml"]


def test_the_one_name_rule_guards_the_user_policy_path(tmp_path: Path) -> None:
    assert user_policy_path(tmp_path, "mine+retrain") == tmp_path / "mine+retrain.toml"
    for name in ("..", "a/b", "a..b", "", "x" * 65):
        with pytest.raises(PolicyError, match="policy name"):
            user_policy_path(tmp_path, name)
