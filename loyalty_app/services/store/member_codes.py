"""Member QR codes: issued to the signed-in member, accepted once at a till."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from loyalty_app.db import read_session, write_session
from loyalty_app.domain import member_codes
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.models import Account, Role, UsedMemberCode
from loyalty_app.services.earning.tiers import current_tier, load_tiers
from loyalty_app.services.platform import permissions
from loyalty_app.services.platform.permissions import Action, Actor
from loyalty_app.settings import get_settings


def issue_member_code(engine: Engine, actor: Actor | None, *, now: datetime | None = None) -> tuple[str, datetime]:
    """A fresh code for the signed-in member's own card: (code, expires_at)."""
    member = permissions.authorize(engine, actor, Action.VIEW_OWN_MEMBER_DATA, merchant_id=actor.merchant_id if actor else 0)
    settings = get_settings()
    kid = settings.current_code_kid()
    code, claims = member_codes.issue(
        merchant_id=member.merchant_id, account_id=member.account_id, kid=kid, key=settings.code_keys()[kid], now=now or utcnow()
    )
    return code, claims.expires_at


@dataclass(frozen=True)
class MemberCard:
    """What the member's own card shows besides the live code."""

    member_number: str
    first_name: str
    last_name: str
    tier_name: str  # "" without a tier


def member_card(engine: Engine, actor: Actor | None) -> MemberCard | None:
    """The signed-in member's own card, or None when the account is gone."""
    member = permissions.authorize(engine, actor, Action.VIEW_OWN_MEMBER_DATA, merchant_id=actor.merchant_id if actor else 0)
    with read_session(engine) as s:
        account = s.get(Account, member.account_id)
        if account is None:
            return None
        tier = current_tier(s, member.merchant_id, member.account_id, load_tiers(s, member.merchant_id))
    return MemberCard(
        member_number=account.member_number,
        first_name=account.first_name,
        last_name=account.last_name,
        tier_name=tier.name if tier else "",
    )


def consume_member_code(
    engine: Engine, *, merchant_id: int, code: str, staff_account_id: int, ip: str = "", now: datetime | None = None
) -> int:
    """Verify a scanned code and mark it used; returns the member's account id.

    Every refusal (bad signature, other program, expired, replayed) is logged with who and why.
    """
    now = now or utcnow()
    try:
        claims = member_codes.verify(code, keys=get_settings().code_keys(), merchant_id=merchant_id, now=now)
        with write_session(engine) as s:
            account = s.get(Account, claims.account_id)
            if (
                account is None
                or account.merchant_id != merchant_id
                or account.role != Role.MEMBER
                or account.deleted_at
                or not account.is_active
            ):
                raise LoyaltyError(N_("This member code is not valid."), code="code_unknown_member")
            s.add(
                UsedMemberCode(
                    nonce=claims.nonce,
                    merchant_id=merchant_id,
                    account_id=account.id,
                    expires_at=claims.expires_at,
                    used_at=now,
                    used_by=staff_account_id,
                )
            )
        return claims.account_id
    except IntegrityError:
        err = LoyaltyError(
            N_("This member code was already used. Ask the member to show the live code on their card."), code="code_replayed"
        )
    except LoyaltyError as refusal:
        err = refusal
    permissions.record_security_event(
        engine,
        merchant_id=merchant_id,
        account_id=staff_account_id,
        action="scan_member_code",
        reason=err.code,
        detail={"code_prefix": (code or "")[:12]},
        ip=ip,
        now=now,
    )
    raise err


def purge_used(engine: Engine, *, now: datetime | None = None) -> int:
    """Forget nonces of codes that expired over an hour ago: their signature already refuses them."""
    cutoff = (now or utcnow()) - timedelta(hours=1)
    with write_session(engine) as s:
        result = s.exec(delete(UsedMemberCode).where(UsedMemberCode.expires_at < cutoff))  # type: ignore[call-overload]
        return result.rowcount or 0
