"""Referral codes and the reasons a referral is refused.

Both sides are rewarded, at two moments: the referee gets their welcome bonus when they sign
up with a code (``register_referral``), the referrer gets theirs when the referee makes a first
purchase (``reward_first_purchase``), so an invented account earns the referrer nothing. A
referrer's referrals are capped per calendar month (merchant's timezone), counted at sign-up.
"""

from __future__ import annotations

import secrets

from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.domain.vouchers import ALPHABET

REFERRAL_CODE_LENGTH = 8  # shared openly; it only needs to be unique and easy to type

_TRANSLATE = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def generate_referral_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))


def normalise_referral_code(typed: str) -> str:
    raw = (typed or "").upper().translate(_TRANSLATE)
    if len(raw) != REFERRAL_CODE_LENGTH or any(c not in ALPHABET for c in raw):
        return ""
    return raw


def check_referral(
    *,
    referrer_id: int,
    referee_id: int,
    referee_already_referred: bool,
    referrer_count_this_month: int,
    monthly_cap: int | None,
) -> None:
    """Refuse self-referral, a second referral of the same person, and referrals over the cap."""
    if referrer_id == referee_id:
        raise LoyaltyError(N_("You cannot refer yourself."), code="self_referral")
    if referee_already_referred:
        raise LoyaltyError(N_("This member was already referred."), code="already_referred")
    if monthly_cap is not None and referrer_count_this_month >= monthly_cap:
        raise LoyaltyError(
            N_("This friend already referred {cap} people this month; try again next month."),
            code="referral_cap",
            cap=monthly_cap,
        )
