"""pyproject's dependencies match the code: what the app imports is declared, and what the core
list declares is imported (an unused core dependency is a download every user pays for)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib

from tests.conftest import REPO

APP_PACKAGES = ("harmone_tui", "harmone_common", "engines", "mape")
OWN = {*APP_PACKAGES, "themes", "sample_data", "tests", "benchmarks"}
MODULE_OF = {"scikit-learn": "sklearn", "pillow": "PIL", "tensorflow-cpu": "tensorflow"}


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def module_name(requirement: str) -> str:
    dist = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0]
    return MODULE_OF.get(dist, dist)


def _imported_names(node: ast.AST) -> list[str]:
    """Modules a node imports: import statements, and ``import_module("x")`` /
    ``find_spec("x")`` calls with a literal name (river is imported that way)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("import_module", "find_spec")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return [node.args[0].value]
    return []


def _optional_imports(tree: ast.AST) -> set[ast.AST]:
    """Import nodes inside ``try: ... except ImportError``: the code says what to install."""
    guarded: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
            for h in node.handlers
        ):
            guarded |= {n for stmt in node.body for n in ast.walk(stmt)}
    return guarded


def third_party_imports(*folders: str) -> set[str]:
    """Top-level names of every non-stdlib import under ``folders``, lazy imports included,
    optional ones (guarded by ``except ImportError``) left out."""
    found, local = set(), set(OWN)
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            if folder not in APP_PACKAGES or not (path.parent / "__init__.py").exists():
                # scripts import their sibling modules by name; a folder of the app that is no
                # package is put on sys.path (mape/custom/standin's pyRAPL stand-in)
                local.add(path.stem)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            optional = _optional_imports(tree)
            for node in ast.walk(tree):
                if node not in optional:
                    found |= {name.split(".")[0] for name in _imported_names(node)}
    return {name for name in found if name not in sys.stdlib_module_names and name not in local}


def test_every_core_dependency_is_imported_by_the_app() -> None:
    imported = third_party_imports(*APP_PACKAGES)
    core = {module_name(r) for r in project()["dependencies"]}
    assert core - imported == set()


def test_every_import_is_declared() -> None:
    meta = project()
    declared = {module_name(r) for r in meta["dependencies"]}
    for requirements in meta["optional-dependencies"].values():
        declared |= {module_name(r) for r in requirements if not r.startswith("harmone-tui")}
    assert third_party_imports(*APP_PACKAGES, "benchmarks") - declared == set()


def test_benchmark_only_packages_are_not_core() -> None:
    core = {module_name(r) for r in project()["dependencies"]}
    assert "psutil" not in core
    assert "psutil" in {module_name(r) for r in project()["optional-dependencies"]["bench"]}
