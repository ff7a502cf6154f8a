"""The Reflex app: pages, head tags and the HTTP routes mounted into the backend."""

from __future__ import annotations

import reflex as rx
from starlette.applications import Starlette

from loyalty_app import pwa
from loyalty_app.api import merchant_routes, session_routes
from loyalty_app.services.jobs import periodic_jobs_task
from loyalty_app.pages.card import CardState, card_page
from loyalty_app.pages.challenges import challenges_page
from loyalty_app.pages.admin import AdminState, admin_page
from loyalty_app.pages.staff import TillState, staff_page
from loyalty_app.pages.home import home_page
from loyalty_app.pages.landing import LandingState, landing_page, not_found_page
from loyalty_app.pages.profile import ProfileState, profile_page
from loyalty_app.pages.rewards import rewards_page
from loyalty_app.pages.signin import signin_page
from loyalty_app.pages.signup import signup_page
from loyalty_app.state.cockpit import CockpitState
from loyalty_app.state.language import LanguageState
from loyalty_app.state.session import SessionState

api = Starlette(routes=[*session_routes.routes, *merchant_routes.routes, *pwa.routes()])

app = rx.App(
    head_components=pwa.head_components(),
    stylesheets=["/app.css"],
    api_transformer=api,
)
app.register_lifespan_task(periodic_jobs_task)


def _member(page, route: str, title: str, *loaders) -> None:
    app.add_page(
        page,
        route=f"/m/[slug]/{route}",
        title=title,
        on_load=[LanguageState.detect, SessionState.guard_member_page, *loaders],
    )


_member(home_page, "home", "Home", CockpitState.load)
_member(rewards_page, "rewards", "Rewards", CockpitState.load)
_member(card_page, "card", "Member card", CardState.load)
_member(challenges_page, "challenges", "Challenges", CockpitState.load)
_member(profile_page, "profile", "Profile", ProfileState.load)

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
app.add_page(
    admin_page,
    route="/m/[slug]/admin",
    title="Program overview",
    on_load=[LanguageState.detect, SessionState.guard_admin_page, AdminState.load],
)
app.add_page(landing_page, route="/", title="Loyalty programs", on_load=[LanguageState.detect, LandingState.load])
app.add_page(not_found_page, route="/not-found", title="Not found", on_load=LanguageState.detect)
