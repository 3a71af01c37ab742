"""One paths module: the rules for data, config, cache and logs, and a run that writes nothing
outside its --data-dir (the home directory walked before and after)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harmone_tui import paths
from harmone_tui.cli import main
from mape.knowledge import KnowledgeStore
from mape.model_repo import ModelRepository
from tests.conftest import SAMPLE, harmone_cmd, subprocess_env

FRAMEWORK_VARS = tuple(paths.FRAMEWORK_DIRS)


def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME at an empty directory, no XDG or HARMONE_* variables: only the rules decide."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in (
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_STATE_HOME",
        paths.ENV_DATA_DIR,
        paths.ENV_CONFIG_DIR,
        *FRAMEWORK_VARS,
    ):
        monkeypatch.delenv(name, raising=False)
    return home


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_chosen_data_dir_holds_config_cache_and_logs() -> None:
    for where in (paths.resolve("/d", {}), paths.resolve(None, {paths.ENV_DATA_DIR: "/d"})):
        assert (where.data, where.config, where.cache, where.logs) == (
            Path("/d"),
            Path("/d/config"),
            Path("/d/cache"),
            Path("/d/logs"),
        )
    assert paths.resolve("/d", {paths.ENV_DATA_DIR: "/e"}).data == Path("/d")  # the flag wins


def test_config_dir_variable_wins_over_the_data_dir() -> None:
    assert paths.resolve("/d", {paths.ENV_CONFIG_DIR: "/c"}).config == Path("/c")


def test_nothing_chosen_is_the_platform_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = empty_home(tmp_path, monkeypatch)
    where = paths.resolve()
    assert where.data == home / ".local/share/harmone"
    assert where.config == home / ".config/harmone" and where.cache == home / ".cache/harmone"


def test_the_models_dir_is_the_one_the_store_rows_name(tmp_path: Path) -> None:
    store = KnowledgeStore.open(paths.knowledge_file(tmp_path))
    try:
        assert ModelRepository(tmp_path, store).models_root == paths.models_dir(tmp_path)
    finally:
        store.close()


def test_a_command_applies_its_data_dir_and_restores_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty_home(tmp_path, monkeypatch)
    data = tmp_path / "d"
    assert main(["--data-dir", str(data), "locate"]) == 0
    shown = dict(line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines())
    assert shown["config"] == str(data / "config") and shown["cache"] == str(data / "cache")
    assert shown["logs"] == str(data / "logs")
    assert not any(name in os.environ for name in FRAMEWORK_VARS)
    assert paths.config_dir() != data / "config"  # the next command starts from the rules again


@pytest.mark.slow
@pytest.mark.lstm
def test_a_headless_run_with_data_dir_writes_nothing_outside_it(tmp_path: Path) -> None:
    """Importing TensorFlow wrote ~/.keras/keras.json and matplotlib's font cache under ~/.cache
    (and ~/.config/matplotlib), whatever --data-dir said. The LSTM trains on 200 rows (--train)
    so the run stays short; its worker process is where TensorFlow is imported first."""
    pytest.importorskip("tensorflow")
    home, data = tmp_path / "home", tmp_path / "D"
    home.mkdir()
    train = tmp_path / "D-train.csv"
    train.write_text("".join((SAMPLE / "flow_train.csv").read_text().splitlines(True)[:201]))
    env = subprocess_env(HOME=str(home))
    for name in (
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        paths.ENV_DATA_DIR,
        paths.ENV_CONFIG_DIR,
        *FRAMEWORK_VARS,
    ):
        env.pop(name, None)
    done = subprocess.run(
        harmone_cmd(
            "--no-ui",
            "--policy",
            "single-lstm",
            "--train",
            str(train),
            "--steps",
            "100",
            "--data-dir",
            str(data),
            "--summary",
            str(data / "summary.json"),
        ),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert tree(home) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["D", "D-train.csv", "home"]
    assert (data / "cache" / "keras" / "keras.json").is_file()
    assert (data / "logs" / "trainer.log").is_file() and (data / "summary.json").is_file()
