"""A private tmux server for the TUI benchmark: start ``harmone`` in a real pseudo-terminal,
read its screen, send keys, and clean everything up (also on error)."""

from __future__ import annotations

import contextlib
import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil

WIDTH, HEIGHT = 120, 40
POLL_S = 0.02


class BenchError(RuntimeError):
    """The benchmark could not measure (the app died, a wait timed out...)."""


class Tmux:
    """A private tmux server (own socket, in the temporary directory): sessions here never
    touch the user's, and the socket goes with the directory."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.socket = str(cwd / "tmux.sock")
        self.env = env
        self.cwd = cwd
        self.sessions: list[str] = []
        self.pids: set[int] = set()  # the panes' processes (the apps), for the clean-up
        self.started = False

    def __call__(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        if check and done.returncode != 0:
            raise BenchError(f"tmux {' '.join(args[:2])}: {done.stderr.strip()}")
        return done.stdout

    def start_server(self) -> None:
        # exit-empty off: the server outlives sessions, so its start-up is not in any timing
        self("start-server", ";", "set-option", "-s", "exit-empty", "off")
        self.started = True

    def launch(self, name: str, argv: list[str]) -> float:
        """Start ``argv`` in a new detached session; returns the perf_counter just before."""
        command = shlex.join(argv)
        env_flags = [x for k, v in self.env.items() for x in ("-e", f"{k}={v}")]
        t0 = time.perf_counter()
        self(
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            str(WIDTH),
            "-y",
            str(HEIGHT),
            "-c",
            str(self.cwd),
            *env_flags,
            command,
            ";",
            "set-option",
            "-t",
            name,
            "remain-on-exit",
            "on",
        )
        self.sessions.append(name)
        with contextlib.suppress(BenchError, ValueError):  # the pane's pid stays the app's
            self.pids.add(int(self("display", "-p", "-t", name, "#{pane_pid}").strip()))
        return t0

    def screen(self, name: str) -> str:
        return self("capture-pane", "-p", "-t", name)

    def dead(self, name: str) -> bool:
        return self("display", "-p", "-t", name, "#{pane_dead}").strip() == "1"

    def app_process(self, name: str) -> psutil.Process:
        """The app's python process: the pane's process (tmux execs it) or its python child."""
        pane = psutil.Process(int(self("display", "-p", "-t", name, "#{pane_pid}").strip()))
        if "python" in pane.name().lower():
            return pane
        for child in pane.children(recursive=True):
            if "python" in child.name().lower():
                return child
        raise BenchError(f"{name}: no python process in the pane")

    def server_process(self) -> psutil.Process:
        return psutil.Process(int(self("display", "-p", "#{pid}").strip()))

    def wait(self, name: str, ready: Callable[[str], bool], timeout: float, what: str) -> str:
        """Poll the pane until ``ready(screen)``; raise (with the screen) on death or timeout."""
        deadline = time.perf_counter() + timeout
        while True:
            text = self.screen(name)
            if ready(text):
                return text
            if self.dead(name):
                raise BenchError(
                    f"{name}: the app exited while waiting for {what}:\n{text.rstrip()}"
                )
            if time.perf_counter() > deadline:
                raise BenchError(
                    f"{name}: no {what} after {timeout:.0f} s; screen:\n{text.rstrip()}"
                )
            time.sleep(POLL_S)

    def quit_app(self, name: str, timeout: float = 15.0) -> None:
        """Press q (the run's summary is stored), wait for the app to exit, end the session."""
        with contextlib.suppress(BenchError):
            if not self.dead(name):
                self("send-keys", "-t", name, "q")
                deadline = time.perf_counter() + timeout
                while not self.dead(name) and time.perf_counter() < deadline:
                    time.sleep(0.05)
        self("kill-session", "-t", name, check=False)

    def close(self) -> None:
        """Kill the private server; then any app process of ours that survived its SIGHUP."""
        tree: list[psutil.Process] = []
        for pid in self.pids:
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                tree += [proc, *proc.children(recursive=True)]
        if self.started:
            self("kill-server", check=False)
        _, alive = psutil.wait_procs(tree, timeout=3)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
