"""CRM webhooks: the endpoints an admin manages, events written to an outbox in the business
transaction, and their delivery.

Outbox: ``enqueue`` adds one ``WebhookDelivery`` row per subscribed, active endpoint in the
caller's transaction (member sign-up, ledger post, release and expiry of points, voucher use,
consent change, account deletion); the ledger's entries arrive as ``services.platform.events.PointsPosted``,
which ``outbox`` subscribes to at import. A crash loses no event and a rolled-back change sends
nothing. When the merchant has no active endpoint, the only cost is one indexed query
(``webhookendpoint.merchant_id``) per event.

Delivery (``deliver_due``): claim one due row at a time in a short write transaction
(SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, then a conditional UPDATE that counts the
attempt and pushes ``next_attempt_at`` forward by a lease; on SQLite the conditional UPDATE
alone, under BEGIN IMMEDIATE), then POST outside any transaction, then record the outcome only if
the row is still at that attempt. Two workers therefore never send the same attempt; a worker
that dies mid-send leaves the row due again when the lease ends (at-least-once: receivers
deduplicate on ``X-Loyalty-Delivery``). 2xx = delivered; anything else is retried after
1 min, 5 min, 30 min, 2 h, then every 12 h (each +-20 % jitter), and failed after 8 attempts.

Signature: ``X-Loyalty-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`` with
``X-Loyalty-Timestamp`` in Unix seconds (README "CRM webhooks" has the receiver's check).

SSRF: endpoints must be ``https://`` on a public address. Saving refuses IP literals and names
resolving to loopback, private, link-local, shared or reserved ranges; every send resolves the
name again, refuses the same ranges and connects to the address it checked (TLS still verifies
the certificate for the name), so a DNS answer that changes after the check cannot redirect the
request inside the network. Redirects are not followed and proxies from the environment are not
used. ``WEBHOOK_ALLOW_HTTP_LOCALHOST=1`` (tests, development) additionally allows
``http(s)://localhost`` / ``127.0.0.1`` / ``[::1]`` and nothing else private.

Modules: ``config`` (events, limits and timings), ``signing`` (signatures, secrets, body bytes),
``urls`` (the SSRF checks when saving and when sending), ``outbox`` (enqueue and each event's
payload), ``delivery`` (claim, send, retry, the background kicks and the poll loop) and
``endpoints`` (the admin console). Import the package: its names are the API.
"""

from __future__ import annotations

from loyalty_app.models.webhooks import WEBHOOK_EVENTS
from loyalty_app.services.crm.webhooks import delivery as _delivery
from loyalty_app.services.crm.webhooks import urls as _urls
from loyalty_app.services.crm.webhooks.config import (
    CLAIM_LEASE,
    DESCRIPTION_MAX,
    ERROR_MAX,
    EVENT_LABELS,
    JITTER,
    MAX_ATTEMPTS,
    MAX_ENDPOINTS,
    POLL_SECONDS,
    RETRY_SCHEDULE_S,
    TEST_EVENT,
    TIMEOUT_S,
    URL_MAX,
    USER_AGENT,
    Resolver,
    Sender,
)
from loyalty_app.services.crm.webhooks.delivery import (
    DeliveryReport,
    deliver_due,
    http_send,
    kick,
    retry_delay,
    webhook_delivery_task,
)
from loyalty_app.services.crm.webhooks.endpoints import (
    DeliveryView,
    EndpointView,
    list_endpoints,
    recent_deliveries,
    retry_now,
    reveal_secret,
    rotate_secret,
    save_endpoint,
    send_test_event,
    set_active,
)
from loyalty_app.services.crm.webhooks.outbox import (
    consent_changed,
    enqueue,
    ledger_posted,
    member_deleted,
    member_enrolled,
    member_fields,
    on_points_posted,
    voucher_redeemed,
)
from loyalty_app.services.crm.webhooks.signing import body_bytes, new_event_id, new_secret, sign, verify_signature
from loyalty_app.services.crm.webhooks.urls import (
    FAILURES,
    PRIVATE_ADDRESS,
    WebhookFormInvalid,
    destination,
    failure_parts,
    validate_url,
)
from loyalty_app.settings import get_settings

# Kick a delivery run in a background thread right after a transaction that enqueued events
# commits (tests switch it off to drive delivery themselves). Read here at every commit, like
# ``get_settings`` (``config.kicks_enabled``/``config.app_settings``): patch them on the package.
KICK_AFTER_COMMIT = True

# Internals the tests reach through the package (not part of its API).
_claim_next, _record = _delivery._claim_next, _delivery._record
_failure, _Refused = _urls._failure, _urls._Refused

__all__ = [
    "CLAIM_LEASE",
    "DESCRIPTION_MAX",
    "DeliveryReport",
    "DeliveryView",
    "ERROR_MAX",
    "EVENT_LABELS",
    "EndpointView",
    "FAILURES",
    "JITTER",
    "KICK_AFTER_COMMIT",
    "MAX_ATTEMPTS",
    "MAX_ENDPOINTS",
    "POLL_SECONDS",
    "PRIVATE_ADDRESS",
    "RETRY_SCHEDULE_S",
    "Resolver",
    "Sender",
    "TEST_EVENT",
    "TIMEOUT_S",
    "URL_MAX",
    "USER_AGENT",
    "WEBHOOK_EVENTS",
    "WebhookFormInvalid",
    "body_bytes",
    "consent_changed",
    "deliver_due",
    "destination",
    "enqueue",
    "failure_parts",
    "get_settings",
    "http_send",
    "kick",
    "ledger_posted",
    "list_endpoints",
    "member_deleted",
    "member_enrolled",
    "member_fields",
    "new_event_id",
    "new_secret",
    "on_points_posted",
    "recent_deliveries",
    "retry_delay",
    "retry_now",
    "reveal_secret",
    "rotate_secret",
    "save_endpoint",
    "send_test_event",
    "set_active",
    "sign",
    "validate_url",
    "verify_signature",
    "voucher_redeemed",
    "webhook_delivery_task",
]
