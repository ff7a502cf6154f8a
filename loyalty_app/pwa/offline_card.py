"""The member card kept on the device for offline use (name + member number, never a code).

When the Card tab loads online it stores ``{"name", "number", "merchant", "short", "logo",
"lang"}`` in ``localStorage["loyalty_card:<slug>"]``; when the page opens without a connection
(from the service worker's cache) the card tab renders that instead of waiting for the
websocket. Signing out (and any anonymous visit to sign-in) removes it. No credential and no
live QR code is ever stored: the number is what a cashier types when nothing can be scanned.

Plain strings of JavaScript, so the states and pages that need them stay small.
"""

from __future__ import annotations

import json

STORAGE_PREFIX = "loyalty_card:"

# The merchant slug of the current page (the card is kept per merchant app).
SLUG_JS = "(((typeof window !== 'undefined') && (window.location.pathname.match(/^\\/m\\/([^/]+)\\//) || [])[1]) || '')"

# The stored card of this page's merchant, or null (never throws: private mode, bad JSON).
READ_JS = (
    "(() => { try { const s = " + SLUG_JS + "; "
    "return s ? JSON.parse(window.localStorage.getItem(" + json.dumps(STORAGE_PREFIX) + " + s) || 'null') : null; } "
    "catch (e) { return null; } })()"
)


def storage_key(slug: str) -> str:
    return STORAGE_PREFIX + slug


def remember_script(slug: str, card: dict[str, str]) -> str:
    """JS that stores ``card`` for ``slug`` (ignores a full or disabled storage)."""
    return (
        f"try {{ window.localStorage.setItem({json.dumps(storage_key(slug))}, "
        f"{json.dumps(json.dumps(card, ensure_ascii=False))}); }} catch (e) {{}}"
    )


def forget_script(slug: str) -> str:
    """JS that removes the stored card of ``slug``."""
    return f"try {{ window.localStorage.removeItem({json.dumps(storage_key(slug))}); }} catch (e) {{}}"
