"""The program editor's form fields, bound to ProgramState.

Each field shows its label, starts from ``ProgramState.values`` (inputs are uncontrolled and
re-mounted through ``form_key``), and shows its help and, when a save refused it, the server's
translated message under it (linked through ``aria-describedby``). Also the reward picture field.
"""

from __future__ import annotations

import reflex as rx

from loyalty_app.i18n import t
from loyalty_app.pages.admin_program.state import ProgramState
from loyalty_app.pages.admin_program.widgets import small_button
from loyalty_app.services.members.member_media import MAX_UPLOAD_BYTES

S = ProgramState
UPLOAD_ID = "reward-image"
ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]}


def error_for(name: str) -> rx.Component:
    """The server's message for field ``name``, when the last save refused it."""
    return rx.cond(
        S.errors.contains(name),
        rx.el.p(
            rx.icon("circle-alert", size=14, aria_hidden="true"),
            S.errors[name],
            id=f"pe-{name}",
            class_name="pc-field-error",
            data_testid=f"field-error-{name}",
        ),
    )


def _help(help_: str) -> rx.Component:
    return rx.el.p(t(help_), class_name="pc-help") if help_ else rx.fragment()


def _wrap(name: str, label: str, control: rx.Component, help_: str = "") -> rx.Component:
    return rx.el.div(
        rx.el.label(t(label), html_for=f"pf-{name}"),
        control,
        _help(help_),
        error_for(name),
        class_name=rx.cond(S.errors.contains(name), "field pc-field pc-field-bad", "field pc-field"),
    )


def _bound(name: str) -> dict:
    """What every control of field ``name`` carries: the label's target id, the submitted name,
    the starting value and the link to its error message."""
    return {
        "id": f"pf-{name}",
        "name": name,
        "default_value": S.values[name],
        "aria_invalid": rx.cond(S.errors.contains(name), "true", "false"),
        "aria_describedby": f"pe-{name}",
    }


def text_field(
    name: str,
    label: str,
    *,
    help_: str = "",
    max_length: int = 200,
    inputmode: str = "",
    placeholder: str = "",
    type_: str = "text",
) -> rx.Component:
    return _wrap(
        name,
        label,
        rx.el.input(
            type=type_,
            class_name="input",
            max_length=max_length,
            input_mode=inputmode or None,
            placeholder=placeholder or None,
            auto_complete="off",
            **_bound(name),
        ),
        help_,
    )


def number_field(name: str, label: str, *, help_: str = "") -> rx.Component:
    # type=text + inputmode: the browser never blocks a value, our own translated check answers it.
    return text_field(name, label, help_=help_, max_length=12, inputmode="numeric")


def decimal_field(name: str, label: str, *, help_: str = "") -> rx.Component:
    return text_field(name, label, help_=help_, max_length=12, inputmode="decimal")


def when_field(name: str, label: str, *, help_: str = "") -> rx.Component:
    return text_field(name, label, help_=help_, max_length=20, type_="datetime-local")


def area_field(name: str, label: str, *, help_: str = "", rows: int = 3, max_length: int = 1000) -> rx.Component:
    return _wrap(
        name,
        label,
        rx.el.textarea(rows=str(rows), class_name="input pc-textarea", max_length=max_length, **_bound(name)),
        help_,
    )


def select_field(
    name: str, label: str, options: dict[str, str], *, blank: str = "", variant: bool = False, help_: str = ""
) -> rx.Component:
    items = [rx.el.option(t(blank), value="")] if blank else []
    items += [rx.el.option(t(text), value=value) for value, text in options.items()]
    return _wrap(
        name,
        label,
        rx.el.select(*items, class_name="select", on_change=S.set_variant if variant else None, **_bound(name)),
        help_,
    )


def dyn_select_field(name: str, label: str, options: rx.Var, *, blank: str = "", help_: str = "") -> rx.Component:
    return _wrap(
        name,
        label,
        rx.el.select(
            rx.el.option(t(blank) if blank else "", value=""),
            rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["value"])),
            class_name="select",
            **_bound(name),
        ),
        help_,
    )


def checks_field(name: str, label: str, choices: rx.Var, help_: str = "") -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(t(label)),
        rx.el.div(
            rx.foreach(
                choices,
                lambda c: rx.el.label(
                    rx.el.input(
                        type="checkbox", name=f"{name}:" + c["value"], default_checked=c["checked"] != "", class_name="pc-check"
                    ),
                    rx.el.span(c["label"]),
                    class_name="pc-check-label",
                ),
            ),
            class_name="pc-checks",
        ),
        _help(help_),
        error_for(name),
        class_name=rx.cond(S.errors.contains(name), "pc-fieldset pc-field-bad", "pc-fieldset"),
    )


def flag_field(name: str, label: str, help_: str = "") -> rx.Component:
    return rx.el.div(
        rx.el.label(
            rx.el.input(type="checkbox", name=name, default_checked=S.values[name] == "on", class_name="pc-check"),
            rx.el.span(t(label)),
            class_name="pc-check-label",
        ),
        _help(help_),
        class_name="field",
    )


def pair(*children: rx.Component) -> rx.Component:
    """Two short fields side by side (stacked on a phone)."""
    return rx.el.div(*children, class_name="pc-pair")


def image_field() -> rx.Component:
    """The reward's picture: the current or newly chosen one, upload and remove."""
    chosen = rx.cond(S.image_preview != "", S.image_preview, S.image_url)
    return rx.el.div(
        rx.el.span(t("Picture"), class_name="pc-label"),
        rx.el.div(
            rx.cond(
                chosen != "",
                rx.el.img(src=chosen, alt="", class_name="pc-thumb", width="120", height="90"),
                rx.el.div(rx.icon("image", size=28, aria_hidden="true"), class_name="pc-thumb pc-thumb-empty"),
            ),
            rx.el.div(
                rx.upload.root(
                    rx.el.span(
                        rx.icon("upload", size=16, aria_hidden="true"),
                        t("Choose a picture"),
                        class_name="btn btn-secondary pc-small-btn",
                    ),
                    id=UPLOAD_ID,
                    accept=ACCEPT,
                    multiple=False,
                    max_files=1,
                    max_size=MAX_UPLOAD_BYTES,
                    on_drop=S.pick_image(rx.upload_files(upload_id=UPLOAD_ID)),
                    on_drop_rejected=S.image_rejected,
                    class_name="pc-upload",
                    data_testid="reward-image-upload",
                ),
                rx.cond(chosen != "", small_button(t("Remove picture"), S.remove_image, style="btn-ghost")),
                rx.el.p(t("JPEG, PNG or WebP, up to {limit} MB", limit=MAX_UPLOAD_BYTES // (1024 * 1024)), class_name="pc-help"),
                class_name="pc-upload-side",
            ),
            class_name="pc-image",
        ),
        error_for("image"),
        class_name="field",
    )
