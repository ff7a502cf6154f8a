"""Which fields each kind's form shows (reward, earning rule, tier, badge, challenge, quest,
charity, survey, segment), in order, with the rows several kinds share kept in one place."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from loyalty_app.domain.errors import N_
from loyalty_app.i18n import t
from loyalty_app.pages.admin_program.fields import (
    area_field,
    checks_field,
    decimal_field,
    dyn_select_field,
    error_for,
    flag_field,
    image_field,
    number_field,
    pair,
    select_field,
    text_field,
    when_field,
)
from loyalty_app.pages.admin_program.state import ProgramState
from loyalty_app.pages.admin_program.widgets import small_button
from loyalty_app.services.program import program_console as pc

S = ProgramState


def _dates(start: str = "starts_at", end: str = "ends_at") -> rx.Component:
    return pair(when_field(start, N_("Starts")), when_field(end, N_("Ends")))


def _segment(help_: str = "") -> rx.Component:
    return dyn_select_field("segment", N_("Only for"), S.segment_options, blank=N_("Every member"), help_=help_)


def _segment_and_store() -> rx.Component:
    return pair(_segment(), dyn_select_field("store", N_("Store"), S.store_options, blank=N_("Every store")))


def _only_for_tiers() -> rx.Component:
    return checks_field("tier_keys", N_("Only for these tiers"), S.tier_choices, help_=N_("None ticked: every member."))


def reward_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=80),
        area_field("description", N_("Description"), max_length=300),
        image_field(),
        pair(select_field("kind", N_("Kind"), pc.REWARD_KIND_LABELS), number_field("cost_points", N_("Cost in points"))),
        pair(
            number_field("stock", N_("Stock"), help_=N_("Empty: unlimited.")),
            number_field("per_member_limit", N_("Limit per member"), help_=N_("Empty: no limit.")),
        ),
        dyn_select_field("min_tier", N_("Tier needed"), S.tier_options, blank=N_("Every member")),
        pair(when_field("valid_from", N_("Available from")), when_field("valid_until", N_("Available until"))),
        number_field("voucher_validity_days", N_("Voucher valid for (days)"), help_=N_("Empty: the program's default.")),
        _segment(help_=N_("Members outside the segment do not see it and cannot redeem it.")),
    ]


def earning_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=80),
        select_field("action", N_("Action"), pc.ACTION_LABELS, variant=True),
        rx.cond(
            S.variant == "purchase",
            decimal_field("points_per_unit", N_("Points per currency unit"), help_=N_("Like 1 or 0.5 points per euro spent.")),
            number_field("points", N_("Points")),
        ),
        rx.cond(
            S.variant == "attend_event",
            text_field(
                "event_codes",
                N_("Event codes"),
                max_length=500,
                help_=N_("The codes you hand out at events, separated by commas."),
            ),
        ),
        pair(
            number_field("limit_count", N_("At most (times)")),
            select_field("limit_period", N_("How often"), pc.LIMIT_PERIOD_LABELS),
        ),
        _dates("valid_from", "valid_until"),
        _only_for_tiers(),
        _segment_and_store(),
    ]


def tier_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=60),
        pair(
            number_field("rank", N_("Rank"), help_=N_("0 is the first tier; higher ranks are better.")),
            number_field("threshold", N_("Points earned to reach it")),
        ),
        pair(
            text_field("colour", N_("Colour"), max_length=7, placeholder="#1F5F46"),
            decimal_field("purchase_multiplier", N_("Purchase points multiplier"), help_=N_("×1 to ×10, like 1.5.")),
        ),
        area_field("description", N_("Description"), max_length=300),
    ]


def badge_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=60),
        area_field("description", N_("Description"), max_length=200),
        select_field("kind", N_("Earned for"), pc.BADGE_KIND_LABELS, variant=True),
        rx.match(
            S.variant,
            ("tier_reached", dyn_select_field("param_tier", N_("Tier"), S.tier_options)),
            ("action_count", select_field("param_action", N_("Action"), pc.ACTION_LABELS, blank=N_("Choose…"))),
            ("challenge", dyn_select_field("param_challenge", N_("Challenge"), S.challenge_options)),
            rx.fragment(),
        ),
        pair(number_field("target", N_("Target")), select_field("icon", N_("Icon"), {i: i for i in pc.BADGE_ICONS})),
    ]


def challenge_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=80),
        area_field("description", N_("Description"), max_length=300),
        select_field("action", N_("Action"), pc.CHALLENGE_ACTION_LABELS),
        pair(number_field("target", N_("Target")), select_field("recurrence", N_("Repeats"), pc.RECURRENCE_LABELS)),
        _dates(),
        pair(
            number_field("reward_points", N_("Bonus points")),
            dyn_select_field("reward_badge", N_("Badge awarded"), S.badge_options, blank=N_("No badge")),
        ),
        flag_field("hidden", N_("Surprise: hidden until completed")),
        _segment(),
    ]


def quest_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=80),
        area_field("description", N_("Description"), max_length=300),
        decimal_field("multiplier", N_("Points multiplier"), help_=N_("Like 2 for double points (above ×1, at most ×10).")),
        _dates(),
        _only_for_tiers(),
        checks_field(
            "actions", N_("Only for these actions"), S.action_choices, help_=N_("None ticked: every action, purchases too.")
        ),
        _segment_and_store(),
    ]


def charity_fields() -> list[rx.Component]:
    return [text_field("name", N_("Name"), max_length=80), area_field("description", N_("Description"), max_length=300)]


def survey_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Title"), max_length=120),
        area_field("description", N_("Description"), max_length=300),
        area_field(
            "questions",
            N_("Questions"),
            rows=6,
            max_length=6000,
            help_=N_(
                "One per line: “choice: Question = Answer 1; Answer 2”, “stars: Question” or “text: Question”. "
                "Add “(optional)” at the end of a question that may stay empty."
            ),
        ),
        _dates(),
    ]


def segment_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=60),
        area_field("description", N_("Description"), max_length=200, help_=N_("Only you see segments; members never do.")),
        rx.el.p(t("Members match when every condition you fill in holds."), class_name="pc-help"),
        error_for("criteria"),
        checks_field("tier_keys", N_("In one of these tiers"), S.tier_choices, help_=N_("None ticked: any tier.")),
        pair(
            number_field("visited_within_days", N_("Visited in the last … days")),
            number_field("not_visited_days", N_("No visit in the last … days")),
        ),
        select_field("spend_measure", N_("Spending counted as"), pc.SPEND_MEASURE_LABELS),  # full width: long labels
        number_field("spend_days", N_("Over the last … days")),
        pair(decimal_field("spend_min", N_("At least")), decimal_field("spend_max", N_("At most"))),
        checks_field("rfm_classes", N_("RFM class (as in analytics)"), S.rfm_choices, help_=N_("None ticked: any class.")),
        checks_field(
            "consent_channels", N_("Agreed to be contacted by"), S.consent_choices, help_=N_("Every ticked channel is needed.")
        ),
        rx.el.div(
            small_button(t("Count members"), S.ask_preview, icon="users", data_testid="segment-preview"),
            rx.cond(
                S.preview != "",
                rx.el.p(
                    S.preview, " ", S.preview_names, class_name="pc-help", role="status", data_testid="segment-preview-result"
                ),
            ),
            class_name="pc-inline",
        ),
    ]


FIELDS: dict[str, Callable[[], list[rx.Component]]] = {
    "reward": reward_fields,
    "earning": earning_fields,
    "tier": tier_fields,
    "badge": badge_fields,
    "challenge": challenge_fields,
    "quest": quest_fields,
    "charity": charity_fields,
    "survey": survey_fields,
    "segment": segment_fields,
}
