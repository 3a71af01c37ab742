"""harmone's stand-in for pyRAPL, where Intel RAPL is not readable (no powercap, no permission).

Put first on the user code's ``sys.path`` by :mod:`mape.custom.child`, so Harmonica's MAPE files,
which call ``pyRAPL.setup()`` at import and measure with ``pyRAPL.Measurement``, run unchanged.
The API is pyRAPL's (``setup``, ``Measurement`` with ``begin``/``end``/``result`` and as a context
manager, ``measureit``, ``Result``, ``Device``, ``PyRAPLException``); the energy is harmone's
estimate: this process's CPU time x joules per CPU-second (``$HARMONE_J_PER_CPU_S``), reported in
µJ as ``pkg`` of socket 0, with ``dram`` 0.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from harmone_common.errors import HarmoneError

STANDIN = True  # lets code (and harmone's tests) tell this module from the real pyRAPL


class PyRAPLException(HarmoneError):
    """pyRAPL's base error (an ``Exception``, as in pyRAPL; here one of harmone's family)."""


class Device(IntEnum):
    PKG = 0
    DRAM = 1


@dataclass
class Result:
    """One measurement, in pyRAPL's units: ``duration`` in µs, energies in µJ per socket."""

    label: str
    timestamp: float
    duration: float
    pkg: list[float] | None = field(default=None)
    dram: list[float] | None = field(default=None)


_ready = False


def _j_per_cpu_s() -> float:
    return float(os.environ.get("HARMONE_J_PER_CPU_S", "15"))


def setup(devices: Any = None, socket_ids: Any = None) -> None:
    global _ready
    _ready = True


class Measurement:
    """Measure the energy of a piece of code (stand-in: CPU time x J per CPU-second)."""

    def __init__(self, label: str, output: Any = None) -> None:
        self.label = label
        self._output = output
        self._result: Result | None = None
        self._start: tuple[float, float] | None = None

    def begin(self) -> None:
        if not _ready:
            raise PyRAPLException("pyRAPL.setup() was not called")
        self._start = (time.time(), time.process_time())

    def end(self) -> None:
        if self._start is None:
            raise PyRAPLException("Measurement.end() before begin()")
        wall0, cpu0 = self._start
        cpu_s = time.process_time() - cpu0
        self._result = Result(
            self.label,
            wall0,
            (time.time() - wall0) * 1e6,
            [cpu_s * _j_per_cpu_s() * 1e6],
            [0.0],
        )

    @property
    def result(self) -> Result | None:
        return self._result

    def export(self, output: Any = None) -> None:
        target = output if output is not None else self._output
        if target is not None and self._result is not None and hasattr(target, "add"):
            target.add(self._result)

    def __enter__(self) -> Measurement:
        self.begin()
        return self

    def __exit__(self, *exc: object) -> None:
        self.end()
        self.export()


def measureit(
    _func: Callable[..., Any] | None = None, *, output: Any = None, number: int = 1
) -> Any:
    """Decorator: measure each call of the function (``number`` runs per call)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            meter = Measurement(func.__name__, output)
            value = None
            for _ in range(number):
                meter.begin()
                value = func(*args, **kwargs)
                meter.end()
                meter.export()
            return value

        return wrapped

    return decorate(_func) if _func is not None else decorate
