"""The analytics dashboard as the page shows it: ``build_view`` turns the service's Dashboard into
localized strings, plain numbers and chart colours. No Reflex here, so it is tested directly."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.numbers import format_percent

from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_currency, format_date, format_number, normalize_language, translate
from loyalty_app.services.insight import analytics

# Chart colours: fixed, distinguishable, each at least 3:1 against white (WCAG 1.4.11).
TEAL, AMBER, SLATE, ROSE, VIOLET, BLUE = "#0f766e", "#b45309", "#475569", "#be123c", "#6d28d9", "#1d4ed8"
FUNNEL_STEPS = {
    "codes": N_("Codes shared"),
    "joined": N_("Friends joined"),
    "purchased": N_("First purchase"),
    "rewarded": N_("Referrer rewarded"),
}
SEGMENT_COLOURS = {"champions": TEAL, "loyal": BLUE, "new": VIOLET, "at_risk": ROSE, "hibernating": SLATE, "others": AMBER}
DATE_FORMAT = {"day": "d MMM", "week": "d MMM", "month": "MMM yyyy"}


def _pct(lang: str, share: float | None) -> str:
    """A share in the locale's percent style, to one decimal ("15.4%", "15,4 %")."""
    if share is None:
        return "—"
    return format_percent(round(share, 3), locale=normalize_language(lang), decimal_quantization=False)


def build_view(board: analytics.Dashboard, lang: str) -> dict[str, Any]:
    """The dashboard as the strings and plain numbers the page shows (no Reflex, testable)."""
    fmt = DATE_FORMAT[board.period]

    def label(d: date) -> str:
        return format_date(lang, d, fmt)

    flows = [
        {"label": label(f.start), "issued": f.issued, "redeemed": f.redeemed, "expired": f.expired, "donated": f.donated}
        for f in board.flows
    ]
    cohorts = [
        {
            "label": format_date(lang, r.cohort, "MMM yyyy"),
            "members": r.members,
            **{
                f"d{d}": (round(r.retention[d] * 100, 1) if r.retention[d] is not None else None)
                for d in analytics.RETENTION_DAYS
            },
            **{f"d{d}_text": _pct(lang, r.retention[d]) for d in analytics.RETENTION_DAYS},
        }
        for r in board.cohorts
        if r.members
    ]
    rate = board.redemption.rate
    owed = board.liability
    return {
        "kpi_active": format_number(lang, board.active.active_30d),
        "kpi_members": format_number(lang, board.active.members),
        "members_n": board.active.members,
        "kpi_rate": _pct(lang, rate),
        "kpi_issued": format_number(lang, board.redemption.issued),
        "kpi_redeemed": format_number(lang, board.redemption.redeemed),
        "kpi_liability": format_number(lang, owed.points),
        "kpi_liability_value": format_currency(lang, owed.value_cents, owed.currency) if owed.value_cents is not None else "",
        "enrolments": [{"label": label(b.start), "value": b.value} for b in board.enrolments],
        "has_enrolments": any(b.value for b in board.enrolments),
        "active": [{"label": label(b.start), "value": b.value} for b in board.active.series],
        "has_active": any(b.value for b in board.active.series),
        "flows": flows,
        "has_flows": any(f["issued"] or f["redeemed"] or f["expired"] or f["donated"] for f in flows),
        "cohorts": cohorts,
        "has_cohorts": any(r.retention[d] is not None for r in board.cohorts for d in analytics.RETENTION_DAYS),
        "top_redeemed": [
            {"name": r.name, "value": r.redemptions, "text": format_number(lang, r.redemptions)} for r in board.top_redeemed
        ],
        "top_rated": [
            {"name": r.name, "average": format_number(lang, r.average), "ratings": format_number(lang, r.ratings)}
            for r in board.top_rated
        ],
        "ratings": [{"label": f"{stars}★", "stars": str(stars), "value": n} for stars, n in board.ratings.items()],
        "has_ratings": any(board.ratings.values()),
        "quests": [
            {
                "name": q.name,
                "participants": format_number(lang, q.participants),
                "before": q.visits_before,
                "during": q.visits_during,
                "before_text": format_number(lang, round(q.visits_before, 2)),
                "during_text": format_number(lang, round(q.visits_during, 2)),
                "visits_uplift": _pct(lang, q.visits_uplift),
                "points_uplift": _pct(lang, q.points_uplift),
                "dates": f"{format_date(lang, q.starts_at, 'd MMM')} – {format_date(lang, q.ends_at, 'd MMM yyyy')}",
            }
            for q in board.quests
        ],
        "has_quests": any(q.participants for q in board.quests),
        "challenges": [
            {
                "name": c.name,
                "completers": c.visits_completers,
                "others": c.visits_non_completers,
                "completers_n": format_number(lang, c.completers),
                "others_n": format_number(lang, c.non_completers),
                "completers_text": format_number(lang, c.visits_completers),
                "others_text": format_number(lang, c.visits_non_completers),
            }
            for c in board.challenges
        ],
        "funnel": [
            {"label": translate(lang, FUNNEL_STEPS[s.key]), "value": s.count, "text": format_number(lang, s.count)}
            for s in board.funnel
        ],
        "has_funnel": any(s.count for s in board.funnel),
        "segments": [
            {
                "label": translate(lang, analytics.SEGMENT_LABELS[k]),
                "key": k,
                "value": n,
                "text": format_number(lang, n),
                "fill": SEGMENT_COLOURS[k],
            }
            for k, n in board.rfm.segments.items()
        ],
        "has_segments": board.rfm.scored > 0,
        "at_risk": [
            {
                "name": m.name or m.member_number,
                "number": m.member_number,
                "last_visit": format_date(lang, m.last_visit, "medium") if m.last_visit else translate(lang, N_("Never")),
                "points": format_number(lang, m.lifetime_points),
            }
            for m in board.rfm.at_risk
        ],
    }
