"""The cheapest event that answers with a delta: the baseline our benchmarks compare every
real event with (same server, same socket, same run)."""

from __future__ import annotations

import reflex as rx


class PingState(rx.State):
    pings: int = 0

    @rx.event
    def ping(self):
        self.pings += 1
