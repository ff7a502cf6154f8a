"""The profile page's pictures card: the member's photo and home screen background, each
picked with an image dropzone (saved as soon as it is picked) and removable. The URLs shown come
from the shared MemberMediaState, so the cockpit follows at once."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.dropzone import image_picker
from loyalty_app.i18n import t
from loyalty_app.pages.profile.state import ProfileState
from loyalty_app.pages.profile.widgets import alert
from loyalty_app.state.member_media import MemberMediaState

UPLOAD_IDS = {"avatar": "avatar-upload", "background": "background-upload"}


def _picture_row(kind: str, title: rx.Var, pick_label: rx.Var, icon: str, url: rx.Var, *preview: rx.Component) -> rx.Component:
    """Pick a picture of ``kind`` (or remove the one at ``url``), with ``preview`` above the buttons."""
    return rx.el.div(
        rx.el.p(title, class_name="pf-row-title"),
        *preview,
        rx.el.div(
            image_picker(
                upload_id=UPLOAD_IDS[kind],
                label_id=f"{kind}-upload-label",
                label=pick_label,
                icon=icon,
                button_class="btn btn-secondary pf-pick",
                on_drop=ProfileState.upload_avatar if kind == "avatar" else ProfileState.upload_background,
                on_drop_rejected=ProfileState.upload_rejected,
                class_name="pf-upload",
                test_id=f"{kind}-upload",
            ),
            rx.cond(
                url != "",
                rx.el.button(
                    t("Remove"),
                    type="button",
                    class_name="btn btn-ghost",
                    on_click=ProfileState.remove_picture(kind),
                    data_testid=f"{kind}-remove",
                ),
            ),
            class_name="pf-actions",
        ),
        class_name="pf-row",
    )


def pictures_card() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Photo and background")),
        rx.el.p(t("JPEG, PNG or WebP, up to 5 MB. Only you and our staff at the till see them."), class_name="muted small"),
        alert(ProfileState.media_error, "error", "media-error"),
        alert(ProfileState.media_notice, "success", "media-notice"),
        _picture_row("avatar", t("Your photo"), t("Choose a photo"), "camera", MemberMediaState.avatar_url),
        _picture_row(
            "background",
            t("Home screen background"),
            t("Choose a picture"),
            "image",
            MemberMediaState.background_url,
            rx.cond(
                MemberMediaState.background_url != "",
                rx.el.img(
                    src=MemberMediaState.background_url,
                    alt=t("Your background picture"),
                    class_name="pf-bg-preview",
                    data_testid="background-img",
                ),
            ),
        ),
        class_name="card",
    )
