"""Check-ins: a member scans the poster in a store and earns the check-in reward once a day.

The poster's QR opens ``{APP_ORIGIN}/m/<slug>/checkin?s=<token>``; the token names the store and
is signed (``domain.checkin_tokens``). ``check_in`` verifies it, then records the action through
``services.earning.actions.record_action`` with the idempotency key
``checkin:<store>:<member>:<merchant-local day>``: a reload or a second scan the same day replays
the first outcome (``already=True``) and credits nothing; the next day is a new key. The earning
rule's own limits still apply on top (e.g. one check-in a day across all stores).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy.engine import Engine

from loyalty_app.db import read_session
from loyalty_app.domain import challenges as challenge_rules
from loyalty_app.domain import checkin_tokens
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.earning import Action as EarnAction
from loyalty_app.domain.earning import local_date
from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.models import Merchant, Store
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.earning.badges import AwardedBadge
from loyalty_app.services.earning.challenges import ChallengeView, CompletedChallenge, member_challenges, open_challenges, to_spec
from loyalty_app.services.earning.tiers import TierChange
from loyalty_app.services.platform import permissions
from loyalty_app.services.platform.permissions import Action, Actor
from loyalty_app.settings import Settings, get_settings

STORE_CLOSED = N_("This store is not taking check-ins right now.")


# ------------------------------------------------------------------------------- tokens and URLs


def verify_keys(settings: Settings | None = None) -> list[tuple[str, bytes]]:
    """Every key a poster may have been signed with, newest first.

    The configured QR signing keys, plus the key derived from SECRET_KEY that signs while no
    QR_SIGNING_KEYS are set: configuring keys later must not void the posters already printed.
    """
    settings = settings or get_settings()
    keys = list(settings.code_keys().items())
    derived = hashlib.sha256(f"member-code:{settings.secret_key}".encode()).digest()
    if all(key != derived for _kid, key in keys):
        keys.append(("k0", derived))
    return keys


def store_token(merchant_id: int, store_id: int, settings: Settings | None = None) -> str:
    """The signed token for one store, with the current signing key."""
    settings = settings or get_settings()
    kid = settings.current_code_kid()
    return checkin_tokens.sign(merchant_id=merchant_id, store_id=store_id, kid=kid, key=settings.code_keys()[kid])


def checkin_path(slug: str, token: str) -> str:
    return f"/m/{slug}/checkin?s={quote(token, safe='')}"


def checkin_url_for(slug: str, token: str, settings: Settings | None = None) -> str:
    """The absolute URL the poster's QR holds."""
    settings = settings or get_settings()
    return settings.app_origin.rstrip("/") + checkin_path(slug, token)


# ------------------------------------------------------------------------------------ check-in


@dataclass(frozen=True)
class CheckinResult:
    """What a check-in gave the member (``already``: an earlier check-in today, nothing now)."""

    store_id: int
    store_name: str
    already: bool
    points: int  # credited now for the check-in itself (after multipliers); 0 when already
    bonus_points: int  # credited now by challenges this check-in completed
    reason: str  # msgid of the ledger entry ("Checked in at {store}")
    reason_params: dict
    available: int  # balance after the check-in
    badges: tuple[AwardedBadge, ...] = ()
    challenges_completed: tuple[CompletedChallenge, ...] = ()
    challenge_progress: tuple[ChallengeView, ...] = ()  # open challenges that count check-ins
    tier_change: TierChange | None = None

    @property
    def total_points(self) -> int:
        return self.points + self.bonus_points


def checkin_key(store_id: int, account_id: int, day) -> str:
    """Once per store, member and merchant-local day (the merchant scopes every key)."""
    return f"checkin:{store_id}:{account_id}:{day.isoformat()}"


def _refuse(engine: Engine, actor: Actor, err: LoyaltyError, token: str, ip: str) -> LoyaltyError:
    permissions.record_actor_event(engine, actor, "check_in", err.code, {"token_prefix": (token or "")[:40]}, ip=ip)
    return err


def verify_store(engine: Engine, actor: Actor, token: str, *, ip: str = "") -> Store:
    """The active store of the actor's merchant that ``token`` names; refusals are logged."""
    try:
        claims = checkin_tokens.verify(token, keys=verify_keys(), merchant_id=actor.merchant_id)
    except LoyaltyError as err:
        raise _refuse(engine, actor, err, token, ip) from None
    with read_session(engine) as s:
        store = s.get(Store, claims.store_id)
    if store is None or store.merchant_id != actor.merchant_id:
        # A valid signature over a store that is gone (or never was this merchant's).
        raise _refuse(engine, actor, LoyaltyError(checkin_tokens.INVALID_TOKEN, code="checkin_unknown_store"), token, ip)
    if not store.is_active:
        raise LoyaltyError(STORE_CLOSED, code="checkin_store_inactive")
    return store


def _challenge_progress(engine: Engine, merchant_id: int, account_id: int, now: datetime) -> tuple[ChallengeView, ...]:
    with read_session(engine) as s:
        merchant = s.get(Merchant, merchant_id)
        tz = merchant.timezone if merchant and merchant.timezone else "UTC"
        counting = {
            row.key
            for row in open_challenges(s, merchant_id, now)
            if challenge_rules.counts_action(to_spec(row), EarnAction.CHECK_IN.value)
        }
        if not counting:
            return ()
        views = member_challenges(s, merchant_id=merchant_id, account_id=account_id, tz=tz, now=now)
    return tuple(v for v in views if v.key in counting)


def check_in(engine: Engine, actor: Actor | None, *, token: str, now: datetime | None = None, ip: str = "") -> CheckinResult:
    """Check the signed-in member in at the store the poster's ``token`` names.

    Refused with a clear LoyaltyError (nothing recorded) for a signed-out visitor, a staff or
    admin account, a malformed or forged token, another merchant's poster, an inactive store, or
    when the program's rules refuse the check-in (no rule, limit reached).
    """
    now = now or utcnow()
    member = permissions.authorize(engine, actor, Action.CHECK_IN, merchant_id=actor.merchant_id if actor else 0, ip=ip)
    store = verify_store(engine, member, token, ip=ip)
    with read_session(engine) as s:
        merchant = s.get(Merchant, member.merchant_id)
        tz = merchant.timezone if merchant and merchant.timezone else "UTC"
    outcome = earning.record_action(
        engine,
        merchant_id=member.merchant_id,
        account_id=member.account_id,
        action=EarnAction.CHECK_IN.value,
        store_id=store.id,
        idempotency_key=checkin_key(store.id, member.account_id, local_date(now, tz)),
        detail={"via": "poster"},
        now=now,
    )
    return CheckinResult(
        store_id=store.id,
        store_name=store.name,
        already=outcome.replayed,
        points=0 if outcome.replayed else outcome.points,
        bonus_points=0 if outcome.replayed else outcome.bonus_points,
        reason=outcome.reason,
        reason_params=dict(outcome.reason_params),
        available=outcome.balance.available,
        badges=tuple(outcome.badges_awarded),
        challenges_completed=tuple(outcome.challenges_completed),
        challenge_progress=_challenge_progress(engine, member.merchant_id, member.account_id, now),
        tier_change=outcome.tier_change,
    )
