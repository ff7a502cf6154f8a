""" "Download my data": everything the program holds about one member, as one JSON document.

Right of access and data portability (GDPR articles 15 and 20): the member's profile, consents,
points history with the reason of every change, vouchers, ratings and reviews, donations,
referrals, tier, badges, challenge progress, activities, check-ins, sign-in sessions and pictures.

What is never in it: the password hash, session secrets or their hashes, activation tickets,
fraud flags and security logs (the merchant's, kept for security), and anything about another
person — invited friends appear only as dates, staff only as the store they worked at. Fields
are copied one by one from each row (an allowlist), never whole rows or free-form ``source``
/ ``detail`` blobs, which may hold other accounts' ids.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import read_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, NotFound
from loyalty_app.i18n import translate
from loyalty_app.models import (
    Account,
    AuthSession,
    Badge,
    Challenge,
    ChallengeProgress,
    Charity,
    Donation,
    LedgerEntry,
    MediaBlob,
    MemberActivity,
    MemberBadge,
    MemberBalance,
    MemberTier,
    MemberTierChange,
    Merchant,
    Referral,
    ReferralCode,
    Reward,
    RewardRating,
    Store,
    Tier,
    Voucher,
)
from loyalty_app.services.members.profile import consent_statuses
from loyalty_app.services.platform.permissions import Action, Actor, authorize

EXPORT_FORMAT = "loyalty-member-export/1"
# Activity details a member may see: what they bought or typed, never other people's ids.
_ACTIVITY_DETAIL_KEYS = ("amount_cents", "receipt", "event_code")
CHECK_IN_ACTION = "check_in"


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _reason(lang: str, msgid: str, params: dict | None) -> str:
    params = params or {}
    return translate(lang, msgid, **{k: v for k, v in params.items() if isinstance(k, str) and k.isidentifier()})


def export_member_data(engine: Engine, actor: Actor, *, now: datetime | None = None) -> dict[str, Any]:
    """The member's own data as a JSON-ready dict (only str/int/bool/None/list/dict)."""
    authorize(engine, actor, Action.VIEW_OWN_MEMBER_DATA, merchant_id=actor.merchant_id if actor else 0)
    now = now or utcnow()
    mid, aid = actor.merchant_id, actor.account_id
    with read_session(engine) as s:
        account = s.get(Account, aid)
        if account is None or account.merchant_id != mid or account.deleted_at is not None:
            raise NotFound(N_("Account not found."), code="account_not_found")
        merchant = s.get(Merchant, mid)
        lang = account.language or "en"
        stores = {st.id: st.name for st in s.exec(select(Store).where(Store.merchant_id == mid)).all()}
        tiers = {t.id: t.name for t in s.exec(select(Tier).where(Tier.merchant_id == mid)).all()}

        def mine(model):
            return select(model).where(model.merchant_id == mid, model.account_id == aid)

        balance = s.get(MemberBalance, aid)
        points = {
            "available": balance.available if balance else 0,
            "pending": balance.pending if balance else 0,
            "lifetime_earned": balance.lifetime_earned if balance else 0,
            "spent": balance.spent if balance else 0,
            "expired": balance.expired if balance else 0,
            "donated": balance.donated if balance else 0,
        }

        ledger = [
            {
                "id": e.id,
                "at": _iso(e.created_at),
                "kind": e.kind,
                "points": e.points,
                "reason": _reason(lang, e.reason, e.reason_params),
                "reason_params": e.reason_params or {},
                "store": stores.get(e.source.get("store_id")) if isinstance(e.source, dict) else None,
                "reverses_entry_id": e.reverses_entry_id,
            }
            for e in s.exec(mine(LedgerEntry).order_by(LedgerEntry.id)).all()
        ]

        reward_names = {r.id: r.name for r in s.exec(select(Reward).where(Reward.merchant_id == mid)).all()}
        vouchers = [
            {
                "reward": reward_names.get(v.reward_id),
                "code": v.code,
                "status": v.status,
                "issued_at": _iso(v.issued_at),
                "expires_at": _iso(v.expires_at),
                "used_at": _iso(v.used_at),
                "used_at_store": stores.get(v.used_store_id),
                "cancelled_at": _iso(v.cancelled_at),
            }
            for v in s.exec(mine(Voucher).order_by(Voucher.issued_at)).all()
        ]

        ratings = [
            {
                "reward": reward_names.get(r.reward_id),
                "stars": r.stars,
                "review": r.review_text,
                "created_at": _iso(r.created_at),
                "updated_at": _iso(r.updated_at),
                "hidden_by_moderation": r.hidden_at is not None,
            }
            for r in s.exec(mine(RewardRating).order_by(RewardRating.created_at)).all()
        ]

        charities = {c.id: c.name for c in s.exec(select(Charity).where(Charity.merchant_id == mid)).all()}
        donations = [
            {"charity": charities.get(d.charity_id), "points": d.points, "at": _iso(d.at)}
            for d in s.exec(mine(Donation).order_by(Donation.at)).all()
        ]

        code_row = s.exec(mine(ReferralCode)).first()
        invited = s.exec(
            select(Referral).where(Referral.merchant_id == mid, Referral.referrer_id == aid).order_by(Referral.registered_at)
        ).all()
        invited_by = s.exec(select(Referral).where(Referral.merchant_id == mid, Referral.referee_id == aid)).first()
        referrals = {
            "my_code": code_row.code if code_row else None,
            # Friends are other people: only when they joined and whether it paid off.
            "friends_invited": [
                {"joined_at": _iso(r.registered_at), "rewarded_at": _iso(r.referrer_rewarded_at)} for r in invited
            ],
            "invited_by_a_friend": {"joined_at": _iso(invited_by.registered_at)} if invited_by else None,
        }

        tier_row = s.exec(mine(MemberTier)).first()
        tier = (
            {
                "name": tiers.get(tier_row.tier_id),
                "since": _iso(tier_row.since),
                "grace_until": _iso(tier_row.grace_until),
                "qualifying_points": tier_row.qualifying_points,
            }
            if tier_row
            else None
        )
        tier_history = [
            {
                "from": tiers.get(c.from_tier_id),
                "to": tiers.get(c.to_tier_id),
                "reason": c.reason,
                "qualifying_points": c.qualifying_points,
                "at": _iso(c.at),
            }
            for c in s.exec(mine(MemberTierChange).order_by(MemberTierChange.at)).all()
        ]

        badge_rows = {b.id: b for b in s.exec(select(Badge).where(Badge.merchant_id == mid)).all()}
        badges = [
            {
                "name": badge_rows[mb.badge_id].name if mb.badge_id in badge_rows else None,
                "description": badge_rows[mb.badge_id].description if mb.badge_id in badge_rows else None,
                "awarded_at": _iso(mb.awarded_at),
            }
            for mb in s.exec(mine(MemberBadge).order_by(MemberBadge.awarded_at)).all()
        ]

        challenge_rows = {c.id: c for c in s.exec(select(Challenge).where(Challenge.merchant_id == mid)).all()}
        challenges = [
            {
                "name": challenge_rows[p.challenge_id].name if p.challenge_id in challenge_rows else None,
                "period": p.period_key,
                "count": p.count,
                "target": challenge_rows[p.challenge_id].target if p.challenge_id in challenge_rows else None,
                "completed_at": _iso(p.completed_at),
                "updated_at": _iso(p.updated_at),
            }
            for p in s.exec(mine(ChallengeProgress).order_by(ChallengeProgress.updated_at)).all()
        ]

        activities = []
        check_ins = []
        for a in s.exec(mine(MemberActivity).order_by(MemberActivity.at, MemberActivity.id)).all():
            detail = a.detail or {}
            item = {
                "action": a.action,
                "at": _iso(a.at),
                "store": stores.get(a.store_id),
                "points": a.points,
                "reason": _reason(lang, detail.get("reason", ""), detail.get("reason_params")) if detail.get("reason") else None,
                "details": {k: detail[k] for k in _ACTIVITY_DETAIL_KEYS if k in detail},
            }
            activities.append(item)
            if a.action == CHECK_IN_ACTION:
                check_ins.append({"at": item["at"], "store": item["store"], "points": a.points})

        sessions = [
            {
                "created_at": _iso(row.created_at),
                "last_seen_at": _iso(row.last_seen_at),
                "expires_at": _iso(row.expires_at),
                "revoked_at": _iso(row.revoked_at),
                "ip": row.ip,
                "device": row.user_agent,
            }
            for row in s.exec(
                select(AuthSession)
                .where(AuthSession.merchant_id == mid, AuthSession.account_id == aid)
                .order_by(AuthSession.created_at)
            ).all()
        ]

        pictures: dict[str, Any] = {}
        for kind, blob_id in (("avatar", account.avatar_id), ("background", account.background_id)):
            blob = s.get(MediaBlob, blob_id) if blob_id else None
            pictures[kind] = (
                {
                    "content_type": blob.content_type,
                    "width": blob.width,
                    "height": blob.height,
                    "data_base64": base64.b64encode(blob.data).decode("ascii"),
                }
                if blob is not None and blob.merchant_id == mid
                else None
            )

        consents = {
            channel: {"granted": status.granted, "at": _iso(status.at)}
            for channel, status in consent_statuses(account.consents).items()
        }

        return {
            "format": EXPORT_FORMAT,
            "generated_at": _iso(now),
            "program": {"name": merchant.name if merchant else None, "slug": merchant.slug if merchant else None},
            "profile": {
                "member_number": account.member_number,
                "email": account.email,
                "first_name": account.first_name,
                "last_name": account.last_name,
                "birthday": _iso(account.birthday),
                "language": account.language,
                "timezone": account.timezone,
                "member_since": _iso(account.created_at),
            },
            "consents": consents,
            "points": points,
            "tier": tier,
            "tier_history": tier_history,
            "ledger": ledger,
            "vouchers": vouchers,
            "ratings": ratings,
            "donations": donations,
            "referrals": referrals,
            "badges": badges,
            "challenges": challenges,
            "activities": activities,
            "check_ins": check_ins,
            "sessions": sessions,
            "pictures": pictures,
        }


def export_filename(slug: str, now: datetime | None = None) -> str:
    return f"{slug}-my-data-{(now or utcnow()).date().isoformat()}.json"
