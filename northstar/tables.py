"""Terminal tables that never cut a number.

Left to itself, rich shrinks every column of a table wider than the terminal, numbers included, and prints
`$26,…`. `Fitted` lays a table out instead: a column marked `no_wrap` (a number column) keeps the width of its
widest cell and only its header wraps; the other (text) columns wrap, folding words longer than the column, down
to TEXT_MIN characters; and when the numbers alone are wider than the terminal the table is printed in parts,
each repeating the first column. `print_table` prints piped output (no terminal) at the table's natural width.

Text that comes from data (campaign names, alert messages) is added to a table as `rich.text.Text`, never as a
str, so `[brand/generic]` in a name is printed, not read as markup.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import replace

from rich.console import Console, ConsoleOptions, RenderableType
from rich.measure import Measurement
from rich.table import Table

TEXT_MIN = 16  # a text column wraps down to this width (or its header's longest word) before the table splits
_WIDE = 10_000  # "unlimited" width for measuring


class Fitted:
    """A rich Table rendered so that no number is cut, at whatever width it is printed."""

    def __init__(self, table: Table, text_min: int = TEXT_MIN) -> None:
        self.table = table
        self.text_min = text_min

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Table]:
        yield from fit(console, self.table, options.max_width, self.text_min)


def fit(console: Console, table: Table, width: int, text_min: int = TEXT_MIN) -> list[Table]:
    """The table as one or more tables no wider than `width`, every no_wrap column at its widest cell.

    A table without lines between its columns that does not fit at its natural width is first tightened: two
    spaces between columns instead of three (padding on the right only; rich's collapse_padding mismeasures)."""
    layout, squeezed = _layout(console, table, width, text_min)
    if squeezed and (table.box is None or table.box.mid_vertical.isspace()):
        table = copy.copy(table)
        table.padding = (0, 1, 0, 0)
        layout, _ = _layout(console, table, width, text_min)
    parts = []
    for k, (group, widths) in enumerate(layout, start=1):
        title = table.title
        if len(layout) > 1 and title is None:
            title = f"part {k} of {len(layout)}"
        elif len(layout) > 1 and isinstance(title, str):
            title = f"{title} ({k} of {len(layout)})"
        parts.append(_part(table, group, widths, title=title, last=k == len(layout)))
    return parts


def _layout(
    console: Console, table: Table, width: int, text_min: int
) -> tuple[list[tuple[list[int], list[int]]], bool]:
    """Groups of column indexes (each starting with the first column) and their widths, every group fitting
    `width` (one group when all the columns fit at their narrowest); True when the natural widths did not fit."""
    wide = console.options.update(width=_WIDE)
    natural: list[int] = []
    least: list[int] = []
    for column in table.columns:
        cells = [Measurement.get(console, wide, cell).maximum for cell in column.cells]
        header = Measurement.get(console, wide, column.header)
        widest = max(cells, default=0)
        natural.append(max(widest, header.maximum))
        if column.no_wrap:  # a number: never narrower than its widest cell; the header may wrap
            least.append(max(widest, header.minimum))
        else:
            least.append(min(natural[-1], max(header.minimum, text_min)))

    def overhead(n: int) -> int:  # borders and padding of a part with n columns
        return Measurement.get(console, wide, _part(table, list(range(n)), [1] * n)).maximum - n

    squeezed = sum(natural) + overhead(len(natural)) > width
    groups: list[list[int]] = []
    if sum(least) + overhead(len(least)) <= width:
        groups = [list(range(len(least)))]
    rest = list(range(1, len(least))) if not groups else []
    while rest:  # the numbers do not fit side by side: parts, each repeating the first column
        group = [0, rest.pop(0)]
        while rest and sum(least[i] for i in [*group, rest[0]]) + overhead(len(group) + 1) <= width:
            group.append(rest.pop(0))
        groups.append(group)

    layout = []
    for group in groups or [[0]]:
        widths = [natural[i] for i in group]
        excess = sum(widths) + overhead(len(group)) - width
        while excess > 0:  # narrow the widest column that may still shrink, one character at a time
            slack = [j for j, i in enumerate(group) if widths[j] > least[i]]
            if not slack:
                break
            widths[max(slack, key=lambda j: widths[j])] -= 1
            excess -= 1
        layout.append((group, widths))
    return layout, squeezed


def _part(table: Table, group: list[int], widths: list[int], title: object = None, last: bool = True) -> Table:
    """A copy of the table with the columns of `group`, each of a fixed width (so rich shrinks none of them)."""
    part = copy.copy(table)
    # every column may wrap now: a number column is as wide as its widest cell, so only its header wraps; a text
    # column folds a word longer than itself
    part.columns = [
        replace(table.columns[i], width=w, min_width=None, max_width=None, ratio=None, no_wrap=False, _index=j)
        for j, (i, w) in enumerate(zip(group, widths, strict=True))
    ]
    for column in part.columns:
        column.overflow = "fold"
    part.title = title if title is not None else table.title
    part.caption = table.caption if last else None
    return part


def print_table(console: Console, renderable: RenderableType) -> None:
    """In a terminal, fit its width; piped or logged (no width to fit), print at the natural width."""
    if console.is_terminal:
        console.print(renderable)
        return
    width = console.width
    natural = Measurement.get(console, console.options.update(width=1000, max_width=1000), renderable).maximum
    console.width = min(max(natural, width), 1000)
    try:
        console.print(renderable)
    finally:
        console.width = width
