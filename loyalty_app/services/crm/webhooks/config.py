"""The events the webhooks send, their limits and timings, and ``KICK_AFTER_COMMIT`` and
``get_settings`` read on the package at call time (so one patch there reaches every module)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta

from loyalty_app.domain.errors import N_
from loyalty_app.models.webhooks import WEBHOOK_EVENTS
from loyalty_app.settings import Settings

TEST_EVENT = "webhook.test"
EVENT_LABELS = {
    "member.enrolled": N_("A member joins"),
    "points.credited": N_("Points credited"),
    "points.debited": N_("Points debited"),
    "points.released": N_("Pending points released"),
    "points.expired": N_("Points expired"),
    "voucher.redeemed": N_("Voucher used in store"),
    "consent.changed": N_("Marketing consent changed"),
    "member.deleted": N_("A member deletes their account"),
}
assert tuple(EVENT_LABELS) == WEBHOOK_EVENTS  # the console lists the labels in this order

MAX_ATTEMPTS = 8
# Wait after attempt n (index n-1) before attempt n+1; the last value repeats.
RETRY_SCHEDULE_S = (60, 300, 1800, 7200, 43200)
JITTER = 0.2
TIMEOUT_S = 5.0
CLAIM_LEASE = timedelta(seconds=60)  # longer than a send can take (TIMEOUT_S per phase)
MAX_ENDPOINTS = 10
URL_MAX = 500
DESCRIPTION_MAX = 120
ERROR_MAX = 300
POLL_SECONDS = int(os.environ.get("WEBHOOK_POLL_SECONDS", "30"))
USER_AGENT = "LoyaltyWebhooks/1"

Resolver = Callable[[str, int], list[str]]
Sender = Callable[..., int]


def app_settings() -> Settings:
    """The app's settings, as ``webhooks.get_settings`` gives them now."""
    from loyalty_app.services.crm import webhooks

    return webhooks.get_settings()


def kicks_enabled() -> bool:
    """``webhooks.KICK_AFTER_COMMIT`` now: deliver in the background after each commit."""
    from loyalty_app.services.crm import webhooks

    return webhooks.KICK_AFTER_COMMIT
