"""Small pieces the program editor's tabs share (editors, changelog, moderation): the success
notice, a list that says when it is empty and the compact action button."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx


def success_notice(message: rx.Var, test_id: str = "") -> rx.Component:
    """``message`` in a green status box, when there is one."""
    props = {"data_testid": test_id} if test_id else {}
    return rx.cond(message != "", rx.el.div(message, class_name="alert alert-success", role="status", **props))


def muted(text: rx.Var) -> rx.Component:
    return rx.el.p(text, class_name="muted")


def item_list(items: rx.Var, render: Callable[[rx.Var], rx.Component], empty: rx.Component) -> rx.Component:
    """``items`` as a list, one ``render`` each, or ``empty`` when there are none."""
    return rx.cond(items.length() > 0, rx.el.ul(rx.foreach(items, render), class_name="pc-list"), empty)


def small_button(label: rx.Var, on_click: Any, *, icon: str = "", style: str = "btn-secondary", **props: Any) -> rx.Component:
    """A compact ``type=button`` action, with an optional leading icon; ``style``: the btn-* variant ("" = primary)."""
    children = [rx.icon(icon, size=16, aria_hidden="true")] if icon else []
    return rx.el.button(
        *children,
        label,
        type="button",
        class_name=" ".join(c for c in ("btn", style, "pc-small-btn") if c),
        on_click=on_click,
        **props,
    )
