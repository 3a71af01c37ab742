"""The braille line renderer (numpy, no Textual): resampling, dots, joins, layers, colours."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from harmone_tui.ui import braille
from harmone_tui.ui.braille import BRAILLE_BASE, NO_LAYER, Plot, resample, tick_format, value_range


def test_doctests() -> None:
    result = doctest.testmod(braille)
    assert result.attempted > 0 and result.failed == 0


def test_resample_averages_many_steps_per_column() -> None:
    values = np.arange(12.0)
    assert resample(values, 4).tolist() == [1.0, 4.0, 7.0, 10.0]


def test_resample_ignores_nan_inside_a_column_and_keeps_empty_columns_empty() -> None:
    values = np.array([1.0, np.nan, np.nan, np.nan, 5.0, 7.0])
    out = resample(values, 3)
    assert out[0] == 1.0 and np.isnan(out[1]) and out[2] == 6.0


def test_resample_interpolates_few_steps_over_many_columns() -> None:
    out = resample(np.array([0.0, 10.0]), 5)
    assert out.tolist() == [0.0, 2.5, 5.0, 7.5, 10.0]


def test_value_range_pads_a_flat_series_and_skips_nan() -> None:
    assert value_range(np.array([np.nan, 2.0, 4.0])) == (2.0, 4.0)
    low, high = value_range(np.array([3.0, 3.0]))
    assert low < 3.0 < high
    assert value_range(np.array([np.nan])) is None


def test_single_dots_map_to_their_braille_bits() -> None:
    plot = Plot(width=1, height=1, y_range=(0.0, 3.0))
    plot.add_line(np.array([3.0, np.nan]))  # top row, left column
    assert plot.codes()[0, 0] == BRAILLE_BASE + 0x01
    plot = Plot(width=1, height=1, y_range=(0.0, 3.0))
    plot.add_line(np.array([np.nan, 0.0]))  # bottom row, right column
    assert plot.codes()[0, 0] == BRAILLE_BASE + 0x80


def test_a_steep_line_is_joined_without_gaps() -> None:
    plot = Plot(width=2, height=3, y_range=(0.0, 1.0))  # 4 dot columns, 12 dot rows
    plot.add_line(np.array([0.0, 0.0, 1.0, 1.0]))
    column = plot.dots[:, 2]
    assert column.all(), "the jump from bottom to top fills the whole column"
    assert plot.dots[:, 0].sum() == 1 and plot.dots[-1, 0]
    assert plot.dots[:, 3].sum() == 1 and plot.dots[0, 3]


def test_nan_breaks_the_line() -> None:
    plot = Plot(width=2, height=1, y_range=(0.0, 3.0))
    plot.add_line(np.array([0.0, np.nan, 3.0, 3.0]))
    assert not plot.dots[:, 1].any()
    assert plot.dots[:, 2].sum() == 1, "no join back across the gap"


def test_later_layers_own_the_cells_they_share() -> None:
    plot = Plot(width=3, height=1, y_range=(0.0, 1.0))
    marker = plot.add_vertical(2)  # dot column 2 = cell 1
    line = plot.add_line(np.zeros(6))
    assert (marker, line) == (0, 1)
    assert plot.owner.tolist() == [[line, line, line]]
    empty = Plot(width=2, height=1, y_range=(0.0, 1.0))
    empty.add_vertical(0)
    assert empty.owner.tolist() == [[0, NO_LAYER]]


@pytest.mark.parametrize(
    ("low", "high", "text"), [(0.0, 400.0, "400"), (0.0, 40.0, "40.0"), (0.2, 0.9, "0.900")]
)
def test_tick_format_uses_the_decimals_the_range_needs(low: float, high: float, text: str) -> None:
    assert tick_format(low, high).format(high) == text
