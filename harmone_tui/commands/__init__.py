"""Sub-commands of `harmone`. Each module has `register(subparsers)` setting `func` on its parser.

Modules are imported only when the command line names them, so `harmone --help` stays fast.
"""

from __future__ import annotations

# name -> (module, one-line help); the module is imported lazily by the CLI.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("harmone_tui.commands.run", "run the managed system (TUI, or headless with --no-ui)"),
    "doctor": ("harmone_tui.commands.doctor", "check the machine: energy backend, engines, data dir"),
    "models": ("harmone_tui.commands.models", "list, import or bootstrap model versions"),
    "policy": ("harmone_tui.commands.policy", "list, show, check or create adaptation policies"),
    "compare": ("harmone_tui.commands.compare", "run several policies on one stream, one table"),
    "locate": ("harmone_tui.commands.locate", "print where data, config and themes live"),
}
