"""Policies: presets, strict validation (file, line, key), `harmone policy`, Harmonica import."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from mape.policy import PolicyError
from mape.policy_file import parse_policy, preset_names, preset_text, resolve_policy
from tests.mape.helpers import run_cli, run_headless

PRESETS = {
    "harmone",
    "switch",
    "switch+retrain",
    "naive",
    "single-linear",
    "single-svm",
    "single-lstm",
    "single-linear+retrain",
    "single-svm+retrain",
    "single-lstm+retrain",
}


def test_every_preset_ships_and_validates() -> None:
    assert set(preset_names()) >= PRESETS
    for name in preset_names():
        policy, source, text = resolve_policy(name)
        assert policy.name == name and source == f"preset {name}"
        assert text.lstrip().startswith("#"), f"{name}: presets explain themselves in comments"
    assert resolve_policy("single-lstm+retrain")[0].retrain.every_steps > 0
    assert not resolve_policy("switch")[0].drift.enabled


BAD = [
    # (what, replace this line of the harmone preset, with this, line mark, key in message, words)
    (
        "typo'd key",
        "min_score = 0.78",
        "min_scor = 0.78",
        "min_scor",
        "switch.min_scor",
        "unknown key",
    ),
    (
        "negative window",
        "window = 1200              # KL",
        "window = -5                # KL",
        "window = -5",
        "drift.window",
        "must be >= 10",
    ),
    (
        "explore = 2",
        "explore = 0.0",
        "explore = 2",
        "explore = 2",
        "switch.explore",
        "must be <= 1.0",
    ),
    (
        "unknown detector",
        'detector = "kl"',
        'detector = "klx"',
        'detector = "klx"',
        "drift.detector",
        "must be one of",
    ),
    ("wrong type", "seed = 7", 'seed = "seven"', 'seed = "seven"', "seed", "must be an integer"),
    (
        "start model not in models",
        'start_model = "linear"',
        'start_model = "gbm"',
        'start_model = "gbm"',
        "start_model",
        "not in models",
    ),
    (
        "river param for kl",
        'after_drift = "slide"',
        'after_drift = "slide"\n[drift.params]\ndelta = 0.1',
        "delta = 0.1",
        "drift.params.delta",
        "not a parameter",
    ),
]


@pytest.mark.parametrize(
    ("what", "old", "new", "mark", "key", "words"), BAD, ids=[b[0] for b in BAD]
)
def test_validation_names_file_line_and_key(
    what: str, old: str, new: str, mark: str, key: str, words: str
) -> None:
    text = preset_text("harmone")
    assert old in text, what
    bad = text.replace(old, new, 1)
    line = next(
        i for i, row in enumerate(bad.splitlines(), start=1) if row.strip().startswith(mark)
    )
    with pytest.raises(PolicyError) as err:
        parse_policy(bad, "my.toml")
    message = str(err.value)
    assert message.startswith(f"my.toml:{line}: {key}:"), message
    assert words in message


def test_cli_check_fails_with_exit_2_and_a_located_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        preset_text("harmone").replace(
            'models = ["linear", "svm", "lstm"]', 'models = ["linear", "svm", "lstm", "gbm"]'
        )
    )
    done = run_cli("policy", "check", str(bad))
    assert done.returncode == 2
    line = next(
        i for i, row in enumerate(bad.read_text().splitlines(), start=1) if row.startswith("models")
    )
    assert f"harmone: error: {bad}:{line}: models: unknown model 'gbm'" in done.stderr
    assert "Traceback" not in done.stderr
    run = run_headless("--policy", str(bad), "--steps", "10", "--data-dir", str(tmp_path / "d"))
    assert run.returncode == 2 and f"{bad}:{line}: models" in run.stderr
    good = run_cli("policy", "check", "harmone")
    assert good.returncode == 0 and "ok" in good.stdout


def test_policy_new_keeps_comments_and_lands_in_the_user_dir(tmp_path: Path) -> None:
    done = run_cli("policy", "--data-dir", str(tmp_path), "new", "mine", "--from", "harmone")
    assert done.returncode == 0, done.stderr
    path = tmp_path / "policies" / "mine.toml"
    assert done.stdout.strip() == str(path)
    text = path.read_text()
    comments = [row.strip() for row in preset_text("harmone").splitlines() if "#" in row]
    for comment in comments:  # every comment of the preset survives, inline ones included
        assert comment.split("#", 1)[1].strip() in text
    assert tomllib.loads(text)["name"] == "mine" and text.startswith(
        "# mine: created from preset harmone"
    )
    again = run_cli("policy", "--data-dir", str(tmp_path), "new", "mine", "--from", "harmone")
    assert again.returncode == 2 and "already exists" in again.stderr
    listed = run_cli("policy", "--data-dir", str(tmp_path), "list")
    assert "user    mine" in listed.stdout and "preset  harmone" in listed.stdout
    shown = run_cli("policy", "--data-dir", str(tmp_path), "show", "mine")
    assert shown.stdout == text


def test_harmonica_policy_import(tmp_path: Path) -> None:
    harmonica = {
        "policy_id": "reg_harmone_score",
        "quality_attribute": "score",
        "adaptation_boundary": {
            "type": "STATIC_THRESHOLD",
            "condition": "LESS_THAN",
            "threshold": 0.8,
        },
        "tactics": [
            {
                "tactic_id": "execute_mape_plan",
                "priority": 1,
                "tactic_type": "CORE",
                "tactic_endpoint": "http://localhost:8080/adaptor/tactic",
            }
        ],
        "secondary_boundaries": [
            {
                "quality_attribute": "kl_div",
                "condition": "GREATER_THAN",
                "threshold": 0.5,
                "tactic_id": "handle_data_drift",
            }
        ],
        "associated_qas": ["r2_score", "normalized_energy", "model_used"],
    }
    source = tmp_path / "reg_harmone_score.json"
    source.write_text(json.dumps(harmonica))
    done = run_cli("policy", "--data-dir", str(tmp_path), "import", str(source))
    assert done.returncode == 0, done.stderr
    path = tmp_path / "policies" / "reg-harmone-score.toml"
    policy = parse_policy(path.read_text(), str(path))
    assert policy.switch.min_score == 0.8 and policy.drift.threshold == 0.5
    assert policy.drift.on_drift == "reuse_or_retrain" and policy.score.beta == 0.95
    assert "# Credit-style budget" in path.read_text()  # the preset's explanations come along
    harmonica["tactics"] = [{"tactic_id": "teleport"}]
    source.write_text(json.dumps(harmonica))
    bad = run_cli("policy", "--data-dir", str(tmp_path), "import", str(source), "--name", "x")
    assert bad.returncode == 2 and "tactics.tactic_id: unknown tactic 'teleport'" in bad.stderr
