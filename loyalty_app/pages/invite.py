"""Invite friends: /m/<slug>/invite — the member's own referral link (``/m/<slug>/signup?ref=CODE``,
absolute, from APP_ORIGIN) with Copy and Share buttons, a QR of the same link for a friend
standing next to you, and the friends who joined with it (joined / first purchase done, bonus
paid).

Share uses the Web Share API where the browser has it (phones) and falls back to copying the
link; both run in the browser on the tap itself (clipboard and share need a user gesture)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import back_link, error_alert, member_frame
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_date, t, translate
from loyalty_app.services.earning import referrals
from loyalty_app.services.platform.qr import qr_svg_data_uri
from loyalty_app.state.forms import current_language, read_own
from loyalty_app.state.session import SessionState

LINK_COPIED = N_("Link copied. Paste it in a message to a friend.")
COPY_FAILED = N_("Could not copy. Press and hold the link to copy it.")
SHARED = N_("Thanks for sharing!")

# Copy ``u`` to the clipboard; the old textarea trick where the Clipboard API is missing or
# refused (non-secure origins, older browsers). Resolves to true when copied.
_COPY_JS = (
    "(async (u) => { try { await navigator.clipboard.writeText(u); return true; } catch (e) {"
    " const a = document.createElement('textarea'); a.value = u; a.setAttribute('readonly', '');"
    " a.style.position = 'fixed'; a.style.opacity = '0'; document.body.appendChild(a); a.select();"
    " let ok = false; try { ok = document.execCommand('copy'); } catch (_) {} a.remove(); return ok; } })"
)
_LINK_JS = "(document.getElementById('invite-link')?.value || '')"
COPY_SCRIPT = f"(async () => ((await {_COPY_JS}({_LINK_JS})) ? 'copied' : 'failed'))()"
SHARE_SCRIPT = (
    "(async () => { const u = " + _LINK_JS + ";"
    " const text = document.getElementById('invite-share')?.dataset.shareText || '';"
    " if (navigator.share) { try { await navigator.share({ title: document.title, text: text, url: u });"
    " return 'shared'; } catch (e) { if (e && e.name === 'AbortError') return 'cancelled'; } }"
    f" return (await {_COPY_JS}(u)) ? 'copied' : 'failed'; }})()"
)


class InviteState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    link: str = ""
    code: str = ""
    qr_src: str = ""
    friend_points: int = 0
    referrals: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        self.notice = ""
        loaded = await read_own(self, referrals.member_referrals)
        if loaded is None:
            return
        session, mine = loaded
        lang = await current_language(self)
        now = utcnow()
        self.code = mine.code
        self.link = referrals.referral_link(session.merchant_slug, mine.code)
        self.qr_src = qr_svg_data_uri(self.link)
        self.friend_points = mine.friend_points
        self.referrals = [
            {
                "name": r.friend_name or translate(lang, N_("A former member")),
                "initial": (r.friend_name or "?")[:1].upper(),
                "joined": format_date(lang, r.joined_at, "d MMM" if r.joined_at.year == now.year else "d MMM y"),
                "status": r.status,
                "bonus": str(r.bonus_points),
            }
            for r in mine.referrals
        ]
        self.error = ""
        self.loaded = True

    @rx.event
    async def after_copy(self, result: str):
        """What the browser did with the link (from the Copy or Share script)."""
        lang = await current_language(self)
        self.notice = {
            "copied": translate(lang, LINK_COPIED),
            "failed": translate(lang, COPY_FAILED),
            "shared": translate(lang, SHARED),
        }.get(str(result), "")


# --- page ---------------------------------------------------------------------------------------

S = InviteState


def hero() -> rx.Component:
    return rx.el.div(
        rx.el.div(rx.icon("users", size=28, aria_hidden="true"), class_name="inv-hero-icon"),
        rx.el.h1(t("Invite friends"), class_name="inv-title"),
        rx.el.p(
            t("Your friend gets {points} points on joining. You get a bonus after their first purchase.", points=S.friend_points),
            class_name="inv-lead",
        ),
        class_name="inv-hero",
    )


def link_box() -> rx.Component:
    return rx.el.section(
        rx.el.label(t("Your invite link"), html_for="invite-link", class_name="inv-label"),
        rx.el.input(
            id="invite-link",
            value=S.link,
            read_only=True,
            class_name="input inv-link",
            on_focus=rx.call_script("document.getElementById('invite-link')?.select()"),
            data_testid="invite-link",
        ),
        rx.el.div(
            rx.el.button(
                rx.icon("copy", size=18, aria_hidden="true"),
                t("Copy"),
                type="button",
                class_name="btn btn-secondary",
                on_click=rx.call_script(COPY_SCRIPT, callback=S.after_copy),
                data_testid="invite-copy",
            ),
            rx.el.button(
                rx.icon("share-2", size=18, aria_hidden="true"),
                t("Share"),
                type="button",
                id="invite-share",
                class_name="btn",
                custom_attrs={
                    "data-share-text": t("Join me at {merchant} and get welcome points:", merchant=SessionState.merchant_name)
                },
                on_click=rx.call_script(SHARE_SCRIPT, callback=S.after_copy),
                data_testid="invite-share",
            ),
            class_name="inv-buttons",
        ),
        rx.cond(S.notice != "", rx.el.p(S.notice, class_name="inv-notice", role="status", data_testid="invite-notice")),
        rx.el.p(
            t("Invite code"),
            " ",
            rx.el.strong(S.code, class_name="inv-code", data_testid="invite-code"),
            class_name="muted small inv-code-line",
        ),
        class_name="card inv-card",
    )


def qr_box() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Scan to join"), class_name="section-title"),
        rx.el.div(
            rx.cond(
                S.qr_src != "",
                rx.el.img(
                    src=S.qr_src,
                    alt=t("QR code of your invite link"),
                    width="220",
                    height="220",
                    class_name="inv-qr-img",
                    data_testid="invite-qr",
                ),
            ),
            class_name="inv-qr",
        ),
        rx.el.p(t("A friend next to you can scan this with their phone camera."), class_name="muted small"),
        class_name="card inv-card inv-qr-card",
    )


def status_chip(r: rx.Var) -> rx.Component:
    return rx.match(
        r["status"],
        ("bonus_paid", rx.el.span(t("Bonus paid: +{points}", points=r["bonus"]), class_name="inv-chip inv-chip-paid")),
        ("purchased", rx.el.span(t("First purchase done"), class_name="inv-chip inv-chip-done")),
        rx.el.span(t("Joined"), class_name="inv-chip"),
    )


def friend_row(r: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.span(r["initial"], class_name="inv-avatar", aria_hidden="true"),
        rx.el.span(
            rx.el.span(r["name"], class_name="inv-friend-name"),
            rx.el.span(t("Joined {date}", date=r["joined"]), class_name="muted small"),
            class_name="inv-friend-text",
        ),
        status_chip(r),
        class_name="inv-friend",
        data_testid="invite-friend",
        data_status=r["status"],
    )


def friends() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Your friends"), class_name="section-title"),
        rx.cond(
            S.referrals.length() > 0,
            rx.el.ul(rx.foreach(S.referrals, friend_row), class_name="inv-friends", data_testid="invite-friends"),
            rx.el.p(
                t("No friends have joined yet. Share your link to invite the first one."),
                class_name="muted small",
                data_testid="invite-friends-empty",
            ),
        ),
        class_name="card inv-card",
    )


def invite_page() -> rx.Component:
    return member_frame(
        back_link(t("Home"), "home", "back-home"),
        hero(),
        error_alert(S.error),
        rx.cond(
            S.loaded,
            rx.fragment(link_box(), qr_box(), friends()),
            rx.el.div(t("Loading…"), class_name="empty", aria_busy="true"),
        ),
        active="home",
    )
