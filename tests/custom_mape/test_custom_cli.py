"""`--mape DIR` as a user types it: a bad directory is one line and exit 2; `policy show` says
who decides; the user's process ends with harmone; pyRAPL is the real one where it sets up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mape.custom import child
from tests.conftest import REPO, harmone_cmd, subprocess_env
from tests.custom_mape.harmonica_files import write_folder


def harmone(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        harmone_cmd(*args),
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(),
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d, "does not exist"),
        (lambda d: write_folder(d, plan=""), "has no plan.py"),
        (lambda d: write_folder(d, plan="def plan_mape(:\n"), "plan.py:1: syntax error"),
        (lambda d: write_folder(d, execute="def other():\n    pass\n"), "defines no execute_mape"),
    ],
)
def test_a_bad_directory_is_one_line_and_exit_2(tmp_path: Path, make, expected: str) -> None:
    folder = make(tmp_path / "mape")
    done = harmone("--no-ui", "--steps", "10", "--mape", str(folder))
    assert done.returncode == 2, done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith("harmone: error: custom MAPE: ") and expected in first, done.stderr
    assert "Traceback" not in done.stderr


def test_policy_show_says_who_decides(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "mine")
    policy = tmp_path / "p.toml"
    policy.write_text(f'name = "p"\n[mape]\ncustom = "{folder}"\n')
    shown = harmone("policy", "show", str(policy))
    assert shown.returncode == 0, shown.stderr
    assert f"custom MAPE in {folder} decides" in shown.stderr
    builtin = harmone("policy", "show", "harmone")
    assert "harmone's built-in plan decides" in builtin.stderr
    assert harmone("policy", "check", str(policy)).returncode == 0
    (folder / "plan.py").unlink()
    checked = harmone("policy", "check", str(policy))
    assert checked.returncode == 2
    assert checked.stderr.startswith(f"harmone: error: custom MAPE: {folder} has no plan.py")


def test_the_users_process_ends_when_harmone_is_killed(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "mine")
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from mape.custom.knowledge_files import KnowledgeFiles
        from mape.custom.process import CustomProcess
        from mape.policy import Policy

        if __name__ == "__main__":
            files = KnowledgeFiles(Path({str(tmp_path / "work")!r}))
            files.create(Path({str(folder)!r}), Policy(), "lstm", None)
            process = CustomProcess(files.root, Path({str(tmp_path / "log")!r}), 30.0)
            assert process.start().ok
            print(process.pid, flush=True)
            import time
            time.sleep(120)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        cwd=REPO,
    )
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    os.kill(pid, 0)  # alive
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    pytest.fail(f"the custom MAPE process {pid} outlived harmone")


def test_pyrapl_is_the_real_one_where_it_sets_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(child.ENV_J_PER_CPU_S, "1")  # restored after the test
    fake = tmp_path / "site"
    fake.mkdir()
    (fake / "pyRAPL.py").write_text("def setup():\n    pass\n")
    monkeypatch.syspath_prepend(str(fake))
    monkeypatch.delitem(sys.modules, "pyRAPL", raising=False)
    assert child.choose_pyrapl(2.0) == "pyRAPL: the real one (RAPL is readable here)"
    (fake / "pyRAPL.py").write_text("def setup():\n    raise OSError('no RAPL here')\n")
    monkeypatch.delitem(sys.modules, "pyRAPL", raising=False)
    note = child.choose_pyrapl(2.0)
    assert note.startswith("pyRAPL: harmone's stand-in (pyRAPL.setup() failed: OSError")
    assert sys.path[0] == str(child.STANDIN_DIR)
    import pyRAPL  # type: ignore[import-not-found]

    assert pyRAPL.STANDIN
    pyRAPL.setup()
    with pyRAPL.Measurement("busy") as meter:
        sum(i * i for i in range(300_000))
    assert meter.result is not None and meter.result.pkg[0] > 0
    monkeypatch.delitem(sys.modules, "pyRAPL")
    sys.path.remove(str(child.STANDIN_DIR))


def test_retention_removes_the_working_copies_of_pruned_runs(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "mine")
    data = tmp_path / "data"
    argv = ("--no-ui", "--policy", "single-linear", "--steps", "30", "--data-dir", str(data))
    for _ in range(3):
        done = harmone(*argv, "--quiet", "--mape", str(folder), "--keep-steps-runs", "2")
        assert done.returncode == 0, done.stderr
    copies = sorted(p.name for p in (data / "custom_mape").iterdir())
    assert copies == ["run-2", "run-3"]  # run 1's steps were pruned, and its copy with them
    assert (data / "logs" / "custom-mape-run-1.log").exists()  # what the code printed stays
