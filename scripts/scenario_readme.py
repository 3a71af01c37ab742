"""The scenario table in sample_data/README.md, written from the manifest so the two agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN = "<!-- scenarios:begin (written by scripts/make_scenarios.py) -->"
END = "<!-- scenarios:end -->"
MODELS = ("linear", "svm", "lstm", "naive")


def _rows(item: dict[str, Any], regime: str) -> str:
    parts = [s for s in item["segments"] if s["regime"] == regime]
    count = sum(s["end"] - s["start"] for s in parts)
    span = f"{parts[0]['start']:,}–{parts[-1]['end'] - 1:,}"
    if len(parts) == 1:
        return f"{span} ({count:,})"
    return f"{count:,} rows in {len(parts)} segments, {span}"


def _figure(clean: float, figure: dict[str, Any]) -> str:
    text = f"{clean:.2f} → {figure['r2']:.2f}"
    if "r2_true" in figure:
        text += f" (true {figure['r2_true']:.2f})"
    return text


def table(manifest: dict[str, Any]) -> str:
    """One row per fault regime of each scenario; R² clean → fault per model."""
    head = (
        "| scenario | regime | rows (from 0) | linear | svm | lstm | naive"
        " | hurts (worst first) |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    lines = [head]
    for item in manifest["scenarios"]:
        hurt = item.get("hurt")
        regimes = [r for r in dict.fromkeys(s["regime"] for s in item["segments"]) if r != "clean"]
        for regime in regimes:
            cells = ["not measured"] * len(MODELS)
            hurts = "?"
            if hurt is not None:
                fault = hurt["faults"][regime]
                cells = [_figure(hurt["clean"][m], fault["models"][m]) for m in MODELS]
                hurts = ", ".join(fault["hurts"]) or "none"
            name = f"`{item['name']}`"
            row = [name, regime, _rows(item, regime), *cells, hurts]
            lines.append(f"| {' | '.join(row)} |")
    for item in manifest["scenarios"]:
        for regime, gain in item.get("hurt", {}).get("reuse", {}).items():
            lo, hi = gain["trained_on_rows"]
            figures = ", ".join(
                f"{m} {f['base']:.2f} → {f['reused']:.2f}" for m, f in gain["models"].items()
            )
            lines.append(
                f"\nReuse in `{item['name']}`: on the later {regime} rows, R² of the base models →"
                f" of models retrained on rows {lo:,}–{hi - 1:,} (the first {regime}, as a run"
                f" retrains): {figures}."
            )
    return "\n".join(lines)


def update_readme(path: Path, manifest: dict[str, Any]) -> None:
    """Replace the text between the markers (appending them at the end if absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{BEGIN}\n{table(manifest)}\n{END}"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
