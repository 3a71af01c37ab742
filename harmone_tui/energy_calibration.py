"""`harmone energy calibrate`'s work: real regression inference against the RAPL counter.

Each model is trained once on the training data into a temporary directory (the LSTM for two
epochs: its inference cost does not depend on how well it learnt) and loaded on the engine's
serving path, exactly as a run loads it. The windows and the fit are
:mod:`engines.energy_fit`'s; the result is an :class:`engines.energy_profile.EnergyProfile`.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

from engines.base import Engine, EngineError, TrainRequest
from engines.energy import EnergyError, RaplMeter
from engines.energy_fit import DUTIES, CalibrationError, Fit, Window, fit_windows, run_windows
from engines.energy_profile import EnergyProfile, machine
from harmone_tui import __version__

DEFAULT_MODELS = ("linear", "svm", "lstm")
INPUTS = 500  # distinct inputs cycled through in a window
TRAIN_PARAMS: dict[str, dict[str, Any]] = {"lstm": {"epochs": 2}}
METHOD = (
    "RAPL package energy ({counter}) vs process CPU time over {n} windows of {w:g} s ({models};"
    " duty {duties}); least squares E = P_idle x wall + k x CPU-s, pooled and per model;"
    " fit error = RMS error of each round predicted from the others / mean window energy"
)


class NoRapl(EnergyError):
    """Calibration needs a readable RAPL counter."""


def open_rapl(root: Path) -> RaplMeter:
    """The RAPL meter calibration measures against; NoRapl in one line when there is none."""
    try:
        return RaplMeter(root, idle_sample_s=0)
    except EnergyError as exc:
        why = str(exc).removeprefix("rapl unavailable: ")
        raise NoRapl(
            f"calibration needs readable RAPL counters, and this machine has none ({why});"
            " nothing written: calibrate on a machine with RAPL, use its profile here with"
            " --energy-profile"
        ) from None


def loaded_models(
    engine: Engine, names: list[str], work: Path, say: Callable[[str], None]
) -> dict[str, Callable[[Any], Any]]:
    """Each named model trained once into ``work`` and loaded; its predict, by name."""
    known = [m.name for m in engine.models()]
    if not names:
        raise EngineError(f"--models: name at least one model (known: {', '.join(known)})")
    predicts = {}
    for name in dict.fromkeys(names):  # a model named twice is measured once
        if name not in known:
            raise EngineError(f"--models: unknown model {name!r} (known: {', '.join(known)})")
        problem = engine.unavailable(name)
        if problem:
            raise EngineError(f"--models: {problem}")
        out = work / name
        out.mkdir()
        say(f"training {name} (once, for its inference cost)")
        data = engine.initial_training_data(name)
        result = engine.trainer()(
            TrainRequest(engine.name, name, data, out, TRAIN_PARAMS.get(name, {}))
        )
        (out / "meta.json").write_text(json.dumps(result.meta), encoding="utf-8")
        predicts[name] = engine.load(name, 1, out).predict
    return predicts


def available_models(engine: Engine) -> list[str]:
    """The default model list: those of :data:`DEFAULT_MODELS` this install can run."""
    return [m for m in DEFAULT_MODELS if engine.unavailable(m) is None]


def calibrate(
    engine: Engine,
    meter: RaplMeter,
    models: list[str],
    window_s: float,
    rounds: int,
    say: Callable[[str], None],
) -> tuple[EnergyProfile, Fit, list[Window]]:
    """Measure and fit; the profile is not written here."""
    xs = [sample.x for sample in islice(engine.samples(), INPUTS)]
    with tempfile.TemporaryDirectory(prefix="harmone-calibrate-") as work:
        predicts = loaded_models(engine, models, Path(work), say)
        total = len(models) * len(DUTIES) * rounds * window_s
        plan = f"{len(models)} model(s) x {len(DUTIES)} duties x {rounds} rounds"
        say(f"measuring {plan}: ~{total:.0f} s")

        def report(w: Window) -> None:
            say(
                f"round {w.round + 1} {w.model:<7} duty {w.duty:4.0%}: {w.wall_s:.2f} s,"
                f" {w.cpu_s:.3f} CPU-s, {w.joules:.3f} J"
            )

        windows = run_windows(predicts, xs, meter.read, window_s, rounds, DUTIES, report)
    if "reading problem" in meter.detail:  # a dropped step: some window's energy is wrong
        raise CalibrationError(
            f"the RAPL counter misbehaved during the measurement ({meter.detail});"
            " nothing written: run the calibration again"
        )
    fit = fit_windows(windows)
    here = machine()
    per_model = {m: round(v, 6) for m, v in fit.per_model.items()}
    if any(v <= 0 for v in per_model.values()):
        per_model = {}  # a model whose CPU time explained no energy: only the pooled fit holds
    method = METHOD.format(
        counter=meter.detail.removeprefix("rapl: "),
        n=len(windows),
        w=window_s,
        models=", ".join(models),
        duties="/".join(f"{d:.0%}" for d in DUTIES),
    )
    profile = EnergyProfile(
        cpu_model=here["cpu_model"],
        cores=here["cores"],
        method=method,
        j_per_cpu_s=round(fit.j_per_cpu_s, 6),
        fit=fit.figures(),
        date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        harmone_version=__version__,
        idle_watts=round(fit.idle_watts, 6),
        per_model=per_model,
        use_per_model=fit.use_per_model,
    )
    return profile, fit, windows
