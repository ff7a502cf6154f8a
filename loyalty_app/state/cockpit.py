"""Shared cockpit data for the member tabs, loaded through services.member_app.cockpit in one call."""

from __future__ import annotations

import reflex as rx

from loyalty_app.domain.clock import utcnow
from loyalty_app.i18n import format_date, format_relative, translate
from loyalty_app.services.member_app import cockpit
from loyalty_app.state.forms import current_language, read_own


class CockpitState(rx.State):
    """The member's cockpit data (home, rewards and challenges tabs read it)."""

    loaded: bool = False
    error: str = ""
    available: int = 0
    tier_name: str = ""
    next_tier_name: str = ""
    points_to_next: int = 0
    pct_to_next: int = 0
    points_to_keep: int = 0
    pct_to_keep: int = 100
    is_birthday: bool = False
    expiring_30d: int = 0
    next_expiry: str = ""
    quests: list[dict[str, str]] = []
    challenges: list[dict[str, str]] = []
    badges: list[dict[str, str]] = []
    rewards: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        await self._refresh()

    async def _refresh(self) -> None:
        """Re-read the cockpit (also called when a change is pushed live from elsewhere)."""
        loaded = await read_own(self, cockpit.summary_for)
        if loaded is None:
            return
        session, summary = loaded
        lang = await current_language(self)
        now = utcnow()
        b = summary.balance
        self.available = b.available
        self.tier_name = summary.tier_name or ""
        self.next_tier_name = summary.next_tier_name or ""
        self.points_to_next = summary.points_to_next_tier
        self.pct_to_next = summary.pct_to_next_tier
        self.points_to_keep = summary.points_to_keep_tier
        self.pct_to_keep = summary.pct_to_keep_tier
        self.is_birthday = summary.is_birthday
        self.expiring_30d = summary.expiring_30d
        self.next_expiry = format_date(lang, summary.next_expiry_at) if summary.next_expiry_at else ""
        self.quests = [
            {
                "name": q.name,
                "multiplier": f"×{q.multiplier_pct / 100:g}",
                "ends": format_relative(lang, q.ends_at, now=now),
                "ends_at": q.ends_at.isoformat(),
            }
            for q in summary.active_quests
        ]
        self.challenges = [
            {
                "name": c.name,
                "description": c.description,
                "progress": f"{c.count}/{c.target}",
                "pct": str(c.pct),
                "done": "1" if c.completed else "",
            }
            for c in summary.challenges
        ]
        self.badges = [
            {"name": bd.name, "icon": bd.icon or "award", "when": format_date(lang, bd.awarded_at) if bd.awarded_at else ""}
            for bd in summary.newest_badges
        ]
        self.rewards = [
            {
                "id": str(r.reward_id),
                "name": r.name,
                "cost": str(r.cost_points),
                "image": f"/m/{session.merchant_slug}/media/{r.image_id}" if r.image_id else "",
                "reason": translate(lang, r.reason, **r.reason_params),
                "affordable": "1" if r.affordable else "",
            }
            for r in summary.recommended_rewards
        ]
        self.error = ""
        self.loaded = True
