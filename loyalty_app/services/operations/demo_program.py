"""The demo loyalty program of a merchant: tiers, rules, quests, badges, challenges, rewards
with generated pictures, charities, and months of member history.

Idempotent: definitions are upserted by key and written only when they differ, and the
history is replayed through the real services with fixed idempotency keys (receipts, action
keys, redemption and donation keys), so a second call writes nothing and every balance is
exactly what the ledger says. The exceptions are time: the live double-points quest is
created running at ``now`` (a later call moves it only if it has already ended), and the weekly
and monthly challenges start at the first call's ``now``, so their progress never depends on
the day of the week or month the demo was loaded.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import write_session
from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.domain.quests import utc_to_local
from loyalty_app.domain.segments import SegmentCriteria
from loyalty_app.domain.theme import hex_to_rgb
from loyalty_app.models import Account, Challenge, Merchant, Quest, Referral, Reward, Segment
from loyalty_app.services import ledger
from loyalty_app.services.catalog.donations import donate
from loyalty_app.services.catalog.rewards import rate_reward, redeem_reward
from loyalty_app.services.earning.actions import credit_purchase, record_action
from loyalty_app.services.earning.engagement import upsert_survey
from loyalty_app.services.earning.referrals import referral_code_for, register_referral
from loyalty_app.services.earning.tiers import evaluate_tiers
from loyalty_app.services.members.media import store_image
from loyalty_app.services.program import program_admin as admin
from loyalty_app.services.program.changelog import record_change

TIERS_FULL = [
    ("bronze", "Bronze", "#b26b2c", 0, 0, {}),
    ("silver", "Silver", "#8a96a3", 1, 400, {"purchase": 125}),
    ("gold", "Gold", "#c9a227", 2, 1200, {"purchase": 150, "check_in": 150}),
    ("platinum", "Platinum", "#5b6b8c", 3, 3000, {"purchase": 200, "refer_friend": 200, "check_in": 200}),
]
TIERS_SMALL = [
    ("reader", "Reader", "#6b7280", 0, 0, {}),
    ("bookworm", "Bookworm", "#2563eb", 1, 300, {"purchase": 125}),
    ("scholar", "Scholar", "#7c3aed", 2, 900, {"purchase": 150, "refer_friend": 200}),
    ("laureate", "Laureate", "#b45309", 3, 2000, {"purchase": 200, "refer_friend": 200}),
]

# (action, key, points, limit_count, limit_period, params)
ACTION_RULES = [
    ("write_review", "write-review", 25, 2, "month", {}),
    ("rate_reward", "rate-reward", 10, 5, "month", {}),
    ("fill_survey", "survey", 30, 1, "month", {}),
    ("subscribe_newsletter", "newsletter", 50, 1, "ever", {}),
    ("tag_social", "social-tag", 15, 3, "week", {}),
    ("attend_event", "event", 60, 2, "month", {"event_codes": ["TASTING", "MEETUP", "JAZZNIGHT"]}),
    ("photo_contest", "photo-contest", 40, 1, "month", {}),
    ("check_in", "check-in", 10, 1, "day", {}),
    ("birthday", "birthday", 200, 1, "year", {}),
    ("complete_profile", "complete-profile", 100, 1, "ever", {}),
    ("refer_friend", "refer-friend", 150, 10, "month", {}),
]

# (key, name, kind, cost, stock, per_member_limit, min tier index, icon, colours)
REWARDS_FULL = [
    ("espresso", "Free espresso", "free_product", 80, None, None, None, "cup", ("#6b3e26", "#d9a066")),
    ("cappuccino", "Free cappuccino", "free_product", 150, None, None, None, "cup", ("#8c5a3c", "#f2d2a9")),
    ("croissant", "Butter croissant", "free_product", 120, None, None, None, "circle", ("#c27c0e", "#ffe29a")),
    ("discount10", "10% off your order", "discount", 200, None, 3, None, "percent", ("#1f5f46", "#7bd389")),
    ("discount25", "25% off your order", "discount", 450, None, 1, 1, "percent", ("#0f766e", "#99f6e4")),
    ("shipping", "Free beans delivery", "free_shipping", 250, None, None, None, "box", ("#1e3a8a", "#93c5fd")),
    ("tasting", "Coffee tasting evening", "event_ticket", 600, 20, 1, 1, "ticket", ("#7c2d12", "#fdba74")),
    ("barista", "Barista class", "event_ticket", 900, 8, 1, 2, "ticket", ("#581c87", "#d8b4fe")),
    ("preview", "Early access: new blends", "early_access", 300, None, 1, 2, "star", ("#854d0e", "#fde047")),
    ("partner", "Partner bakery coupon", "partner_coupon", 180, 50, 2, None, "tag", ("#9d174d", "#f9a8d4")),
    ("mug", "Branded mug", "free_product", 700, 15, 1, None, "cup", ("#334155", "#cbd5e1")),
    ("beans", "Bag of house beans", "free_product", 1000, None, None, 3, "box", ("#3f2a1d", "#e0b084")),
]
REWARDS_SMALL = [
    ("bookmark", "Leather bookmark", "free_product", 100, None, None, None, "star", ("#3b2f8f", "#c4b5fd")),
    ("discount10", "10% off a book", "discount", 250, None, 2, None, "percent", ("#e4572e", "#fed7aa")),
    ("shipping", "Free shipping", "free_shipping", 150, None, None, None, "box", ("#1e3a8a", "#93c5fd")),
    ("reading", "Author reading ticket", "event_ticket", 500, 10, 1, 1, "ticket", ("#7c2d12", "#fdba74")),
    ("preview", "Early access: signed editions", "early_access", 400, None, 1, 2, "star", ("#854d0e", "#fde047")),
    ("partner", "Café partner coupon", "partner_coupon", 200, 30, 2, None, "tag", ("#1f5f46", "#7bd389")),
]

BADGES = [
    ("first-purchase", "First purchase", "first_purchase", 1, None, "bag"),
    ("regular", "Regular", "check_ins", 5, None, "pin"),
    ("explorer", "Explorer", "distinct_stores", 2, None, "map"),
    ("streak-4", "Four-week streak", "weekly_streak", 4, None, "flame"),
    ("first-reward", "First reward", "first_redemption", 1, None, "gift"),
    ("critic", "Critic", "first_review", 1, None, "pen"),
    ("points-1000", "1,000 points", "points_earned", 1000, None, "trophy"),
]
CHARITIES = [
    ("food-bank", "City Food Bank", "Meals for families in need."),
    ("trees", "Plant a Tree", "Native trees for urban parks."),
    ("animal-shelter", "Animal Shelter", "Care for rescued cats and dogs."),
]

# (title, description, questions) of the café's demo survey (services.earning.engagement.upsert_survey).
DEMO_SURVEY = (
    "Help us pick the next blend",
    "Three quick questions, under a minute.",
    [
        {
            "id": "visit",
            "text": "How often do you visit us?",
            "kind": "choice",
            "options": ["Every day", "A few times a week", "A few times a month", "Rarely"],
        },
        {"id": "coffee", "text": "How do you rate our coffee?", "kind": "stars"},
        {"id": "wish", "text": "What should we add to the menu?", "kind": "text", "required": False, "max_length": 300},
    ],
)


@dataclass(frozen=True)
class SeedReport:
    rewards: int
    members: int
    history_events: int


def _font(size: int) -> ImageFont.ImageFont:
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def reward_picture(name: str, icon: str, colours: tuple[str, str], size: tuple[int, int] = (480, 320)) -> Image.Image:
    """A diagonal gradient with a large white icon shape and the reward's name (no emoji)."""
    w, h = size
    a, b = hex_to_rgb(colours[0]), hex_to_rgb(colours[1])
    gradient = Image.linear_gradient("L").rotate(45, expand=True).resize((w, h))
    img = Image.composite(Image.new("RGB", size, a), Image.new("RGB", size, b), gradient)
    draw = ImageDraw.Draw(img)
    white = (255, 255, 255)
    cx, cy, r = w // 2, int(h * 0.42), int(h * 0.24)
    if icon == "cup":
        draw.rounded_rectangle((cx - r, cy - r // 2, cx + r // 2, cy + r), radius=r // 4, fill=white)
        draw.ellipse((cx + r // 4, cy - r // 5, cx + r, cy + r // 2), outline=white, width=max(6, r // 6))
    elif icon == "percent":
        draw.ellipse((cx - r, cy - r, cx - r // 3, cy - r // 3), fill=white)
        draw.ellipse((cx + r // 3, cy + r // 3, cx + r, cy + r), fill=white)
        draw.line((cx + r, cy - r, cx - r, cy + r), fill=white, width=max(8, r // 5))
    elif icon == "box":
        draw.rectangle((cx - r, cy - r // 2, cx + r, cy + r), fill=white)
        draw.polygon(
            [(cx - r, cy - r // 2), (cx - r // 2, cy - r), (cx + r + r // 2, cy - r), (cx + r, cy - r // 2)], fill=(235, 235, 235)
        )
    elif icon == "ticket":
        draw.rounded_rectangle((cx - r - r // 2, cy - r // 2, cx + r + r // 2, cy + r // 2), radius=r // 5, fill=white)
        draw.ellipse((cx - r // 5, cy - r // 2 - r // 5, cx + r // 5, cy - r // 2 + r // 5), fill=a)
        draw.ellipse((cx - r // 5, cy + r // 2 - r // 5, cx + r // 5, cy + r // 2 + r // 5), fill=a)
    elif icon == "tag":
        draw.polygon(
            [(cx - r, cy - r // 2), (cx + r // 2, cy - r // 2), (cx + r, cy), (cx + r // 2, cy + r // 2), (cx - r, cy + r // 2)],
            fill=white,
        )
        draw.ellipse((cx + r // 4, cy - r // 8, cx + r // 2, cy + r // 8), fill=a)
    elif icon == "star":
        points = []
        for i in range(10):
            radius = r if i % 2 == 0 else r * 0.45
            angle = -math.pi / 2 + i * math.pi / 5
            points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        draw.polygon(points, fill=white)
    else:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=white)
        draw.ellipse((cx - r // 2, cy - r // 2, cx + r // 2, cy + r // 2), fill=b)
    font = _font(30)
    box = draw.textbbox((0, 0), name, font=font)
    tw = box[2] - box[0]
    draw.text(((w - tw) / 2 - box[0], h * 0.78), name, font=font, fill=white, stroke_width=2, stroke_fill=a)
    return img


def _define_program(session: Session, merchant: Merchant, store_ids: list[int], now: datetime, small: bool) -> None:
    mid = merchant.id
    settings = ledger.get_program_settings(session, mid)
    wanted = dict(
        expiry_policy="after_days",
        expiry_days=180,
        pending_days=0,
        purchase_points_per_unit=1,
        purchase_rounding="round",
        tier_window="rolling_12m",
        tier_grace_days=30,
        donation_daily_limit=500,
        referral_referrer_points=150,
        referral_referee_points=50,
        referral_monthly_cap=5,
    )
    if any(getattr(settings, k) != v for k, v in wanted.items()):
        for k, v in wanted.items():
            setattr(settings, k, v)
        session.add(settings)
    admin.set_program_rules(session, mid, quest_stacking="multiply", max_multiplier_pct=300, voucher_validity_days=30)
    tiers = TIERS_SMALL if small else TIERS_FULL
    for key, name, colour, rank, threshold, mult in tiers:
        admin.upsert_tier(session, mid, key, name=name, colour=colour, rank=rank, threshold=threshold, multipliers=mult)
    admin.upsert_earning_rule(session, mid, "purchase", action="purchase", points_per_unit="1", name="Points per purchase")
    for action, key, points, count, period, params in ACTION_RULES:
        admin.upsert_earning_rule(
            session, mid, key, action=action, points=points, limit_count=count, limit_period=period, params=params
        )
    # A targeted rule: check-ins at the second store count double for Gold and above.
    if len(store_ids) > 1 and not small:
        admin.upsert_earning_rule(
            session,
            mid,
            "check-in-riverside",
            action="check_in",
            points=20,
            limit_count=1,
            limit_period="day",
            store_id=store_ids[1],
            tier_keys=["gold", "platinum"],
        )
    quest = session.exec(select(Quest).where(Quest.merchant_id == mid, Quest.key == "double-points")).first()
    if quest is None or quest.ends_at <= now:
        local_now = utc_to_local(now, merchant.timezone).replace(tzinfo=None, minute=0, second=0, microsecond=0)
        admin.upsert_quest(
            session,
            mid,
            "double-points",
            name="Double points days",
            multiplier_pct=200,
            starts_local=local_now - timedelta(days=1),
            ends_local=local_now + timedelta(days=3),
            description="Every purchase earns double points.",
            actions=["purchase"],
        )
    for order, (key, name, kind, target, param, icon) in enumerate(BADGES):
        admin.upsert_badge(session, mid, key, name=name, kind=kind, target=target, param=param, icon=icon, sort_order=order)
    top_tier = tiers[2]
    admin.upsert_badge(
        session,
        mid,
        f"tier-{top_tier[0]}",
        name=f"{top_tier[1]} member",
        kind="tier_reached",
        param=top_tier[0],
        icon="crown",
        sort_order=20,
    )
    admin.upsert_badge(session, mid, "surprise", name="Night owl", kind="challenge", param="surprise", icon="moon", sort_order=30)
    # The recurring challenges start when the demo is loaded: the replayed history would otherwise
    # leave this week's and this month's progress to the calendar (done on the 28th, not on the
    # 2nd), and the demo must look and behave the same on any day.
    launched = {c.key: c.starts_at for c in session.exec(select(Challenge).where(Challenge.merchant_id == mid)).all()}
    admin.upsert_challenge(
        session,
        mid,
        "visit-3-month",
        name="Visit 3 times this month",
        action="visit",
        target=3,
        recurrence="monthly",
        reward_points=50,
        starts_at=launched.get("visit-3-month") or now,
    )
    admin.upsert_challenge(
        session,
        mid,
        "review-week",
        name="Write a review this week",
        action="write_review",
        target=1,
        recurrence="weekly",
        reward_points=20,
        starts_at=launched.get("review-week") or now,
    )
    admin.upsert_challenge(session, mid, "five-checkins", name="Check in 5 times", action="check_in", target=5, reward_points=75)
    admin.upsert_challenge(
        session,
        mid,
        "surprise",
        name="Surprise: three check-ins",
        action="check_in",
        target=3,
        reward_points=30,
        reward_badge_key="surprise",
        hidden=True,
    )
    # The café asks its members three quick questions (Challenges tab, "Ways to earn").
    if not small:
        upsert_survey(session, mid, "taste-survey", title=DEMO_SURVEY[0], description=DEMO_SURVEY[1], questions=DEMO_SURVEY[2])
    for key, name, description in CHARITIES:
        admin.upsert_charity(session, mid, key, name=name, description=description)
    if not small:
        _demo_segments(session, mid)
    rewards = REWARDS_SMALL if small else REWARDS_FULL
    for order, (key, name, kind, cost, stock, limit, tier_index, icon, colours) in enumerate(rewards):
        image = store_image(session, merchant_id=mid, kind="reward", image=reward_picture(name, icon, colours))
        admin.upsert_reward(
            session,
            mid,
            key,
            name=name,
            kind=kind,
            cost_points=cost,
            stock=stock,
            per_member_limit=limit,
            min_tier_key=tiers[tier_index][0] if tier_index is not None else None,
            image_id=image.id,
            sort_order=order,
            reset_stock=False,
        )
    _changelog(session, mid, now, small)


# Merchant segments the console shows with their member counts (no offer targets them, so the
# member screens are the same for everyone in the demo).
DEMO_SEGMENTS = (
    (
        "at-risk-regulars",
        "Regulars at risk",
        "Good customers who have not come back lately.",
        SegmentCriteria(rfm_classes=("at_risk", "hibernating")),
    ),
    (
        "big-spenders",
        "Big spenders this quarter",
        "At least 100 spent in the last 90 days.",
        SegmentCriteria(spend_measure="amount", spend_days=90, spend_min=10_000),
    ),
    (
        "newsletter-gold",
        "Gold readers of the newsletter",
        "Gold or Platinum, and they agreed to e-mails.",
        SegmentCriteria(tier_keys=("gold", "platinum"), consent_channels=("email",)),
    ),
)


def _demo_segments(session: Session, merchant_id: int) -> None:
    for key, name, description, criteria in DEMO_SEGMENTS:
        found = session.exec(select(Segment).where(Segment.merchant_id == merchant_id, Segment.key == key)).first()
        if found is None:
            session.add(
                Segment(merchant_id=merchant_id, key=key, name=name, description=description, criteria=criteria.as_dict())
            )


# (kind, title, body, days from now the change applies) of the demo's "What's new" page.
DEMO_CHANGES = (
    ("quest", "Double points every weekend", "Every purchase on Saturdays and Sundays earns twice the points.", -40),
    ("reward", "New reward: Barista class", "Learn latte art with our head barista (Gold members and above).", -12),
    ("tier", "Gold from 1,200 points a year", "Points earned in the last 12 months count towards Gold; it used to be 1,500.", 10),
)


def _changelog(session: Session, merchant_id: int, now: datetime, small: bool) -> None:
    """A short published history, written once (the changelog is append-only)."""
    from loyalty_app.models import ProgramChange

    if small or session.exec(select(ProgramChange.id).where(ProgramChange.merchant_id == merchant_id)).first():
        return
    for kind, title, body, days in DEMO_CHANGES:
        published = now + timedelta(days=min(days, 0) - 3)
        record_change(
            session,
            merchant_id=merchant_id,
            kind=kind,
            title=title,
            body=body,
            effective_at=now + timedelta(days=days),
            now=published,
        )


def _history(engine: Engine, merchant_id: int, member_id: int, store_ids: list[int], now: datetime, days: int) -> int:
    """Replay ``days`` of one member's life through the services (fixed keys: idempotent)."""
    rng = random.Random(f"{merchant_id}:{member_id}")
    start = now - timedelta(days=days)
    events = 0
    day = 1 + rng.randrange(3)
    n = 0
    while day < days - 1:
        at = start + timedelta(days=day, hours=rng.randrange(8, 18) - 10, minutes=rng.randrange(60))
        store = store_ids[rng.randrange(len(store_ids))]
        amount = rng.randrange(400, 4200, 50)
        credit_purchase(
            engine,
            merchant_id=merchant_id,
            account_id=member_id,
            store_id=store,
            amount_cents=amount,
            receipt=f"demo-{member_id}-{n}",
            now=at,
        )
        events += 1
        if rng.random() < 0.5:
            _optional(
                record_action,
                engine,
                merchant_id=merchant_id,
                account_id=member_id,
                action="check_in",
                idempotency_key=f"demo-checkin-{member_id}-{n}",
                store_id=store,
                now=at + timedelta(minutes=1),
            )
            events += 1
        n += 1
        day += rng.randrange(2, 7)
    specials = [
        (0.2, "subscribe_newsletter", {}),
        (0.3, "complete_profile", {}),
        (0.45, "write_review", {}),
        (0.55, "fill_survey", {}),
        (0.65, "attend_event", {"event_code": "TASTING"}),
        (0.75, "tag_social", {}),
        (0.85, "photo_contest", {}),
    ]
    for fraction, action, detail in specials:
        at = start + timedelta(days=days * fraction, hours=3)
        _optional(
            record_action,
            engine,
            merchant_id=merchant_id,
            account_id=member_id,
            action=action,
            idempotency_key=f"demo-{action}-{member_id}",
            detail=detail,
            now=at,
        )
        events += 1
    return events


def _optional(call: Callable[..., object], *args: object, **kwargs: object) -> None:
    """Demo actions whose condition may not hold for a given member (profile incomplete, ...)."""
    try:
        call(*args, **kwargs)
    except LoyaltyError:
        pass


def _cheapest_rewards(engine: Engine, merchant_id: int) -> list[Reward]:
    with write_session(engine) as s:
        return list(
            s.exec(
                select(Reward)
                .where(Reward.merchant_id == merchant_id, Reward.min_tier_id.is_(None), Reward.stock.is_(None))
                .order_by(Reward.cost_points)
            ).all()
        )


def seed_demo_program(
    engine: Engine,
    merchant_id: int,
    member_ids: list[int],
    store_ids: list[int],
    now: datetime,
    *,
    size: str = "full",
) -> SeedReport:
    """Seed (or leave as is) one merchant's demo program and its members' history."""
    small = size == "small"
    days = 45 if small else 170
    with write_session(engine) as session:
        merchant = session.get(Merchant, merchant_id)
        if merchant is None:
            raise ValueError(f"unknown merchant {merchant_id}")
        _define_program(session, merchant, store_ids, now, small)
    members = [m for m in member_ids]
    with write_session(engine) as session:
        existing = {
            a.id for a in session.exec(select(Account).where(Account.merchant_id == merchant_id, Account.id.in_(members))).all()
        }
        already_referred = set(session.exec(select(Referral.referee_id).where(Referral.merchant_id == merchant_id)).all())
    members = [m for m in members if m in existing]
    if len(members) >= 2 and members[1] not in already_referred:
        code = referral_code_for(engine, merchant_id=merchant_id, account_id=members[0])
        register_referral(
            engine, merchant_id=merchant_id, referee_account_id=members[1], code=code, now=now - timedelta(days=days)
        )
    events = 0
    cheap = _cheapest_rewards(engine, merchant_id)
    for index, member_id in enumerate(members):
        events += _history(engine, merchant_id, member_id, store_ids, now, days)
        if cheap:
            reward = cheap[index % min(len(cheap), 2)]
            at = now - timedelta(days=3, hours=index)
            try:
                redeem_reward(
                    engine,
                    merchant_id=merchant_id,
                    account_id=member_id,
                    reward_id=reward.id,
                    idempotency_key=f"demo-redeem-{member_id}",
                    now=at,
                )
                rate_reward(
                    engine,
                    merchant_id=merchant_id,
                    account_id=member_id,
                    reward_id=reward.id,
                    stars=4 + index % 2,
                    review_text="Lovely treat, would get it again." if index % 2 == 0 else "",
                    now=at + timedelta(hours=1),
                )
                events += 2
            except LoyaltyError:
                pass  # not enough points for this member in this variant
        _optional(
            donate,
            engine,
            merchant_id=merchant_id,
            account_id=member_id,
            charity_id=_charity_id(engine, merchant_id, index),
            points=20,
            idempotency_key=f"demo-donation-{member_id}",
            now=now - timedelta(days=2),
        )
        events += 1
    evaluate_tiers(engine, merchant_id, now)
    with write_session(engine) as session:
        rewards = session.exec(select(Reward.id).where(Reward.merchant_id == merchant_id)).all()
    return SeedReport(rewards=len(rewards), members=len(members), history_events=events)


def _charity_id(engine: Engine, merchant_id: int, index: int) -> int:
    from loyalty_app.models import Charity

    with write_session(engine) as s:
        ids = s.exec(select(Charity.id).where(Charity.merchant_id == merchant_id).order_by(Charity.id)).all()
    return ids[index % len(ids)]
