"""Image pickers built on ``rx.upload`` (the profile's photos, the theme editor's logo, the photo
contest): which image types the phone's picker offers, a button-like picker whose hidden file input
is named after its visible label, and the message for a file the dropzone refused. Several pages
pick images the same way, so the widget lives here; the server decides from the bytes anyway."""

from __future__ import annotations

from typing import Any

import reflex as rx

from loyalty_app.services.members import member_media
from loyalty_app.state.forms import translated

# What the phone's picker offers.
IMAGE_ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]}


def label_file_input(component: rx.Component, label_id: str) -> rx.Component:
    """Name the dropzone's (visually hidden) file input after the visible button text: Reflex
    builds that ``<input type=file>`` itself and takes no props for it."""
    stack = [component]
    while stack:
        node = stack.pop()
        if getattr(node, "tag", None) == "input":
            node.custom_attrs = {**node.custom_attrs, "aria-labelledby": label_id}
            return component
        stack.extend(getattr(node, "children", []))
    raise RuntimeError("rx.upload rendered no file input")  # pragma: no cover - Reflex changed its Upload


def image_picker(
    *,
    upload_id: str,
    label_id: str,
    label: rx.Var,
    icon: str,
    button_class: str,
    on_drop: rx.EventHandler,
    on_drop_rejected: rx.EventHandler,
    class_name: str,
    test_id: str,
) -> rx.Component:
    """One image, up to the upload limit, picked by tapping a button that reads ``label``;
    ``on_drop`` receives the file as soon as it is picked."""
    upload = rx.upload.root(
        rx.el.span(rx.icon(icon, size=18, aria_hidden="true"), label, id=label_id, class_name=button_class),
        id=upload_id,
        accept=IMAGE_ACCEPT,
        multiple=False,
        max_files=1,
        max_size=member_media.MAX_UPLOAD_BYTES,
        on_drop=on_drop(rx.upload_files(upload_id=upload_id)),
        on_drop_rejected=on_drop_rejected,
        class_name=class_name,
        data_testid=test_id,
    )
    return label_file_input(upload, label_id)


def rejection_codes(rejected: Any) -> set[str]:
    """The error codes of the files a dropzone refused (``on_drop_rejected``'s argument, as the
    browser sent it: anything malformed is skipped)."""
    return {
        str(error.get("code", ""))
        for item in (rejected or [])
        if isinstance(item, dict)
        for error in (item.get("errors") or [])
        if isinstance(error, dict)
    }


async def rejected_image_message(state: rx.State, rejected: Any) -> str:
    """Why the picker refused the file, in the member's language: too large, or not an image."""
    if "file-too-large" in rejection_codes(rejected):
        return await translated(state, member_media.TOO_LARGE, limit=member_media.MAX_UPLOAD_MB)
    return await translated(state, member_media.BAD_FORMAT)
