"""Signed store tokens printed on check-in posters (the ``s`` in ``/m/<slug>/checkin?s=...``).

Format: ``c1.<merchant_id>.<store_id>.<kid>.<signature>``: the signature is HMAC-SHA256 over
``c1.<merchant_id>.<store_id>.<kid>`` (truncated to 128 bits, URL-safe base64) with a key derived
from the app's QR signing key named ``kid``. The derivation keeps poster tokens and member
codes apart: a signature made for one can never pass as the other.

Posters hang on a wall for years, so a token does not expire, and verification tries every
configured key (the named one first): adding a new key and keeping the old ones listed keeps
every printed poster valid. An edited token (other store, other merchant, other kid) fails the
signature. Replays are expected (everyone scans the same poster): once-a-day is enforced by the
check-in's idempotency key, not here. Pure Python: no database, no Reflex.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from loyalty_app.domain.errors import N_, LoyaltyError

PREFIX = "c1"
MAX_TOKEN_LENGTH = 120
_SIGNATURE_BYTES = 16
_DERIVATION_LABEL = b"loyalty-checkin-poster-v1"
_ID = re.compile(r"^[1-9][0-9]{0,11}$")
_KID = re.compile(r"^[A-Za-z0-9_-]{1,24}$")
_SIGNATURE = re.compile(r"^[A-Za-z0-9_-]{22}$")

INVALID_TOKEN = N_("This check-in code is not valid. Scan the poster in the store again.")
OTHER_PROGRAM = N_("This poster belongs to another loyalty program.")


@dataclass(frozen=True)
class CheckinClaims:
    merchant_id: int
    store_id: int
    kid: str


def _derive(key: bytes) -> bytes:
    return hmac.new(key, _DERIVATION_LABEL, hashlib.sha256).digest()


def _signature(key: bytes, message: str) -> str:
    digest = hmac.new(_derive(key), message.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _message(merchant_id: int, store_id: int, kid: str) -> str:
    return f"{PREFIX}.{merchant_id}.{store_id}.{kid}"


def sign(*, merchant_id: int, store_id: int, kid: str, key: bytes) -> str:
    """The token for one store of one merchant (deterministic: same inputs, same poster)."""
    if not _KID.match(kid):
        raise ValueError(f"key id {kid!r} must match {_KID.pattern}")
    message = _message(int(merchant_id), int(store_id), kid)
    return f"{message}.{_signature(key, message)}"


def verify(token: str, *, keys: Iterable[tuple[str, bytes]], merchant_id: int) -> CheckinClaims:
    """Check form and signature, then the program; a clear LoyaltyError otherwise.

    ``keys`` are (kid, key) pairs; the key named by the token is tried first, then the others.
    Nothing in the token is trusted before its signature checks out.
    """
    token = (token or "").strip()
    parts = token.split(".")
    if len(token) > MAX_TOKEN_LENGTH or len(parts) != 5 or parts[0] != PREFIX:
        raise LoyaltyError(INVALID_TOKEN, code="checkin_malformed")
    _prefix, raw_merchant, raw_store, kid, signature = parts
    if not (_ID.match(raw_merchant) and _ID.match(raw_store) and _KID.match(kid) and _SIGNATURE.match(signature)):
        raise LoyaltyError(INVALID_TOKEN, code="checkin_malformed")
    message = f"{PREFIX}.{raw_merchant}.{raw_store}.{kid}"
    ordered = sorted(keys, key=lambda pair: pair[0] != kid)
    if not any(hmac.compare_digest(_signature(key, message), signature) for _kid, key in ordered):
        raise LoyaltyError(INVALID_TOKEN, code="checkin_bad_signature")
    claims = CheckinClaims(merchant_id=int(raw_merchant), store_id=int(raw_store), kid=kid)
    if claims.merchant_id != merchant_id:
        raise LoyaltyError(OTHER_PROGRAM, code="checkin_other_program")
    return claims
