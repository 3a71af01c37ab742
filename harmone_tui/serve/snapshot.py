"""A served system's loop state as bytes, and back, without running what a crafted blob names.

A restart resumes each system from its last snapshot plus the records stored after it (replayed
with the tactics muted), so retention may drop old records without changing any decision. The
state is the loop's own objects (windows, EMAs, the drift detector, the seeded random generator),
so it is pickled; like the model files (``engines/regression/safe_pickle.py``), it is read by
an unpickler that resolves only the classes such a state is made of and refuses any other.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from importlib import resources
from typing import Any

ALLOWED_MODULES = ("mape.", "harmone_tui.serve.systems", "river.")
ALLOWED = frozenset(
    {
        ("collections", "deque"),
        ("collections", "OrderedDict"),
        ("random", "Random"),
        ("copyreg", "_reconstructor"),
        ("builtins", "object"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("engines.metrics", "window_r2"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
    }
)


class RefusedSnapshot(pickle.UnpicklingError):
    """The blob names a global that no loop state contains."""


def _method_of(obj: Any, name: str) -> Any:
    """``getattr`` as a pickle uses it for a bound method (river's PageHinkley keeps one):
    only a method of an object of an allowed class, never a dunder attribute."""
    if name.startswith("__") or not type(obj).__module__.startswith(ALLOWED_MODULES):
        raise RefusedSnapshot(f"it asks for attribute {name!r} of a {type(obj).__name__}")
    found = getattr(obj, name)
    if getattr(found, "__self__", None) is not obj:
        raise RefusedSnapshot(f"{type(obj).__name__}.{name} is not a method")
    return found


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("builtins", "getattr"):
            return _method_of
        allowed = (module, name) in ALLOWED or module.startswith(ALLOWED_MODULES)
        if not allowed:
            raise RefusedSnapshot(f"it refers to {module}.{name}, which no loop state contains")
        return super().find_class(module, name)


STATE_CODE = (
    (
        "mape",
        ("loop.py", "monitor.py", "analyse.py", "plan.py", "execute.py", "drift.py", "policy.py"),
    ),
    ("harmone_tui.serve", ("systems.py",)),
)


def _fingerprint() -> bytes:
    """A hash of the code whose objects a snapshot holds: a snapshot taken by other code
    (an upgrade, a refactored loop) is not unpickled into classes that no longer match it."""
    digest = hashlib.sha256()
    for package, names in STATE_CODE:
        for name in names:
            digest.update((resources.files(package) / name).read_bytes())
    return digest.digest()[:16]


FINGERPRINT = _fingerprint()


def dump(state: Any) -> bytes:
    return FINGERPRINT + pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def load(blob: bytes) -> Any | None:
    """The state, or None when the snapshot was taken by other code (rebuild from records)."""
    if blob[: len(FINGERPRINT)] != FINGERPRINT:
        return None
    return _Restricted(io.BytesIO(blob[len(FINGERPRINT) :])).load()
