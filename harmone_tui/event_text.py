"""One sentence per adaptation event, the same in the TUI, headless output and exports (no Textual).

Harmonica showed bare event codes; an early version of this app listed an event's extra details
as Python reprs (``ema={'linear': 0.8, ...}``). Every detail now reads as words and figures:
known keys get a label (``act_at`` → "acts at step"), nested tables become "name value" lists.

>>> describe("switch", {"from": "lstm", "to": "linear", "reason": "EMA 0.71 < min 0.78",
...                     "ema": {"linear": 0.8, "lstm": 0.71}})
'switch lstm→linear: EMA 0.71 < min 0.78 (EMA linear 0.8, lstm 0.71)'
>>> number(0.000123), number(12345.6), number(None)
('0.000123', '12,346', '–')
"""

from __future__ import annotations

import math
from typing import Any

DASH = "–"
LABELS = {
    "ema": "EMA",
    "e_norm": "E_norm",
    "kl_by_version": "KL by version",
    "detected_at": "detected at step",
    "act_at": "acts at step",
    "swap_step": "swap at step",
    "on_drift": "on drift",
    "train_cpu_s": "CPU-s",
    "train_energy_j": "J",
}


def number(value: Any, digits: int = 3) -> str:
    """A figure with ``digits`` significant digits, thousands separated; a dash when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or abs(value) >= 10**digits:
        return f"{value:,.0f}"
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def value_text(value: Any) -> str:
    """A detail value as words: tables as "name value, ...", lists joined, yes/no, figures."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {value_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return number(value)


def _extras(detail: dict[str, Any], used: set[str]) -> str:
    rest = [
        f"{LABELS.get(k, k.replace('_', ' '))} {value_text(v)}"
        for k, v in detail.items()
        if k not in used and v is not None
    ]
    return f" ({'; '.join(rest)})" if rest else ""


def describe(kind: str, detail: dict[str, Any]) -> str:
    """One sentence for an event, with its figures; unknown details are listed, never dropped."""
    d = detail
    reason = d.get("reason")
    tail = f": {reason}" if reason else ""
    if kind == "switch":
        used = {"from", "to", "reason"}
        text = f"switch {d.get('from', '?')}→{d.get('to', '?')}{tail}"
    elif kind == "reuse":
        used = {"model", "version", "from", "reason"}
        was = d.get("from", "?")
        text = f"reuse {d.get('model', '?')} v{d.get('version', '?')} (was {was}){tail}"
    elif kind == "keep":
        used = {"model", "version", "reason"}
        text = f"keep {d.get('model', '?')} v{d.get('version', '?')}{tail}"
    elif kind == "retrain_started":
        used = {"model", "reason", "swap_step"}
        swap = f", swap at step {d['swap_step']:,}" if isinstance(d.get("swap_step"), int) else ""
        text = f"retrain {d.get('model', '?')} started{tail}{swap}"
    elif kind == "retrain_done":
        used = {
            "model",
            "version",
            "reason",
            "validation_r2",
            "persistence_validation_r2",
            "train_cpu_s",
            "train_energy_j",
        }
        figures = [f"val R² {number(d.get('validation_r2'))}"]
        if d.get("persistence_validation_r2") is not None:  # a short window's R² needs a yardstick
            figures[0] += f" (repeat-last {number(d['persistence_validation_r2'])})"
        if d.get("train_cpu_s") is not None:
            figures.append(f"{number(d['train_cpu_s'], 2)} CPU-s")
        if d.get("train_energy_j") is not None:
            figures.append(f"{number(d['train_energy_j'], 2)} J")
        text = f"retrained {d.get('model', '?')} → v{d.get('version', '?')}: {', '.join(figures)}"
        text += f" ({reason})" if reason else ""
    elif kind == "policy_changed":
        used = {"policy", "source"}
        text = f"policy {d.get('policy', '?')} in force ({d.get('source', '?')})"
    elif kind == "error":
        used = {"action", "error"}
        text = f"error in {d.get('action', '?')}: {d.get('error', '?')}"
    elif kind == "drift":
        used = {"reason", "statistic", "threshold"}
        if reason:  # the loop's reason already carries its figures
            text = f"drift{tail}"
        elif d.get("statistic") is not None and d.get("threshold") is not None:
            text = f"drift {number(d['statistic'])} > {number(d['threshold'])}"
        else:
            text = "drift"
    else:
        used = {"reason"}
        text = f"{kind}{tail}"
    return text + _extras(d, used)
