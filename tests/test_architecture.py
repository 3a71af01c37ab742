"""The architecture, enforced: layers, who may import Textual and ML frameworks, no import cycles,
one error family, and ruff (lint and format) over the whole tree.

The import contracts read the source (every ``import``, also inside functions and under
``TYPE_CHECKING``: a typing-only import still ties two modules together), so they need no
package of their own; import-linter's contracts cannot say "no cycle between any two modules".
A subprocess then imports the lower layers (and runs a MAPE loop) and looks at ``sys.modules``,
which catches what a third-party import drags in.

Layers, top to bottom; a module may import its own layer and any layer below::

    harmone_tui.cli, harmone_tui.commands  (the entry: picks a front end)
    harmone_tui.ui  ->  harmone_tui (core)  ->  mape  ->  engines  ->  harmone_common
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import REPO, subprocess_env

PACKAGES = ("harmone_tui", "harmone_common", "engines", "mape")
# Bottom first. The CLI sits on top: it picks a front end (headless or harmone_tui.ui).
LAYERS = (
    ("harmone_common",),
    ("engines",),
    ("mape",),
    ("harmone_tui",),
    ("harmone_tui.ui",),
    ("harmone_tui.cli", "harmone_tui.commands", "harmone_tui.__main__"),
)
ML_FRAMEWORKS = ("tensorflow", "keras", "torch", "ultralytics", "sklearn")
RUFF_TARGETS = (*PACKAGES, "tests", "benchmarks", "scripts")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))}


def imported(path: Path) -> Iterator[tuple[str, int]]:
    """(module, line) of every import in the file, relative ones resolved; ``from a import b``
    yields ``a.b`` when that is a module of ours, else ``a``."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if full in modules() else base), node.lineno


@cache
def graph() -> dict[str, dict[str, int]]:
    """Our modules -> the modules of ours they import (with the first line that does)."""
    edges: dict[str, dict[str, int]] = {}
    for name, path in modules().items():
        targets: dict[str, int] = {}
        for target, line in imported(path):
            if target in modules() and target != name:
                targets.setdefault(target, line)
        edges[name] = targets
    return edges


def layer(module: str) -> int:
    return max(
        i
        for i, tops in enumerate(LAYERS)
        for top in tops
        if module == top or module.startswith(top + ".")
    )


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_our_imports() -> None:
    """Guards the reader: the edges the contracts rely on are found."""
    assert "harmone_tui.runtime" in graph()["harmone_tui.headless"]
    assert "engines.base" in graph()["engines.fake"]
    assert "harmone_common.errors" in graph()["engines.base"]


def test_each_layer_imports_only_its_own_and_lower_layers() -> None:
    upward = [
        f"{modules()[a].relative_to(REPO)}:{line}: {a} imports {b}"
        for a, targets in graph().items()
        for b, line in targets.items()
        if layer(b) > layer(a)
    ]
    assert upward == []


def test_no_import_cycle_between_any_two_modules() -> None:
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("allowed_under", "forbidden"),
    [("harmone_tui.ui", ("textual",)), ("engines", ML_FRAMEWORKS)],
    ids=["textual only in harmone_tui.ui", "ML frameworks only in engines"],
)
def test_heavy_imports_stay_where_they_belong(
    allowed_under: str, forbidden: tuple[str, ...]
) -> None:
    found = [
        f"{path.relative_to(REPO)}:{line}: {target}"
        for name, path in modules().items()
        if not (name == allowed_under or name.startswith(allowed_under + "."))
        for target, line in imported(path)
        if target.split(".")[0] in forbidden
    ]
    assert found == []


# Imported in a fresh interpreter (a MAPE loop is also run, for imports made at run time): what
# each layer must not drag in, even through a third-party package (river and sklearn, say).
PROBES = {
    "mape": (
        [
            "mape.knowledge",
            "mape.model_repo",
            "mape.policy",
            "mape.policy_file",
            "mape.loop",
            "mape.effector",
            "harmone_common.errors",
        ],
        ("textual", "harmone_tui", *ML_FRAMEWORKS),
    ),
    "engines": (
        [
            "engines.base",
            "engines.registry",
            "engines.energy",
            "engines.regression.engine",
            "engines.regression.factory",
            "engines.regression.training",
        ],
        ("textual", "harmone_tui", "mape", "tensorflow", "torch", "ultralytics"),
    ),
    "headless core": (["harmone_tui.headless", "harmone_tui.runtime"], ("textual",)),
    "cli": (["harmone_tui.cli"], ("textual", "tensorflow", "torch")),
}
LOOP = """
from mape.loop import MapeLoop
from mape.policy_file import resolve_policy
from tests.mape.helpers import RecordingEffector, r2_quality
for name in ("harmone", "switch+retrain"):
    p = resolve_policy(name)[0]
    for detector in ("kl", "adwin"):
        policy = p.with_values(drift=p.drift.__class__(detector=detector))
        loop = MapeLoop(policy, r2_quality, RecordingEffector(), p.start_model, 1)
        x = np.arange(3000.0) % 97
        for s in range(0, 3000, 20):
            if s:
                loop.cycle(s)
            loop.observe(s, p.start_model, x[s:s+20], x[s:s+20], x[s:s+20], np.ones(20))
"""


@pytest.mark.parametrize("layer_name", sorted(PROBES))
def test_a_layer_loads_nothing_it_must_not(layer_name: str) -> None:
    names, forbidden = PROBES[layer_name]
    probe = "import importlib, sys\nimport numpy as np\n"
    probe += "".join(f"importlib.import_module({m!r})\n" for m in names)
    probe += LOOP if layer_name == "mape" else ""
    probe += f"print(sorted(m for m in {forbidden!r} if m in sys.modules))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_error_class_is_a_harmone_error() -> None:
    """A user's error is caught once, as HarmoneError: no error class of ours may bypass it."""
    bare = [
        f"{path.relative_to(REPO)}:{node.lineno}: class {node.name}"
        for name, path in modules().items()
        if name != "harmone_common.errors"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and not node.name.startswith("_")  # private: internal
        and any(isinstance(b, ast.Name) and b.id == "Exception" for b in node.bases)
    ]
    assert bare == []


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *RUFF_TARGETS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.whole_tree
def test_ruff_check_passes() -> None:
    done = ruff("check", "--no-cache")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr


@pytest.mark.whole_tree
def test_ruff_format_leaves_every_file_as_it_is() -> None:
    done = ruff("format", "--check", "--no-cache")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr
