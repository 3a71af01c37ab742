"""Every policy field carries its help, type, range and default in one place (the schema), and the
editor, `harmone policy show --explain` and docs/policy.md all read it from there."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from harmone_tui.cli import main
from harmone_tui.ui import policy_edit
from mape import policy_fields
from mape.policy import SCHEMA, SECTION_TYPES, Policy, policy_to_mapping
from mape.policy_file import parse_policy, resolve_policy

REPO = Path(__file__).resolve().parents[2]


def _every_key() -> list[str]:
    """Every key of the policy dataclasses, found without the field table under test."""
    top = [f.name for f in fields(Policy) if f.name not in SECTION_TYPES]
    return top + [f"{s}.{f.name}" for s, cls in SECTION_TYPES.items() for f in fields(cls)]


def test_every_field_has_help_type_range_and_default() -> None:
    infos = {f.path: f for f in policy_fields.policy_fields()}
    assert list(infos) == _every_key()
    assert len(infos) >= 35 and "drift.settle_steps" in infos and "drift.params" in infos
    defaults = policy_to_mapping(Policy())
    for path, info in infos.items():
        assert info.help and len(info.help) <= 72, path  # one line beside the editor's input
        assert info.type and info.range, path
        section, _, key = path.rpartition(".")
        assert info.default == (defaults[section][key] if section else defaults[key]), path
        assert info.rule is SCHEMA[section][key], path  # the help is beside the check it explains


def test_the_editor_shows_the_schema_help_for_every_field() -> None:
    infos = {f.path: f for f in policy_fields.policy_fields()}
    shown = {f.path: f.help for f in policy_edit.policy_fields()}
    assert shown == {path: info.help for path, info in infos.items()}


def test_show_explain_prints_value_default_range_and_help(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["policy", "--data-dir", str(tmp_path), "show", "harmone", "--explain"]) == 0
    out = capsys.readouterr().out
    policy = resolve_policy("harmone")[0]
    assert "[drift]" in out and "settle_steps = 600  # default 0, changed" in out
    assert (
        "# act this many steps after a drift, on new-regime data only; allowed: 0 to 10000000"
        in out
    )
    assert "energy_budget = 0.5  # default 1.0, changed" in out  # the preset's tuned budget
    assert "every_steps = 267  # default 267\n" in out
    for info in policy_fields.policy_fields():
        assert f"# {info.help}; allowed: {info.range}" in out, info.path
    assert parse_policy(out, "explained") == policy  # the explanation is the policy itself
    assert (
        main(["policy", "--data-dir", str(tmp_path), "show", "harmone", "--explain", "--json"]) == 0
    )
    rows = {row["key"]: row for row in json.loads(capsys.readouterr().out)}
    assert list(rows) == _every_key()
    assert rows["drift.settle_steps"]["value"] == policy.drift.settle_steps == 600
    assert rows["switch.energy_budget"] == {
        "key": "switch.energy_budget",
        "value": 0.5,
        "default": 1.0,
        "type": "float",
        "range": "0 to 1",
        "help": "budget on E_norm; violation starts recovery cycles",
    }
    assert rows["models"]["value"] == ["linear", "svm", "lstm"]


def test_json_without_explain_is_refused_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["policy", "--data-dir", str(tmp_path), "show", "harmone", "--json"]) == 2
    err = capsys.readouterr().err
    assert "--json" in err and "--explain" in err and "Traceback" not in err


def test_docs_policy_md_is_generated_from_the_schema() -> None:
    """Regenerate with `python scripts/policy_docs.py` after changing a field."""
    docs = (REPO / "docs" / "policy.md").read_text(encoding="utf-8")
    assert docs == policy_fields.markdown()
    for info in policy_fields.policy_fields():
        assert f"`{info.key}`" in docs and info.help.replace("|", "\\|") in docs, info.path
