"""`harmone policy list | show NAME [--explain] | check FILE | new NAME --from PRESET | import`.

``import FILE.json`` reads a Harmonica policy. Presets ship in the package (``mape/presets``); user
policies are TOML files in the data directory's ``policies/``, where ``new`` and ``import`` write
them. Every policy a command reads is validated the way a run validates it, models included, and
every problem of a file is reported at once with its file, line and key. ``show --explain``
prints each field beside its default, range and help, read from the policy schema
(``mape.policy_schema``), as the TUI editor and docs/policy.md do.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from harmone_tui import paths

if TYPE_CHECKING:
    from mape.policy_doc import PolicyDocument

ENGINE_MODEL_MODULES = {
    "regression": "engines.regression.engine",
    "vision": "engines.vision.engine",
    "fake": "engines.fake",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="presets and user policies")
    listing.add_argument(
        "--json", action="store_true", help="print a JSON list: kind, name, description, path"
    )
    show = sub.add_parser("show", help="print a policy's TOML (--explain: every field explained)")
    show.add_argument("name", help="preset, user policy or TOML file")
    show.add_argument(
        "--explain",
        action="store_true",
        help="print each field with its value, default, range and help instead of the TOML",
    )
    show.add_argument("--json", action="store_true", help="with --explain: print a JSON list")
    check = sub.add_parser("check", help="validate a policy file (exit 2 with file, line and key)")
    check.add_argument("file", help="TOML file (or a policy name)")
    new = sub.add_parser("new", help="create an editable user policy from a preset")
    new.add_argument("name", help="name of the new policy (also its file name)")
    new.add_argument(
        "--from",
        dest="source",
        default="harmone",
        help="preset or policy to start from (default: harmone)",
    )
    new.add_argument("--force", action="store_true", help="replace an existing user policy")
    imp = sub.add_parser("import", help="import a Harmonica policy JSON as a user policy")
    imp.add_argument("file", type=Path, help="Harmonica policy JSON")
    imp.add_argument("--name", help="name of the new policy (default: from policy_id)")
    imp.add_argument("--force", action="store_true", help="replace an existing user policy")


def engine_model_names(engine: str) -> list[str] | None:
    """The model names an engine offers, without building it; None if it cannot be told."""
    module_name = ENGINE_MODEL_MODULES.get(engine)
    if module_name is None:
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return [m.name for m in getattr(module, "MODELS", ())] or None


def imported_model_names(root: Path | None, engine: str) -> list[str]:
    """Models of ``engine`` imported into the data dir ``root`` (``harmone models import``),
    read from its store without creating one."""
    knowledge = paths.knowledge_file(root) if root is not None else None
    if knowledge is None or not knowledge.exists():
        return []
    from mape.knowledge import KnowledgeStore

    store = KnowledgeStore.open(knowledge)
    try:
        rows = store.versions(engine)
    finally:
        store.close()
    return sorted({r.model for r in rows if "imported" in r.meta})


def validated(name_or_path: str, policies_dir: Path, root: Path | None = None) -> PolicyDocument:
    """Resolve and fully validate a policy, models against its engine (and the models imported
    into the data dir ``root``); every problem is named in one :class:`PolicyError` (schema,
    engine and models together). A plug-in engine's models cannot be told without building it:
    they are checked when it runs."""
    from engines.registry import installed
    from mape.policy import Policy, Problem, error_of
    from mape.policy_file import resolve_document

    doc = resolve_document(name_or_path, policies_dir)
    problems = doc.errors
    engine = doc.written("engine", Policy().engine)
    engines = installed()
    if isinstance(engine, str) and engine not in engines:
        problems.append(
            Problem(
                doc.source,
                doc.line_of("engine"),
                "engine",
                f"unknown engine {engine!r} (known: {', '.join(engines)})",
            )
        )
    elif isinstance(engine, str) and (known := engine_model_names(engine)):
        problems += doc.model_errors(known + imported_model_names(root, engine))
    if problems:
        raise error_of(sorted(problems, key=lambda p: p.line or 0), doc.source)
    return doc


def _description(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.startswith("description"):
            return line.split("=", 1)[1].strip().strip('"')
    first = text.splitlines()[0] if text else ""
    if first.startswith("#"):
        return first.lstrip("# ").split(": ", 1)[-1]
    return fallback


def _list(policies_dir: Path, as_json: bool) -> int:
    from mape.policy_file import preset_names, preset_text, user_policy_names

    rows = [("preset", n, _description(preset_text(n), "")) for n in preset_names()]
    for n in user_policy_names(policies_dir):
        text = (policies_dir / f"{n}.toml").read_text(encoding="utf-8", errors="replace")
        rows.append(("user", n, _description(text, str(policies_dir / f"{n}.toml"))))
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "kind": kind,
                        "name": name,
                        "description": about,
                        "path": str(policies_dir / f"{name}.toml") if kind == "user" else None,
                    }
                    for kind, name, about in rows
                ],
                indent=2,
            )
        )
        return 0
    width = max(len(n) for _, n, _ in rows)
    for kind, name, about in rows:
        print(f"{kind:<7} {name:<{width}}  {about}")
    if not user_policy_names(policies_dir):
        print(
            f"\nno user policies yet in {policies_dir};"
            " create one with `harmone policy new NAME --from harmone`"
        )
    return 0


def _new(args: argparse.Namespace, policies_dir: Path, root: Path) -> int:
    from mape.policy_doc import user_policy_path

    path = user_policy_path(policies_dir, args.name)
    doc = validated(args.source, policies_dir, root)
    header = (
        f"{args.name}: created from {doc.source} by `harmone policy new`"
        f" on {time.strftime('%Y-%m-%d')}.\n"
        "Edit freely: `harmone policy check` validates it; `harmone --policy NAME` runs it."
    )
    doc.edit({"name": args.name}, header).save(path, replace=args.force)
    print(path)
    return 0


def _import(args: argparse.Namespace, policies_dir: Path) -> int:
    from mape.harmonica import from_harmonica
    from mape.policy import PolicyError
    from mape.policy_doc import PolicyDocument, user_policy_path
    from mape.policy_file import preset_names, preset_text

    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{args.file}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PolicyError(f"{args.file}: not a readable JSON file ({exc})") from None
    imported = from_harmonica(data, str(args.file))
    name = args.name or imported.name
    path = user_policy_path(policies_dir, name)
    base_name = imported.base if imported.base in preset_names() else "single-lstm"
    base = PolicyDocument(preset_text(base_name), f"preset {base_name}")
    lines = [
        f"{name}: imported from the Harmonica policy {args.file} on {time.strftime('%Y-%m-%d')}",
        f"(started from preset {imported.base}; what the import did:)",
    ]
    lines += [f"- {note}" for note in imported.notes]
    base.edit({**imported.changes, "name": name}, "\n".join(lines)).save(path, replace=args.force)
    for note in imported.notes:
        print(f"note: {note}", file=sys.stderr)
    print(path)
    return 0


def _show(args: argparse.Namespace, policies_dir: Path, root: Path) -> int:
    from mape.policy import PolicyError
    from mape.policy_fields import explain_rows, explain_text

    if args.json and not args.explain:
        raise PolicyError("policy show: --json goes with --explain (the TOML is printed as is)")
    from mape.custom.folder import decider

    doc = validated(args.name, policies_dir, root)
    print(f"# {doc.source}", file=sys.stderr)
    print(f"# {decider(doc.policy)}", file=sys.stderr)
    if args.json:
        print(json.dumps(explain_rows(doc.policy), indent=2, ensure_ascii=False))
    elif args.explain:
        sys.stdout.write(explain_text(doc.policy))
    else:
        sys.stdout.write(doc.text if doc.text.endswith("\n") else doc.text + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    root = paths.data_dir(args.data_dir)
    policies_dir = paths.policies_dir(root)
    if args.action == "list":
        return _list(policies_dir, args.json)
    if args.action == "show":
        return _show(args, policies_dir, root)
    if args.action == "check":
        from mape.custom.folder import with_folder

        doc = validated(args.file, policies_dir, root)
        policy = with_folder(doc.policy, doc.source, None)  # a custom MAPE dir must be usable
        models = ", ".join(policy.models)
        print(f"{doc.source}: ok ({policy.name}: engine {policy.engine}, models {models})")
        return 0
    if args.action == "new":
        return _new(args, policies_dir, root)
    return _import(args, policies_dir)
