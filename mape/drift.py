"""Drift detectors with one river-style interface: ``update(x) -> self``, ``drift_detected``.

``kl`` is HarmonE's detector done right: the KL divergence between the histogram of the current
window and that of the previous window, both over the SAME bin edges (spanning both windows).
The original binned each window over its own range, which makes a shifted or rescaled window
look identical to the old one. ``adwin``, ``kswin`` and ``page_hinkley`` wrap river's detectors;
river is imported only when one of them is built, so the loop never pays for it otherwise.

Every detector, like river's, sets ``drift_detected`` for the update that found a drift and
resets itself on the next update, so it then compares data of the new regime only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

EPS = 1e-6  # probability floor per bin: an empty bin must not make the divergence infinite


class Detector(Protocol):
    """What the Analyse phase needs of a drift detector."""

    def update(self, x: float) -> Detector: ...

    def update_many(self, values: np.ndarray) -> list[tuple[int, float]]: ...

    @property
    def drift_detected(self) -> bool: ...

    @property
    def statistic(self) -> float | None: ...


def _normalise(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    p = counts / total if total else np.full(len(counts), 1.0 / len(counts))
    p = p + EPS
    return p / p.sum()


def kl_divergence(p: Sequence[float] | np.ndarray, q: Sequence[float] | np.ndarray) -> float:
    """KL(p || q) of two histograms over the same bins (counts or probabilities).

    >>> round(kl_divergence([1, 1], [1, 1]), 6)
    0.0
    >>> kl_divergence([9, 1], [1, 9]) > 1.0
    True
    """
    pp = _normalise(np.asarray(p, dtype=float))
    qq = _normalise(np.asarray(q, dtype=float))
    return float(np.sum(pp * np.log(pp / qq)))


def shared_edges(a: np.ndarray, b: np.ndarray, bins: int) -> np.ndarray | None:
    """Bin edges spanning both samples; None when both are one constant value.

    >>> shared_edges(np.array([0.0, 1.0]), np.array([3.0]), 3).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    lo = min(float(a.min()), float(b.min()))
    hi = max(float(a.max()), float(b.max()))
    if hi <= lo:
        return None
    return np.linspace(lo, hi, bins + 1)


def kl_shared(
    current: Sequence[float] | np.ndarray, previous: Sequence[float] | np.ndarray, bins: int
) -> float:
    """KL(current || previous) with both histograms over shared edges.

    A pure shift is visible (per-window edges would make the two histograms identical):

    >>> base = np.arange(100.0) % 10
    >>> kl_shared(base, base, 10)
    0.0
    >>> kl_shared(base + 5.0, base, 10) > 1.0
    True
    """
    cur = np.asarray(current, dtype=float)
    prev = np.asarray(previous, dtype=float)
    edges = shared_edges(cur, prev, bins)
    if edges is None:
        return 0.0
    hc, _ = np.histogram(cur, bins=edges)
    hp, _ = np.histogram(prev, bins=edges)
    return kl_divergence(hc, hp)


def kl_per_window_edges(
    current: Sequence[float] | np.ndarray, previous: Sequence[float] | np.ndarray, bins: int
) -> float:
    """The original HarmonE statistic: each window binned over its OWN range. Kept to show its flaw.

    >>> base = np.arange(100.0) % 10
    >>> round(kl_per_window_edges(base + 5.0, base, 10), 6)   # blind to the shift
    0.0
    """
    hc, _ = np.histogram(np.asarray(current, dtype=float), bins=bins)
    hp, _ = np.histogram(np.asarray(previous, dtype=float), bins=bins)
    return kl_divergence(hc, hp)


def kl_to_summary(
    values: Sequence[float] | np.ndarray, edges: Sequence[float], hist: Sequence[float]
) -> float:
    """KL(values || stored histogram), ``values`` binned over the stored edges (end bins: the rest).

    This is how reuse compares recent data with a version's training data without reloading it.

    >>> round(kl_to_summary([0.5, 1.5], [0.0, 1.0, 2.0], [0.5, 0.5]), 6)
    0.0
    """
    e = np.asarray(edges, dtype=float)
    clipped = np.clip(np.asarray(values, dtype=float), e[0], e[-1])
    counts, _ = np.histogram(clipped, bins=e)
    return kl_divergence(counts, np.asarray(hist, dtype=float))


class KLDetector:
    """KL divergence of the last ``window`` values against the ``window`` before, shared edges.

    The statistic is computed every ``check_every`` updates once both windows are full (the
    loop passes its drift period, so the cost is O(window) per check, not per step).

    >>> rng = np.random.default_rng(0)
    >>> d = KLDetector(window=200, bins=20, threshold=0.5, check_every=10)
    >>> fired = [i for i, x in enumerate(rng.normal(0, 1, 600)) if d.update(x).drift_detected]
    >>> fired
    []
    >>> fired = [i for i, x in enumerate(rng.normal(3, 1, 300)) if d.update(x).drift_detected]
    >>> len(fired), fired[0] < 100
    (1, True)
    """

    def __init__(
        self, window: int, bins: int, threshold: float, check_every: int = 1, slide: bool = False
    ) -> None:
        self.window = window
        self.slide = slide
        self.bins = bins
        self.threshold = threshold
        self.check_every = max(1, check_every)
        # the last ``_filled`` values sit at the end of ``_buffer``, oldest first: a batch is one
        # shift and one copy, and a check reads the two windows as views
        self._buffer = np.zeros(2 * window)
        self._filled = 0
        self._since_check = 0
        self._statistic: float | None = None
        self._drift = False

    def _reset(self) -> None:
        self._filled = 0
        self._since_check = 0
        self._drift = False

    def _after_drift(self) -> None:
        """Clear both windows, or (``slide``) keep the window that found the drift as the new
        reference: a regime that returns is then seen after one window instead of two."""
        if not self.slide:
            self._reset()
            return
        self._filled = min(self._filled, self.window)
        self._since_check = 0
        self._drift = False

    @property
    def drift_detected(self) -> bool:
        return self._drift

    @property
    def statistic(self) -> float | None:
        return self._statistic

    def update(self, x: float) -> KLDetector:
        self.update_many(np.array([x], dtype=float))
        return self

    def update_many(self, values: np.ndarray) -> list[tuple[int, float]]:
        """Feed a batch; the (offset in ``values``, statistic) of every update that found a drift.

        The same findings as one :meth:`update` per value, at a fraction of the cost: values are
        copied in runs that end at the next check, and only a check computes anything.
        """
        hits: list[tuple[int, float]] = []
        size, done, total = len(self._buffer), 0, len(values)
        while done < total:
            if self._drift:
                self._after_drift()
            to_check = max(self.check_every - self._since_check, size - self._filled, 1)
            run = min(to_check, total - done)
            self._append(values[done : done + run])
            self._since_check += run
            done += run
            if run == to_check:
                self._since_check = 0
                w = self.window
                stat = kl_shared(self._buffer[w:], self._buffer[:w], self.bins)
                self._statistic = stat
                self._drift = stat > self.threshold
                if self._drift:
                    hits.append((done - 1, stat))
        return hits

    def _append(self, run: np.ndarray) -> None:
        size, k = len(self._buffer), len(run)
        if k >= size:
            self._buffer[:] = run[-size:]
        else:
            self._buffer[:-k] = self._buffer[k:]
            self._buffer[-k:] = run
        self._filled = min(size, self._filled + k)


RIVER_CLASSES = {
    "adwin": ("river.drift.adwin", "ADWIN"),
    "kswin": ("river.drift.kswin", "KSWIN"),
    "page_hinkley": ("river.drift.page_hinkley", "PageHinkley"),
}


def river_class(name: str) -> Any:
    """river's detector class, imported lazily and without ``river.drift``'s package ``__init__``.

    That ``__init__`` imports ``river.datasets``, which imports scikit-learn: the MAPE layer must
    not load an ML framework (DESIGN.md §2). The detector modules themselves need only river's
    base classes, so they are imported under a stand-in package that is removed afterwards; a
    later ``import river.drift`` elsewhere still runs the real ``__init__`` (and reuses them).
    """
    import importlib
    import importlib.util
    import sys
    import types

    module_name, class_name = RIVER_CLASSES[name]
    if "river.drift" in sys.modules or module_name in sys.modules:
        return getattr(importlib.import_module(module_name), class_name)
    spec = importlib.util.find_spec("river.drift")
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(
            "river is not installed (needed by the adwin/kswin/page_hinkley detectors)"
        )
    stand_in = types.ModuleType("river.drift")
    stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules["river.drift"] = stand_in
    try:
        return getattr(importlib.import_module(module_name), class_name)
    finally:
        if sys.modules.get("river.drift") is stand_in:
            del sys.modules["river.drift"]


class RiverDetector:
    """A river detector behind the same interface (``statistic`` is river's estimation, if any)."""

    def __init__(self, name: str, params: Mapping[str, Any], seed: int) -> None:
        if name not in RIVER_CLASSES:
            raise ValueError(f"unknown river detector {name!r}")
        cls = river_class(name)  # lazy: only policies that use river pay for it
        kwargs = dict(params)
        if name == "kswin":
            kwargs["seed"] = seed
        self._detector: Any = cls(**kwargs)
        self.name = name

    def _reset(self) -> None:
        self._detector._reset()

    def update_many(self, values: np.ndarray) -> list[tuple[int, float]]:
        """One river update per value; (offset, statistic) of each update that found a drift."""
        hits: list[tuple[int, float]] = []
        for offset, x in enumerate(values.tolist()):
            if self.update(x).drift_detected:
                hits.append((offset, self.statistic or 0.0))
        return hits

    @property
    def drift_detected(self) -> bool:
        return bool(self._detector.drift_detected)

    @property
    def statistic(self) -> float | None:
        value = getattr(self._detector, "estimation", None)
        return None if value is None else float(value)

    def update(self, x: float) -> RiverDetector:
        self._detector.update(x)
        return self


def make_detector(
    name: str,
    window: int,
    bins: int,
    threshold: float,
    check_every: int,
    params: Mapping[str, Any] | None = None,
    seed: int = 7,
    after_drift: str = "clear",
) -> KLDetector | RiverDetector:
    """The detector a policy names (``kl``, ``adwin``, ``kswin``, ``page_hinkley``)."""
    if name == "kl":
        return KLDetector(window, bins, threshold, check_every, slide=after_drift == "slide")
    return RiverDetector(name, params or {}, seed)
