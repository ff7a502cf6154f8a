"""The Reflex app: pages, head tags and the HTTP routes mounted into the backend."""

from __future__ import annotations

import reflex as rx
from starlette.applications import Starlette

from loyalty_app import pwa
from loyalty_app.api import admin_media_routes, export_routes, member_media_routes, merchant_routes, poster_routes, session_routes
from loyalty_app.pages.activity import ActivityState, activity_page
from loyalty_app.pages.admin import AdminState, admin_page
from loyalty_app.pages.admin_analytics import AnalyticsState, analytics_page
from loyalty_app.pages.admin_data import DataState, data_page
from loyalty_app.pages.admin_fraud import FraudState, fraud_page
from loyalty_app.pages.admin_inbox import AdminInboxState, admin_inbox_page
from loyalty_app.pages.admin_program import ProgramState, program_page
from loyalty_app.pages.admin_theme import ThemeEditorState, theme_editor_page
from loyalty_app.pages.admin_webhooks import WebhooksState, webhooks_page
from loyalty_app.pages.card import CardState, card_page
from loyalty_app.pages.challenges import ChallengesState, challenges_page
from loyalty_app.pages.checkin import CheckinState, checkin_page
from loyalty_app.pages.donate import DonateState, donate_page
from loyalty_app.pages.home import home_page
from loyalty_app.pages.inbox import InboxState, inbox_page
from loyalty_app.pages.invite import InviteState, invite_page
from loyalty_app.pages.landing import LandingState, landing_page, not_found_page
from loyalty_app.pages.news import NewsState, news_page
from loyalty_app.pages.profile import ProfileState, profile_page
from loyalty_app.pages.reward_detail import RewardDetailState, reward_detail_page
from loyalty_app.pages.rewards import RewardsState, rewards_page
from loyalty_app.pages.signin import signin_page
from loyalty_app.pages.signup import signup_page
from loyalty_app.pages.staff import TillState, staff_page
from loyalty_app.pages.vouchers import VouchersState, VoucherState, voucher_page, vouchers_page
from loyalty_app.reflex_patches import cancel_safe_state_locks
from loyalty_app.services.crm.webhooks import webhook_delivery_task
from loyalty_app.services.operations.jobs import periodic_jobs_task
from loyalty_app.state.cockpit import CockpitState
from loyalty_app.state.forms import backend_exception_handler
from loyalty_app.state.inbox_badge import InboxBadgeState
from loyalty_app.state.language import LanguageState
from loyalty_app.state.member_media import MemberMediaState
from loyalty_app.state.ping import PingState  # noqa: F401  (benchmark baseline event)
from loyalty_app.state.session import SessionState

cancel_safe_state_locks()  # every backend worker imports this module

api = Starlette(
    routes=[
        *session_routes.routes,
        *merchant_routes.routes,
        *member_media_routes.routes,
        *poster_routes.routes,
        *export_routes.routes,
        *admin_media_routes.routes,
        *pwa.routes(),
    ]
)

app = rx.App(
    # live.js: count-up numbers and live countdowns, without a server round trip.
    head_components=[*pwa.head_components(), rx.el.script(src="/live.js", defer=True)],
    stylesheets=["/app.css"],
    api_transformer=api,
    backend_exception_handler=backend_exception_handler,
)
app.register_lifespan_task(periodic_jobs_task)
app.register_lifespan_task(webhook_delivery_task)  # CRM webhook retries, every worker (claims keep them apart)


def _member(page, route: str, title: str, *loaders) -> None:
    app.add_page(
        page,
        route=f"/m/[slug]/{route}",
        title=title,
        on_load=[LanguageState.detect, SessionState.guard_member_page, *loaders],
    )


_member(home_page, "home", "Home", CockpitState.load, MemberMediaState.load, InboxBadgeState.load)
_member(rewards_page, "rewards", "Rewards", RewardsState.load)
_member(reward_detail_page, "reward", "Reward", RewardDetailState.load)
_member(vouchers_page, "vouchers", "My vouchers", VouchersState.load)
_member(voucher_page, "voucher", "Voucher", VoucherState.load)
_member(card_page, "card", "Member card", CardState.load)
_member(checkin_page, "checkin", "Check in", CheckinState.load)
_member(challenges_page, "challenges", "Challenges", ChallengesState.load)
_member(profile_page, "profile", "Profile", ProfileState.load)
_member(activity_page, "activity", "Activity", ActivityState.load)
_member(donate_page, "donate", "Give points", DonateState.load)
_member(invite_page, "invite", "Invite friends", InviteState.load)
_member(news_page, "news", "What's new", NewsState.load)
_member(inbox_page, "inbox", "Messages", InboxState.load)

for _page, _route, _title in ((signin_page, "signin", "Sign in"), (signup_page, "signup", "Join")):
    app.add_page(
        _page,
        route=f"/m/[slug]/{_route}",
        title=_title,
        on_load=[LanguageState.detect, SessionState.guard_public_page],
    )

app.add_page(
    staff_page,
    route="/m/[slug]/staff",
    title="Till",
    on_load=[LanguageState.detect, SessionState.guard_staff_page, TillState.load],
)


def _admin(page, route: str, title: str, *loaders) -> None:
    """A merchant-console page (admins only): /m/<slug>/<route>."""
    app.add_page(
        page,
        route=f"/m/[slug]/{route}",
        title=title,
        on_load=[LanguageState.detect, SessionState.guard_admin_page, *loaders],
    )


_admin(admin_page, "admin", "Program overview", AdminState.load)
_admin(fraud_page, "admin-fraud", "Fraud", FraudState.load)
_admin(analytics_page, "admin-analytics", "Analytics", AnalyticsState.load)
_admin(admin_inbox_page, "admin-inbox", "Messages", AdminInboxState.load)
_admin(data_page, "admin-data", "Data & exports", DataState.load)
_admin(program_page, "admin-program", "Program", ProgramState.load)
_admin(theme_editor_page, "admin-theme", "Theme", ThemeEditorState.load)
_admin(webhooks_page, "admin-webhooks", "Webhooks", WebhooksState.load)
app.add_page(landing_page, route="/", title="Loyalty programs", on_load=[LanguageState.detect, LandingState.load])
app.add_page(not_found_page, route="/not-found", title="Not found", on_load=LanguageState.detect)
