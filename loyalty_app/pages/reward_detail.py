"""Reward page: /m/<slug>/reward?id=<reward id> — picture, description, price, ratings and
reviews, whether the member can get it (tier, stock, dates, limit, points), Redeem with a
confirmation ("Spend 300 points on Free coffee?"), and the member's own rating (1-5 stars and
an optional short review, once per reward, editable)."""

from __future__ import annotations

import secrets

import reflex as rx

from loyalty_app.components.cockpit import progress_bar
from loyalty_app.components.rewards import item_row, kind_label, local, media_url, short_date
from loyalty_app.components.shell import back_link, confirm_sheet, error_alert, member_frame, star_rating
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import NotFound
from loyalty_app.i18n import localized_number, t, tn, translate
from loyalty_app.services.catalog import catalog_view
from loyalty_app.services.catalog.rewards import MAX_REVIEW_LENGTH
from loyalty_app.services.platform.permissions import Action
from loyalty_app.state.forms import (
    current_language,
    read_own,
    route_id,
    run_service,
    translated,
)
from loyalty_app.state.session import SessionState


class RewardDetailState(rx.State):
    loaded: bool = False
    missing: bool = False  # unknown id, or not this merchant's
    error: str = ""
    rid: str = ""
    reward: dict[str, str] = {}
    description: str = ""
    available: int = 0
    cost: int = 0
    progress_pct: int = 0
    rating_count: int = 0
    distribution: list[dict[str, str]] = []
    reviews: list[dict[str, str]] = []
    facts: list[str] = []
    limit: int = 0
    # Redeeming
    confirming: bool = False
    redeeming: bool = False
    # Rating
    can_rate: bool = False
    rated: bool = False
    stars_choice: int = 0
    my_review: str = ""
    form_key: str = "0"
    saving: bool = False
    rating_notice: str = ""
    rating_error: str = ""
    _redeem_key: str = ""

    async def _fetch(self) -> None:
        reward_id = route_id(self, "id")
        try:
            loaded = await read_own(self, catalog_view.reward_detail, reward_id or 0, reraise=(NotFound,))
        except NotFound:
            self.missing, self.loaded = True, True
            return
        if loaded is None:
            return
        session, detail = loaded
        lang = await current_language(self)
        now = utcnow()
        tz = detail.timezone
        item = detail.item
        self.rid = str(item.reward_id)
        self.reward = {
            **item_row(item, session.merchant_slug, lang, now, tz),
            "image": media_url(session.merchant_slug, item.image_id),
        }
        self.description = item.description
        self.available = detail.available_points
        self.cost = item.cost_points
        self.progress_pct = min(100, detail.available_points * 100 // item.cost_points) if item.cost_points else 0
        self.rating_count = item.rating_count
        top = max(detail.distribution.values()) or 1
        self.distribution = [
            {"stars": str(s), "count": str(detail.distribution[s]), "pct": str(round(detail.distribution[s] * 100 / top))}
            for s in range(5, 0, -1)
        ]
        self.reviews = [
            {
                "stars": str(r.stars),
                "pct": str(r.stars * 20),
                "name": r.first_name or "",
                "date": short_date(lang, local(r.updated_at, tz), now),
                "text": r.review_text,
                "mine": "1" if r.mine else "",
            }
            for r in detail.reviews
        ]
        facts = []
        if item.stock is not None and 0 < item.stock <= 20:
            facts.append(translate(lang, "Only {count} left", count=item.stock))
        if item.valid_until is not None and item.status != "ended":
            facts.append(translate(lang, "Available until {date}", date=short_date(lang, local(item.valid_until, tz), now)))
        if detail.per_member_limit:
            facts.append(translate(lang, "Up to {count} per member", count=detail.per_member_limit))
        facts.append(translate(lang, "Your voucher is valid for {days} days", days=detail.voucher_validity_days))
        self.facts = facts
        self.limit = detail.per_member_limit or 0
        self.can_rate = detail.can_rate
        self.rated = detail.my_stars is not None
        self.stars_choice = detail.my_stars or 0
        self.my_review = detail.my_review
        self.form_key = secrets.token_hex(4)  # remounts the review box with the saved text
        self.error = ""
        self.missing = False
        self.loaded = True

    @rx.event
    async def load(self):
        self.loaded = self.missing = self.confirming = self.redeeming = self.saving = False
        self.error = self.rating_notice = self.rating_error = ""
        self.reward, self.reviews, self.distribution, self.facts = {}, [], [], []
        yield  # the skeleton, not the previous reward or voucher, while this one loads
        await self._fetch()

    # --- redeem -------------------------------------------------------------------------------

    @rx.event
    def ask_redeem(self):
        self.error = ""
        self._redeem_key = secrets.token_urlsafe(18)  # one per confirmation: a double tap redeems once
        self.confirming = True

    @rx.event
    def cancel_redeem(self):
        if not self.redeeming:
            self.confirming = False

    @rx.event
    async def confirm_redeem(self):
        if self.redeeming or not self._redeem_key:
            return
        session = await self.get_state(SessionState)
        reward_id = route_id(self, "id")
        self.redeeming = True
        yield
        ran = await run_service(
            self,
            catalog_view.redeem,
            action=Action.REDEEM_REWARD,
            own=True,
            reward_id=reward_id or 0,
            idempotency_key=self._redeem_key,
        )
        if ran is None:
            self.redeeming = self.confirming = False
            await self._fetch()
            return
        _actor, outcome = ran
        self.redeeming = self.confirming = False
        self._redeem_key = ""
        yield rx.redirect(f"/m/{session.merchant_slug}/voucher?id={outcome.voucher_id}&new=1")

    # --- rate ---------------------------------------------------------------------------------

    @rx.event
    def choose_stars(self, value: str):
        if value in ("1", "2", "3", "4", "5"):
            self.stars_choice = int(value)
            self.rating_error = ""

    @rx.event
    async def save_rating(self, form: dict):
        self.rating_notice = self.rating_error = ""
        if self.saving:
            return
        raw = str(form.get("stars") or self.stars_choice or "")
        stars = int(raw) if raw in ("1", "2", "3", "4", "5") else 0
        if not stars:
            self.rating_error = await translated(self, "Choose from 1 to 5 stars.")
            return
        review = str(form.get("review", "") or "")
        self.saving = True
        yield
        ran = await run_service(
            self,
            catalog_view.rate,
            action=Action.RATE_REWARD,
            own=True,
            error_var="rating_error",
            reward_id=route_id(self, "id") or 0,
            stars=stars,
            review_text=review,
        )
        if ran is None:
            self.saving = False
            return
        _actor, outcome = ran
        earned = sum(e.total_points for e in (outcome.earn, outcome.review_earn) if e is not None)
        if earned > 0:
            self.rating_notice = await translated(self, "Thanks for rating! You earned {points} points.", points=earned)
        elif outcome.created:
            self.rating_notice = await translated(self, "Thanks for rating!")
        else:
            self.rating_notice = await translated(self, "Your rating is updated.")
        self.saving = False
        await self._fetch()


# --- page ---------------------------------------------------------------------------------------

S = RewardDetailState


def availability() -> rx.Component:
    """The one thing that decides the button, said plainly."""
    r = S.reward
    return rx.el.div(
        rx.match(
            r["status"],
            (
                "ok",
                rx.el.p(
                    rx.icon("circle-check", size=18, aria_hidden="true"),
                    t("You can get this now"),
                    class_name="rw-avail rw-avail-ok",
                ),
            ),
            (
                "insufficient_points",
                rx.el.div(
                    rx.el.p(
                        t("You have {have} of {cost} points", have=localized_number(S.available), cost=localized_number(S.cost)),
                        class_name="rw-avail",
                    ),
                    progress_bar(
                        S.progress_pct,
                        t("Points towards this reward"),
                    ),
                    rx.el.p(t("{points} more points to go", points=r["missing"]), class_name="small muted", style={"margin": 0}),
                ),
            ),
            (
                "tier_locked",
                rx.el.p(
                    rx.icon("lock", size=18, aria_hidden="true"),
                    t("For {tier} members. Reach {tier} to unlock it.", tier=r["tier"]),
                    class_name="rw-avail rw-avail-lock",
                ),
            ),
            ("out_of_stock", rx.el.p(t("Out of stock. Check back soon!"), class_name="rw-avail rw-avail-no")),
            (
                "limit_reached",
                rx.el.p(
                    t("You already redeemed this reward {limit} times (the limit).", limit=S.limit),
                    class_name="rw-avail rw-avail-no",
                ),
            ),
            ("not_yet", rx.el.p(t("Available from {date}", date=r["from"]), class_name="rw-avail rw-avail-no")),
            rx.el.p(t("This reward is not available right now."), class_name="rw-avail rw-avail-no"),
        ),
        class_name="rw-avail-box",
        data_testid="reward-availability",
    )


def redeem_bar() -> rx.Component:
    return rx.el.div(
        rx.el.button(
            rx.icon("gift", size=20, aria_hidden="true"),
            t("Redeem for {points} pts", points=localized_number(S.cost)),
            type="button",
            class_name="btn btn-block rw-redeem",
            disabled=S.reward["status"] != "ok",
            on_click=S.ask_redeem,
            data_testid="redeem",
        ),
        class_name="rw-cta",
    )


def redeem_sheet() -> rx.Component:
    return confirm_sheet(
        open_=S.confirming,
        title=t("Spend {points} points on {reward}?", points=localized_number(S.cost), reward=S.reward["name"]),
        body=rx.fragment(
            rx.el.p(
                t("You will have {points} points left.", points=localized_number(S.available - S.cost)),
                style={"margin": "0 0 6px", "fontWeight": 700},
            ),
            rx.el.p(
                t("You get a voucher to show at the till. You can cancel it while it is unused and get your points back."),
                class_name="muted small",
                style={"margin": 0},
            ),
        ),
        confirm_label=t("Confirm"),
        busy_label=t("Redeeming…"),
        cancel_label=t("Cancel"),
        on_confirm=S.confirm_redeem,
        on_cancel=S.cancel_redeem,
        busy=S.redeeming,
        test_id="redeem-confirm",
    )


def rating_summary() -> rx.Component:
    r = S.reward
    return rx.el.section(
        rx.el.h2(t("Ratings")),
        rx.cond(
            S.rating_count > 0,
            rx.el.div(
                rx.el.div(
                    rx.el.p(r["rating"], class_name="rw-avg", data_testid="rating-average"),
                    star_rating(r["rating_pct"], t("Rated {rating} out of 5", rating=r["rating"])),
                    rx.el.p(
                        tn("{n} rating", "{n} ratings", S.rating_count),
                        class_name="small muted",
                        style={"margin": "4px 0 0"},
                        data_testid="rating-count",
                    ),
                    class_name="rw-avg-box",
                ),
                rx.el.ul(
                    rx.foreach(
                        S.distribution,
                        lambda d: rx.el.li(
                            rx.el.span(
                                d["stars"], rx.el.span("★", aria_hidden="true"), class_name="rw-dist-label", aria_hidden="true"
                            ),
                            rx.el.span(
                                rx.el.span(class_name="rw-dist-fill", style={"width": d["pct"] + "%"}),
                                class_name="rw-dist-bar",
                                aria_hidden="true",
                            ),
                            rx.el.span(d["count"], class_name="rw-dist-count", aria_hidden="true"),
                            rx.el.span(
                                tn("{n} star", "{n} stars", d["stars"].to(int)),
                                ": ",
                                tn("{n} rating", "{n} ratings", d["count"].to(int)),
                                class_name="sr-only",
                            ),
                        ),
                    ),
                    class_name="rw-dist",
                    aria_label=t("Ratings by stars"),
                ),
                class_name="rw-ratings",
            ),
            rx.el.p(t("No ratings yet. Redeem it and be the first to rate it."), class_name="muted small", style={"margin": 0}),
        ),
        class_name="card",
        data_testid="ratings",
    )


def star_input() -> rx.Component:
    """Five native radio buttons (arrow keys move, Space checks) drawn as stars; each has a
    spoken label ("4 stars")."""
    radios = []
    for n in range(1, 6):
        radios.append(
            rx.fragment(
                rx.el.input(
                    type="radio",
                    name="stars",
                    value=str(n),
                    id=f"star-{n}",
                    checked=S.stars_choice == n,
                    on_change=S.choose_stars,
                    class_name="rw-star-radio",
                    data_testid=f"star-{n}",
                ),
                rx.el.label(
                    rx.el.span("★", aria_hidden="true"),
                    rx.el.span(tn("{n} star", "{n} stars", n), class_name="sr-only"),
                    html_for=f"star-{n}",
                    class_name=rx.cond(S.stars_choice >= n, "rw-star rw-star-on", "rw-star"),
                ),
            )
        )
    return rx.el.fieldset(
        rx.el.legend(t("Your stars"), class_name="rw-legend"),
        rx.el.div(*radios, class_name="rw-stars-input"),
        class_name="rw-fieldset",
    )


def rate_section() -> rx.Component:
    return rx.el.section(
        rx.el.h2(rx.cond(S.rated, t("Your rating"), t("Rate this reward")), id="rate"),
        rx.cond(
            S.can_rate,
            rx.el.form(
                rx.cond(
                    S.rated,
                    rx.el.p(t("You can change your rating at any time."), class_name="small muted", style={"margin": "0 0 8px"}),
                    rx.el.p(t("You redeemed it: tell others how it was."), class_name="small muted", style={"margin": "0 0 8px"}),
                ),
                star_input(),
                rx.el.div(
                    rx.el.label(t("Short review (optional)"), html_for="f-review"),
                    rx.el.textarea(
                        id="f-review",
                        name="review",
                        rows=3,
                        max_length=MAX_REVIEW_LENGTH,
                        default_value=S.my_review,
                        key=S.form_key,
                        class_name="input rw-textarea",
                        placeholder=t("What did you like?"),
                        data_testid="review-text",
                    ),
                    class_name="field",
                ),
                error_alert(S.rating_error),
                rx.cond(
                    S.rating_notice != "",
                    rx.el.div(S.rating_notice, class_name="alert alert-success", role="status", data_testid="rating-notice"),
                ),
                rx.el.button(
                    rx.cond(S.saving, t("Saving…"), rx.cond(S.rated, t("Update rating"), t("Save rating"))),
                    type="submit",
                    class_name="btn btn-block",
                    disabled=S.saving | (S.stars_choice == 0),
                    data_testid="rating-save",
                ),
                on_submit=S.save_rating,
                reset_on_submit=False,
            ),
            rx.el.p(t("Redeem this reward to rate it."), class_name="small muted", style={"margin": 0}),
        ),
        class_name="card",
        data_testid="rate-section",
    )


def review_item(r: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            star_rating(r["pct"], t("Rated {rating} out of 5", rating=r["stars"]), size="sm"),
            rx.el.span(r["name"], class_name="rw-review-name"),
            rx.cond(r["mine"] != "", rx.el.span(t("You"), class_name="rw-you")),
            rx.el.span(r["date"], class_name="small muted", style={"marginLeft": "auto"}),
            class_name="rw-review-head",
        ),
        rx.el.p(r["text"], class_name="rw-review-text"),
        class_name="rw-review",
    )


def reviews_section() -> rx.Component:
    return rx.cond(
        S.reviews.length() > 0,
        rx.el.section(
            rx.el.h2(t("Reviews")),
            rx.el.ul(rx.foreach(S.reviews, review_item), class_name="rw-reviews"),
            class_name="card",
            data_testid="reviews",
        ),
    )


def detail_body() -> rx.Component:
    r = S.reward
    return rx.fragment(
        rx.el.div(
            rx.cond(
                r["image"] != "",
                rx.el.img(src=r["image"], alt=r["name"], width="480", height="320", class_name="rw-hero-img"),
                rx.el.div(rx.icon("gift", size=56, aria_hidden="true"), class_name="rw-noimg rw-hero-img"),
            ),
            rx.el.span(kind_label(r["kind"]), class_name="rw-kind rw-kind-lg"),
            class_name="rw-hero",
        ),
        rx.el.div(
            rx.el.h1(r["name"], class_name="rw-detail-title"),
            rx.el.div(
                rx.el.p(
                    rx.el.span(localized_number(S.cost), class_name="rw-price-num"),
                    " ",
                    rx.el.span(t("points"), class_name="rw-price-unit"),
                    class_name="rw-price",
                ),
                rx.cond(
                    S.rating_count > 0,
                    rx.el.a(
                        star_rating(r["rating_pct"], t("Rated {rating} out of 5", rating=r["rating"]), size="sm"),
                        rx.el.span(r["rating"], class_name="rw-rating-num"),
                        rx.el.span(tn("{n} rating", "{n} ratings", S.rating_count), class_name="small muted"),
                        href="#ratings",
                        class_name="rw-rating rw-rating-link",
                    ),
                ),
                class_name="rw-price-row",
            ),
            rx.cond(S.description != "", rx.el.p(S.description, class_name="rw-desc")),
            availability(),
            rx.cond(
                S.facts.length() > 0,
                rx.el.ul(
                    rx.foreach(S.facts, lambda f: rx.el.li(rx.icon("info", size=14, aria_hidden="true"), rx.el.span(f))),
                    class_name="rw-facts",
                ),
            ),
            class_name="rw-detail-head",
        ),
        error_alert(S.error),
        redeem_bar(),
        rx.el.div(rating_summary(), id="ratings"),
        rate_section(),
        reviews_section(),
        redeem_sheet(),
    )


def reward_detail_page() -> rx.Component:
    return member_frame(
        back_link(t("Rewards"), "rewards", "back-to-rewards"),
        rx.cond(
            S.missing,
            rx.el.div(
                rx.el.div(rx.icon("search-x", size=34, aria_hidden="true"), class_name="rw-empty-icon"),
                rx.el.h1(t("This reward is not available"), class_name="rw-empty-title"),
                rx.el.p(t("It may have ended. Have a look at what else is on offer."), class_name="muted small"),
                rx.el.a(t("See all rewards"), href=f"/m/{SessionState.merchant_slug}/rewards", class_name="btn"),
                class_name="rw-empty",
            ),
            rx.cond(
                S.loaded,
                detail_body(),
                rx.cond(
                    S.error != "",
                    error_alert(S.error),
                    rx.el.div(rx.el.span(t("Loading…"), class_name="sr-only"), class_name="rw-skeleton", role="status"),
                ),
            ),
        ),
        active="rewards",
    )
