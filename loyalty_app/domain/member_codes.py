"""Signed, short-lived member codes for the QR on the member card.

Format: ``LM1.<kid>.<payload>.<signature>`` (URL-safe base64, no padding), where the payload is
JSON ``{"m": merchant_id, "a": account_id, "e": expires_unix, "n": nonce}`` and the signature is
HMAC-SHA256 over ``LM1.<kid>.<payload>`` with the key named ``kid``. Several keys can be
accepted at once, so keys rotate without breaking codes still on members' screens.

A signature with an expiry does not stop replay on its own (RFC 6238 spirit): the service keeps
each accepted nonce and refuses it the second time. Pure Python: no database, no Reflex.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from loyalty_app.domain.errors import N_, LoyaltyError

PREFIX = "LM1"
CODE_LIFETIME = timedelta(seconds=60)
CLOCK_SKEW = timedelta(seconds=5)
MAX_CODE_LENGTH = 400


@dataclass(frozen=True)
class MemberCodeClaims:
    merchant_id: int
    account_id: int
    expires_at: datetime
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, message: str) -> str:
    return _b64(hmac.new(key, message.encode(), hashlib.sha256).digest())


def looks_like_member_code(text: str) -> bool:
    return (text or "").strip().startswith(PREFIX + ".")


def issue(
    *, merchant_id: int, account_id: int, kid: str, key: bytes, now: datetime, lifetime: timedelta = CODE_LIFETIME
) -> tuple[str, MemberCodeClaims]:
    """A fresh code (new nonce) valid for ``lifetime``."""
    claims = MemberCodeClaims(merchant_id, account_id, now + lifetime, secrets.token_urlsafe(12))
    payload = _b64(
        json.dumps(
            {"m": merchant_id, "a": account_id, "e": int(claims.expires_at.timestamp()), "n": claims.nonce},
            separators=(",", ":"),
        ).encode()
    )
    signed = f"{PREFIX}.{kid}.{payload}"
    return f"{signed}.{_sign(key, signed)}", claims


def _refuse(message: str, code: str) -> LoyaltyError:
    return LoyaltyError(message, code=code)


def verify(code: str, *, keys: dict[str, bytes], merchant_id: int, now: datetime) -> MemberCodeClaims:
    """Check form, signature, program and expiry; raise a clear refusal otherwise.

    The order matters: nothing from an unsigned payload is trusted before the signature check.
    """
    code = (code or "").strip()
    parts = code.split(".")
    if len(code) > MAX_CODE_LENGTH or len(parts) != 4 or parts[0] != PREFIX:
        raise _refuse(N_("This is not a member code. Ask the member to open their card."), "code_malformed")
    _prefix, kid, payload, signature = parts
    key = keys.get(kid)
    if key is None or not hmac.compare_digest(_sign(key, f"{PREFIX}.{kid}.{payload}"), signature):
        raise _refuse(N_("This member code is not valid."), "code_bad_signature")
    try:
        data = json.loads(_unb64(payload))
        claims = MemberCodeClaims(
            merchant_id=int(data["m"]),
            account_id=int(data["a"]),
            expires_at=datetime.fromtimestamp(int(data["e"]), tz=UTC),
            nonce=str(data["n"]),
        )
    except (ValueError, KeyError, TypeError):
        raise _refuse(N_("This member code is not valid."), "code_bad_payload") from None
    if claims.merchant_id != merchant_id:
        raise _refuse(N_("This member code belongs to another loyalty program."), "code_other_program")
    if now > claims.expires_at + CLOCK_SKEW:
        raise _refuse(N_("This member code has expired. Ask the member to refresh their card."), "code_expired")
    return claims
