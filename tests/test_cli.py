"""The `harmone` command line as a user types it: where options go, help, typos, bad arguments.

In-process through ``cli.main`` (argparse is the thing tested; no engine runs), except where the
process boundary is the point (the TUI refusing to start without a terminal).
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harmone_tui import cli
from harmone_tui.argparsing import Parser
from harmone_tui.commands import COMMANDS
from tests.conftest import harmone_cmd, subprocess_env


def call(argv: list[str]) -> int:
    """``harmone argv`` in this process; argparse's SystemExit counts as its exit code."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_data_dir_goes_before_or_after_the_command_and_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ["--data-dir", str(tmp_path), "locate", "data"],
        ["locate", "--data-dir", str(tmp_path), "data"],
        ["locate", "data", "--data-dir", str(tmp_path)],
    ):
        assert call(argv) == 0, capsys.readouterr().err
        assert capsys.readouterr().out.strip() == str(tmp_path), argv
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "mine.toml").write_text('name = "mine"\nengine = "regression"\n')
    for argv in (
        ["--data-dir", str(tmp_path), "policy", "list"],
        ["policy", "--data-dir", str(tmp_path), "list"],
        ["policy", "list", "--data-dir", str(tmp_path)],
    ):
        assert call(argv) == 0, capsys.readouterr().err
        assert "mine" in capsys.readouterr().out, argv


def test_a_module_declaring_data_dir_itself_still_gets_the_global_one(tmp_path: Path) -> None:
    """Sub-commands used to declare --data-dir each; one that still does must not break it."""
    top = Parser(prog="harmone", top=True)
    sub = top.add_subparsers(dest="command").add_parser("models")
    sub.add_argument("--data-dir", type=Path, help="data directory (default: user data dir)")
    actions = sub.add_subparsers(dest="action")
    actions.add_parser("list").add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    for argv in (
        ["--data-dir", str(tmp_path), "models", "list"],
        ["models", "--data-dir", str(tmp_path), "list"],
        ["models", "list", "--data-dir", str(tmp_path)],
    ):
        assert top.parse_args(argv).data_dir == tmp_path, argv


def test_data_dir_before_doctor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert call(["--data-dir", str(tmp_path), "doctor", "--json"]) == 0
    assert f'"path": "{tmp_path}"' in capsys.readouterr().out


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_help_names_the_command(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert call([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: harmone {command} "), out.splitlines()[0]
    assert "--data-dir" in out


def test_top_help_lists_commands_and_points_to_run_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert call(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: harmone ")
    for command in COMMANDS:
        assert f"\n    {command} " in out, command
    assert "--no-ui" in out and "harmone run --help" in out
    assert call(["--version"]) == 0
    assert capsys.readouterr().out.startswith("harmone ")


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["polcy", "list"], "'policy'"),
        (["doctr"], "'doctor'"),
        (["policy", "lst"], "'list'"),
        (["models", "lsit"], "'list'"),
        (["runs", "shwo", "1"], "'show'"),
        (["--no-ui", "--engine", "regresion"], "'regression'"),
    ],
)
def test_typos_get_a_suggestion(
    argv: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert call(argv) == 2
    err = capsys.readouterr().err
    assert f"did you mean {suggestion}?" in err, err


def test_a_bad_value_names_its_flag_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert call(["--no-ui", "--speed", "fast"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.count("--speed") == 1, error
    assert "'fast'" in error


def test_run_is_the_explicit_form_of_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both forms reach the run command: without a terminal the TUI refuses in the same words."""
    assert call(["run", "--data-dir", str(tmp_path)]) == 2
    explicit = capsys.readouterr().err
    assert call(["--data-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == explicit
    assert "--no-ui" in explicit and len(explicit.strip().splitlines()) == 1


def test_run_options_before_another_command_are_refused_clearly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert call(["--no-ui", "doctor"]) == 2
    err = capsys.readouterr().err
    assert "--no-ui" in err and "harmone doctor" in err


def leaf_parsers() -> Iterator[tuple[list[str], argparse.ArgumentParser]]:
    """Every command and sub-action with its parser (the fully built tree)."""

    def walk(path: list[str], parser: argparse.ArgumentParser):  # type: ignore[no-untyped-def]
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            yield path, parser
            return
        for name, child in subs[0].choices.items():
            yield from walk([*path, name], child)

    yield from walk([], cli.build_parser())


LEAVES = [" ".join(path) for path, _ in leaf_parsers()]
# A bad value for each typed option a user can get wrong (beyond an unknown option).
BAD_VALUES = [
    ["run", "--steps", "0"],
    ["run", "--speed", "-3"],
    ["run", "--keep-steps-runs", "x"],
    ["compare", "--steps", "many"],
    ["compare", "--engine", "audio"],
    ["locate", "everything"],
    ["runs", "list", "--limit", "0"],
    ["runs", "show", "first"],
    ["runs", "prune", "--keep", "-1"],
    ["runs", "prune", "--older-than", "soon"],
    ["runs", "prune", "--keep", "3", "--older-than", "2"],
    ["models", "import", "yolo_x", "w.pt"],
    ["models", "bootstrap", "audio"],
    ["models", "bootstrap", "vision", "--epochs", "0"],
    ["models", "bootstrap", "vision", "--models", "yolo_q"],
    ["policy", "show"],
    ["policy", "new"],
]


def test_every_command_and_action_is_covered() -> None:
    assert {
        "run",
        "doctor",
        "locate",
        "compare",
        "policy list",
        "models list",
        "runs list",
        "runs show",
        "runs prune",
    } <= set(LEAVES)


@pytest.mark.parametrize(
    "argv",
    [[*leaf.split(), "--no-such-option"] for leaf in LEAVES] + BAD_VALUES,
    ids=lambda argv: " ".join(argv),
)
def test_every_bad_argument_is_one_error_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert call(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert lines[0].startswith("usage: harmone"), lines
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("leaf", LEAVES)
def test_an_unknown_option_shows_the_usage_of_its_own_command(
    leaf: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`harmone models remove --bogus` used to print the top-level usage ("usage: harmone [-h]
    ..."), which lists no option of `models remove`."""
    assert call([*leaf.split(), "--bogus"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith(f"usage: harmone {leaf} "), lines[0]
    assert lines[-1].startswith(f"harmone {leaf}: error: "), lines[-1]


# Command lines that parse, but name a file, policy, run or version that is not there or cannot
# be used: the command itself refuses them ({tmp} is a fresh directory). Run options are
# followed by --steps 5, so a line that wrongly got through would end quickly.
BAD_INPUTS = [
    ["policy", "show", "nosuch"],
    ["policy", "check", "{tmp}/missing.toml"],
    ["policy", "new", "../up", "--from", "harmone"],
    ["policy", "new", "mine", "--from", "nosuch"],
    ["runs", "show", "999"],
    ["models", "remove", "regression", "linear", "9"],
    ["models", "remove", "regression", "linear"],
    ["models", "import", "yolo_n", "{tmp}/missing.pt"],
    ["--no-ui", "--policy", "nosuch", "--steps", "5"],
    ["--no-ui", "--data", "{tmp}/missing.csv", "--steps", "5"],
    ["--no-ui", "--data", "{tmp}", "--steps", "5"],
    ["--no-ui", "--train", "{tmp}/missing.csv", "--steps", "5"],
    ["--no-ui", "--engine", "regression", "--policy", "vision-switch", "--steps", "5"],
    ["--no-ui", "--engine", "audio", "--steps", "5"],
    ["--no-ui", "--engine", "{tmp}/missing.py", "--steps", "5"],
    ["--no-ui", "--engine", "no_such_module:factory", "--steps", "5"],
    ["engine", "new", "Bad-Name", "--dir", "{tmp}"],
    ["compare", "--policies", "nosuch", "--steps", "5"],
]


@pytest.mark.parametrize("argv", BAD_INPUTS, ids=lambda argv: " ".join(argv))
def test_every_bad_input_is_one_error_line_and_exit_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CONTRIBUTING's promise: one line naming what is wrong (and at most one hint line under
    it), exit 2, no traceback. Progress lines before it are allowed (`harmone: reading data`)."""
    from mape.knowledge import KnowledgeStore

    KnowledgeStore.open(tmp_path / "data" / "knowledge.sqlite3").close()  # an empty store
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    assert call(["--data-dir", str(tmp_path / "data"), *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("harmone: error: ")]
    assert len(errors) == 1, lines
    after = lines[errors[0] + 1 :]
    assert after == [] or (len(after) == 1 and after[0].startswith("  hint: ")), lines
    assert not any(": error: " in line for line in lines[: errors[0]]), lines


def test_a_hint_is_printed_under_the_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mape.knowledge import KnowledgeStore

    KnowledgeStore.open(tmp_path / "knowledge.sqlite3").close()
    assert call(["--data-dir", str(tmp_path), "models", "remove", "regression", "linear", "9"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"harmone: error: no version regression linear v9 in {tmp_path}",
        "  hint: `harmone models list` shows the stored versions",
    ]


def test_tui_without_a_terminal_refuses_in_one_line(tmp_path: Path) -> None:
    """`harmone </dev/null >out` (cron, a pipe): one line suggesting --no-ui, exit 2, no escapes."""
    env = subprocess_env(HARMONE_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run(
        harmone_cmd(), stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "\x1b" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "--no-ui" in done.stderr
    assert not (tmp_path / "data").exists()
