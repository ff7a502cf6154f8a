"""A piece several cards of the profile page share: the error or success line under a card's
title (details, pictures, consent, deleting the account)."""

from __future__ import annotations

import reflex as rx


def alert(message: rx.Var, kind: str, test_id: str) -> rx.Component:
    return rx.cond(
        message != "",
        rx.el.div(
            message,
            class_name=f"alert alert-{kind}",
            role="alert" if kind == "error" else "status",
            data_testid=test_id,
        ),
    )
