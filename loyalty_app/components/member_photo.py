"""The member's own pictures on any member page (avatar, cockpit background). The page loads
``MemberMediaState.load``; these only render."""

from __future__ import annotations

import reflex as rx

from loyalty_app.i18n import t
from loyalty_app.state.member_media import MemberMediaState


def avatar_view(initial: rx.Var | str = "", *, size: str = "lg") -> rx.Component:
    """The member's photo in a circle, or their initial when there is none: sizes ``sm``
    (40px) and ``lg`` (96px)."""
    return rx.cond(
        MemberMediaState.avatar_url != "",
        rx.el.img(
            src=MemberMediaState.avatar_url,
            alt=t("Your photo"),
            class_name=f"avatar avatar-{size}",
            width="96" if size == "lg" else "40",
            height="96" if size == "lg" else "40",
            data_testid="avatar-img",
        ),
        rx.el.span(initial, class_name=f"avatar avatar-{size} avatar-initial", aria_hidden="true", data_testid="avatar-initial"),
    )


def photo_backdrop_props(base_class: str) -> dict:
    """``class_name`` and ``style`` that put the member's background picture behind a block
    (e.g. the cockpit hero). A dark veil keeps white text readable; without a picture the
    block keeps its own look."""
    return {
        "class_name": rx.cond(MemberMediaState.background_url != "", f"{base_class} has-photo-bg", base_class),
        "style": {
            "--member-photo": rx.cond(
                MemberMediaState.background_url != "", "url(" + MemberMediaState.background_url + ")", "none"
            )
        },
    }
