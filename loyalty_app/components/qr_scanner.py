"""Camera QR scanner (placeholder until the wrapped React scanner lands)."""

from __future__ import annotations

import reflex as rx


def qr_scanner(*, on_scan) -> rx.Component:
    return rx.el.p("camera scanner placeholder", class_name="muted")
