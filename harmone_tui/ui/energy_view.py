"""The energy screen's picture, from a ledger's ``energy`` block (pure: no Textual).

A bar per stage and per model version, scaled to the largest, with the figure (prefix by
magnitude, :mod:`harmone_tui.units`) and its share of the total; carbon next to every total.
The block is the summary's (a finished run) or a live report's ``to_dict()``.
"""

from __future__ import annotations

from typing import Any

from textual.markup import escape

from harmone_tui import units
from harmone_tui.ledger_report import IN_WORKER, STAGES

EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float, largest: float, width: int) -> str:
    """A horizontal bar of ``width`` cells at most, in eighths of a cell; never empty when
    ``value`` > 0, so a stage that spent anything shows.

    >>> bar(1.0, 2.0, 8), bar(0.0, 2.0, 4), bar(1e-9, 2.0, 4)
    ('████    ', '    ', '▏   ')
    """
    if largest <= 0 or value <= 0:
        return " " * width
    eighths = max(1, round(8 * width * min(value, largest) / largest))
    full, part = divmod(eighths, 8)
    text = "█" * full + (EIGHTHS[part] if part else "")
    return text.ljust(width)


def _share(value: float, total: float) -> str:
    return f"{100 * value / total:5.1f}%" if total > 0 else "     –"


def energy_lines(block: dict[str, Any], width: int = 100) -> list[str]:
    """The screen's lines (Textual markup) for an ``energy`` block."""
    total, grams = float(block["energy_j"]), float(block["carbon_g"])
    carbon = block["carbon"]
    bar_width = max(8, min(40, width - 66))  # the rest of a line takes ~62 cells
    lines = [
        f"[b]{units.energy_and_carbon(total, grams)}[/b] in all",
        f"{escape(block['source'])} at {block['j_per_cpu_s']:g} J per CPU-second ·"
        f" {block['cpu_s']:.2f} CPU-s (process {block['process_cpu_s']:.2f},"
        f" trainer worker {block['worker_cpu_s']:.2f})",
        f"carbon: {carbon['grid_intensity_g_per_kwh']:g} gCO2e/kWh × PUE {carbon['pue']:g}",
        f"  [dim]grid intensity: {escape(carbon['grid_intensity_source'])}[/dim]",
        f"  [dim]PUE: {escape(carbon['pue_source'])}[/dim]",
        "",
        "[b]by stage[/b]",
    ]
    stages = block["stages"]
    largest = max(float(stages[s]["energy_j"]) for s in STAGES)
    for stage in STAGES:
        joules = float(stages[stage]["energy_j"])
        lines.append(
            f"  {stage:<10} {bar(joules, largest, bar_width)} {units.energy(joules):>9}"
            f" {_share(joules, total)}  {units.carbon(stages[stage]['carbon_g']):>8} CO₂e"
        )
    lines += ["", "[b]inference by model[/b]"]
    items = block["inference"]
    top = max((float(i["energy_j"]) for i in items), default=0.0)
    for item in items:
        label = f"{item['model']} v{item['version']}"
        lines.append(
            f"  {escape(label):<10} {bar(float(item['energy_j']), top, bar_width)}"
            f" {units.energy(item['energy_j']):>9}"
            f"  {units.energy(item['energy_j_per_inference']):>9}/inference"
            f"  {item['steps']:>9,} steps"
        )
    if not items:
        lines.append("  [dim]no step yet[/dim]")
    lines += ["", "[b]training by version[/b]"]
    for item in block["training"]:
        label = f"{item['model']} v{item['version']}"
        lines.append(
            f"  {escape(label):<10} {escape(item['origin']):<10}"
            f" {units.energy(item['energy_j']):>9}"
            f"  {item['cpu_s']:.3f} CPU-s  {units.carbon(item['carbon_g']):>8}"
            f"  {escape(item.get('where', IN_WORKER))}"
        )
    if not block["training"]:
        lines.append("  [dim]none in this run[/dim]")
    rec = block["reconciliation"]
    verdict = "reconciled" if rec["reconciled"] else "[b]NOT reconciled[/b]"
    lines += [
        "",
        f"{verdict}: stages attributed {units.energy(rec['attributed_j'])} of"
        f" {units.energy(total)}, other {units.energy(rec['other_j'])},",
        f"  beyond the total {units.energy(rec['excess_j'])}"
        f" (tolerance {units.energy(rec['tolerance_j'])})",
    ]
    return lines
