"""Reading our model pickles without running code a crafted pickle carries.

``pickle.load`` calls whatever callable a pickle names (``os.system`` included), so a
``model.pkl`` placed in a version directory could run a command when a run loads it. Our
pickles hold one scikit-learn estimator (Ridge or SVR) made of numpy arrays and scalars, so the
unpickler here resolves only those classes and refuses any other global, before calling it.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

ALLOWED = frozenset(
    {
        ("sklearn.linear_model._ridge", "Ridge"),
        ("sklearn.svm._classes", "SVR"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.multiarray", "_reconstruct"),  # pickles written under numpy 1.x
        ("numpy.core.multiarray", "scalar"),
    }
)


class RefusedPickle(pickle.UnpicklingError):
    """The pickle names a global outside :data:`ALLOWED`."""


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED:
            raise RefusedPickle(f"it refers to {module}.{name}, which our models never contain")
        return super().find_class(module, name)


def load_estimator(path: Path) -> Any:
    """Unpickle ``path`` allowing only the classes of :data:`ALLOWED`."""
    return _Restricted(io.BytesIO(path.read_bytes())).load()
