"""The pieces every analytics card is built from: the card with its empty state, the chart
figure with its visually hidden table of the same figures, data tables, axes and the common
bar charts. Nothing here knows which figure it shows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx

from loyalty_app.i18n import t

# (heading, row key or a function of the row giving the cell's children, numeric column?)
Column = tuple[rx.Var, str | Callable[[rx.Var], Sequence[Any]], bool]


def col(head: rx.Var, cell: str | Callable[[rx.Var], Sequence[Any]]) -> Column:
    return head, cell, False


def num_col(head: rx.Var, cell: str | Callable[[rx.Var], Sequence[Any]]) -> Column:
    """A right-aligned column of figures."""
    return head, cell, True


def note(text: rx.Var) -> rx.Component:
    return rx.el.p(text, class_name="small muted")


def table(rows: rx.Var, columns: list[Column], *, caption: rx.Component | None = None, **props: Any) -> rx.Component:
    """``rows`` as a table, one column per ``Column``."""

    def align(numeric: bool) -> dict[str, str]:
        return {"class_name": "an-num"} if numeric else {}

    def cells(row: rx.Var, cell: str | Callable[[rx.Var], Sequence[Any]]) -> Sequence[Any]:
        return (row[cell],) if isinstance(cell, str) else cell(row)

    return rx.el.table(
        *([caption] if caption is not None else []),
        rx.el.thead(rx.el.tr(*[rx.el.th(head, scope="col", **align(numeric)) for head, _cell, numeric in columns])),
        rx.el.tbody(
            rx.foreach(rows, lambda r: rx.el.tr(*[rx.el.td(*cells(r, cell), **align(numeric)) for _h, cell, numeric in columns]))
        ),
        **props,
    )


def sr_table(caption: rx.Var, rows: rx.Var, columns: list[tuple[rx.Var, str]]) -> rx.Component:
    """The chart's figures for screen readers (visually hidden)."""
    return rx.el.div(  # a div: a table would not shrink to the 1px of .sr-only and widen the page
        table(rows, [col(head, key) for head, key in columns], caption=rx.el.caption(caption)),
        class_name="sr-only",
        data_testid="an-sr-table",
    )


def empty(text: rx.Var | None = None, title: rx.Var | None = None) -> rx.Component:
    return rx.el.div(
        rx.icon("chart-no-axes-column", size=28, aria_hidden="true"),
        rx.el.p(title if title is not None else t("Not enough data yet"), class_name="an-empty-title"),
        rx.el.p(
            text if text is not None else t("This chart fills in as members earn and spend points."), class_name="small muted"
        ),
        class_name="an-empty",
        data_testid="an-empty",
    )


def card(
    title: rx.Var,
    test_id: str,
    has_data: rx.Var,
    body: rx.Component,
    empty_state: rx.Component,
    *,
    intro: rx.Component | None = None,
    wide: bool = False,
) -> rx.Component:
    """A titled card of the grid: ``body`` when there is data, else ``empty_state``."""
    return rx.el.section(
        rx.el.h2(title),
        *([intro] if intro is not None else []),
        rx.cond(has_data, body, empty_state),
        class_name="card an-card an-card-wide" if wide else "card an-card",
        data_testid=test_id,
    )


def chart_card(
    title: rx.Var,
    test_id: str,
    has_data: rx.Var,
    chart: rx.Component,
    figures: rx.Component,
    *,
    note_text: rx.Var | None = None,
    empty_text: rx.Var | None = None,
    wide: bool = False,
) -> rx.Component:
    """A chart (hidden from assistive technology) followed by ``figures``, the same numbers as a table."""
    return card(
        title,
        test_id,
        has_data,
        rx.el.figure(
            rx.el.div(chart, class_name="an-chart", aria_hidden="true"),
            figures,
            note(note_text) if note_text is not None else rx.fragment(),
            aria_label=title,
            role="group",
            class_name="an-figure",
        ),
        empty(empty_text),
        wide=wide,
    )


def figure_card(
    title: rx.Var, test_id: str, has_data: rx.Var, chart: rx.Component, rows: rx.Var, columns: list[tuple[rx.Var, str]], **kw
) -> rx.Component:
    """A ``chart_card`` whose hidden table, captioned with the title, lists ``columns`` of ``rows``."""
    return chart_card(title, test_id, has_data, chart, sr_table(title, rows, columns), **kw)


def axes(y_axis: rx.Component | None = None) -> list[rx.Component]:
    """Grid, periods (or categories) along the bottom, whole numbers up the side, tooltip."""
    return [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="label", tick={"fontSize": 12}),
        y_axis if y_axis is not None else rx.recharts.y_axis(allow_decimals=False, width=48, tick={"fontSize": 12}),
        rx.recharts.graphing_tooltip(),
    ]


def bar_axes() -> list[rx.Component]:
    """Horizontal bars: long names (quests, challenges) on the vertical axis, where they fit."""
    return [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
        rx.recharts.x_axis(type_="number", tick={"fontSize": 12}),
        rx.recharts.y_axis(data_key="name", type_="category", width=120, tick={"fontSize": 12}),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
    ]


def rows_height(rows: rx.Var) -> rx.Var:
    return rows * 56 + 70


def value_bars(rows: rx.Var, name: rx.Var, *, height: int, fill: str = "") -> rx.Component:
    """One bar per row, from its "value": all ``fill``, or (no ``fill``) each in its row's own "fill"."""
    if fill:
        bar = rx.recharts.bar(data_key="value", name=name, fill=fill, is_animation_active=False)
    else:
        bar = rx.recharts.bar(
            rx.foreach(rows, lambda r: rx.recharts.cell(fill=r["fill"])), data_key="value", name=name, is_animation_active=False
        )
    return rx.recharts.bar_chart(bar, *axes(), data=rows, height=height)


def paired_bars(rows: rx.Var, bars: Sequence[tuple[str, rx.Var, str]]) -> rx.Component:
    """Horizontal bars side by side per named row (key, legend name, colour each); taller with more rows."""
    return rx.recharts.bar_chart(
        *[
            rx.recharts.bar(data_key=key, name=name, fill=colour, is_animation_active=False, max_bar_size=18)
            for key, name, colour in bars
        ],
        *bar_axes(),
        data=rows,
        layout="vertical",
        height=rows_height(rows.length()),
    )
