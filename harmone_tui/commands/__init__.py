"""Sub-commands of `harmone`. Each module named in :data:`COMMANDS` has `add_arguments(parser)`
and `run(args) -> exit code`; other modules here are their helpers (``models_check`` adds the
``check`` and ``remove`` actions of ``models``).

Modules are imported only when the command line names them, so `harmone --help` stays fast.
The global options (``--data-dir``) are added to every parser by the CLI (see
``harmone_tui.argparsing``); a module need not declare them. ``run`` raises a
``HarmoneError`` for anything the user must fix: the CLI prints it in one line, exit 2.
"""

from __future__ import annotations

# name -> (module, one-line help); the module is imported lazily by the CLI.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "harmone_tui.commands.run",
        "run the managed system (TUI, or headless with --no-ui); the default",
    ),
    "doctor": (
        "harmone_tui.commands.doctor",
        "check the machine: energy backend, engines, data dir",
    ),
    "engine": (
        "harmone_tui.commands.engine",
        "list the engines (bundled and plug-ins) or write a new plug-in engine package",
    ),
    "models": ("harmone_tui.commands.models", "list, import or bootstrap model versions"),
    "policy": ("harmone_tui.commands.policy", "list, show, check or create adaptation policies"),
    "compare": ("harmone_tui.commands.compare", "run several policies on one stream, one table"),
    "bench": (
        "harmone_tui.commands.bench",
        "every policy on every drift scenario: regret, oracle bound, one table and picture",
    ),
    "runs": ("harmone_tui.commands.runs", "list, show or prune earlier runs (the knowledge store)"),
    "energy": (
        "harmone_tui.commands.energy",
        "calibrate the energy estimate against RAPL, show a calibration profile",
    ),
    "locate": ("harmone_tui.commands.locate", "print where data, config and themes live"),
    "serve": ("harmone_tui.commands.serve", "manage pipelines that run elsewhere, over HTTP"),
    "attach": ("harmone_tui.commands.attach", "the TUI of a running `harmone serve`"),
}
