"""Reading policies from TOML (stdlib tomllib) and finding presets and user policies by name."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

from mape.names import name_problem
from mape.policy import Policy, PolicyError, policy_from_mapping

PRESET_PACKAGE = "mape.presets"


def key_locator(text: str):  # type: ignore[no-untyped-def]
    """A function (section, key) -> line number of that key in ``text``, or None."""
    lines = text.splitlines()

    def find(section: str, key: str) -> int | None:
        current = ""
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            header = re.match(r"^\[([^\[\]]+)\]", stripped)
            if header:
                current = header.group(1).strip()
                dotted = f"{section}.{key}" if section else key
                if current == dotted:
                    return number  # a key that is itself a table: [drift.params]
                continue
            if current == section and re.match(rf"^{re.escape(key)}\s*=", stripped):
                return number
        return None

    def locate(section: str, key: str) -> int | None:
        found = find(section, key)
        if found is None and "." in section:  # a key of an inline table: params = { ... }
            parent, _, child = section.rpartition(".")
            return find(parent, child)
        return found

    return locate


def parse_policy(text: str, source: str) -> Policy:
    """Parse and validate policy TOML text; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML ({exc})") from None
    return policy_from_mapping(data, source, key_locator(text))


def load_policy_file(path: Path) -> Policy:
    if not path.exists():
        raise PolicyError(f"{path}: policy file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read ({exc})") from None
    return parse_policy(text, str(path))


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


def resolve_policy(name_or_path: str, policies_dir: Path | None = None) -> tuple[Policy, str, str]:
    """Find a policy by file path, user policy name or preset name.

    Returns the policy, where it came from, and its TOML text (kept for the knowledge store).
    """
    candidate = Path(name_or_path)
    if name_or_path.endswith(".toml") or candidate.exists():
        policy = load_policy_file(candidate)
        return policy, str(candidate), candidate.read_text(encoding="utf-8")
    if policies_dir is not None and name_problem(name_or_path) is None:  # never ../elsewhere
        user = policies_dir / f"{name_or_path}.toml"
        if user.exists():
            return load_policy_file(user), str(user), user.read_text(encoding="utf-8")
    if name_or_path in preset_names():
        text = preset_text(name_or_path)
        return parse_policy(text, f"preset {name_or_path}"), f"preset {name_or_path}", text
    known = preset_names() + user_policy_names(policies_dir) if policies_dir else preset_names()
    raise PolicyError(
        f"unknown policy {name_or_path!r}; known: {', '.join(known)} (or give a path to a .toml file)"
    )
