"""Finding policies by name (presets shipped in the package, user policies in the data dir) and
reading them as :class:`~mape.policy_doc.PolicyDocument`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from mape.names import name_problem
from mape.policy import Policy, PolicyError
from mape.policy_doc import PolicyDocument, key_locator

__all__ = [
    "PRESET_PACKAGE",
    "key_locator",
    "load_policy_file",
    "parse_policy",
    "preset_names",
    "preset_text",
    "resolve_document",
    "resolve_policy",
    "user_policy_names",
]

PRESET_PACKAGE = "mape.presets"


def parse_policy(text: str, source: str) -> Policy:
    """Parse and validate policy TOML text; ``source`` names it in error messages."""
    return PolicyDocument(text, source).policy


def load_policy_file(path: Path) -> Policy:
    return PolicyDocument.from_file(path).policy


def preset_names() -> list[str]:
    return sorted(
        p.name[: -len(".toml")]
        for p in resources.files(PRESET_PACKAGE).iterdir()
        if p.name.endswith(".toml")
    )


def preset_text(name: str) -> str:
    return (resources.files(PRESET_PACKAGE) / f"{name}.toml").read_text(encoding="utf-8")


def user_policy_names(policies_dir: Path) -> list[str]:
    if not policies_dir.is_dir():
        return []
    return sorted(p.stem for p in policies_dir.glob("*.toml"))


def resolve_document(name_or_path: str, policies_dir: Path | None = None) -> PolicyDocument:
    """The document of a policy given by file path, user policy name or preset name (not yet
    validated: :attr:`PolicyDocument.errors` lists what is wrong with it)."""
    candidate = Path(name_or_path)
    if name_or_path.endswith(".toml") or candidate.exists():
        return PolicyDocument.from_file(candidate)
    if policies_dir is not None and name_problem(name_or_path) is None:  # never ../elsewhere
        user = policies_dir / f"{name_or_path}.toml"
        if user.exists():
            return PolicyDocument.from_file(user)
    if name_or_path in preset_names():
        return PolicyDocument(preset_text(name_or_path), f"preset {name_or_path}")
    known = preset_names() + user_policy_names(policies_dir) if policies_dir else preset_names()
    raise PolicyError(
        f"unknown policy {name_or_path!r}; known: {', '.join(known)} "
        "(or give a path to a .toml file)"
    )


def resolve_policy(name_or_path: str, policies_dir: Path | None = None) -> tuple[Policy, str, str]:
    """Find and validate a policy by file path, user policy name or preset name.

    Returns the policy, where it came from, and its TOML text (kept for the knowledge store).
    """
    doc = resolve_document(name_or_path, policies_dir)
    return doc.policy, doc.source, doc.text
