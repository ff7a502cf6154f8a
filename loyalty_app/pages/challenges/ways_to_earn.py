"""The Challenges tab's ways to earn beyond purchases: the survey, an event code, a social post,
the photo contest, the newsletter and the profile and birthday claims, each in its way card with
its own form or button and, for reviewed ones, the member's submissions."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.dropzone import IMAGE_ACCEPT
from loyalty_app.i18n import t, tn
from loyalty_app.pages.challenges.state import PHOTO_UPLOAD_ID, ChallengesState
from loyalty_app.pages.challenges.way_card import send_button, way_card
from loyalty_app.services.earning import engagement
from loyalty_app.services.members.member_media import MAX_UPLOAD_BYTES
from loyalty_app.state.session import SessionState

S = ChallengesState


def question(q: rx.Var) -> rx.Component:
    name = "q_" + q.id
    legend = rx.el.legend(
        q.text, rx.cond(~q.required, rx.el.span(t("(optional)"), class_name="ch-optional")), class_name="ch-q-text"
    )
    return rx.el.fieldset(
        legend,
        rx.match(
            q.kind,
            (
                "choice",
                rx.el.div(
                    rx.foreach(
                        q.options,
                        lambda o: rx.el.label(
                            rx.el.input(type="radio", name=name, value=o, class_name="ch-choice-input"),
                            rx.el.span(o),
                            class_name="ch-choice",
                        ),
                    ),
                    class_name="ch-choices",
                ),
            ),
            (
                "stars",
                rx.el.div(
                    *[
                        rx.fragment(
                            rx.el.input(
                                type="radio",
                                name=name,
                                value=str(n),
                                id=name + f"-{n}",
                                class_name="ch-star-input",
                                aria_label=tn("{n} star", "{n} stars", n),
                            ),
                            rx.el.label("★", html_for=name + f"-{n}", class_name="ch-star", aria_hidden="true"),
                        )
                        for n in range(5, 0, -1)
                    ],
                    class_name="ch-stars",
                ),
            ),
            rx.el.textarea(
                name=name,
                max_length=q.max_length,
                rows=3,
                class_name="input ch-textarea",
                aria_label=q.text,
                placeholder=t("Your answer"),
            ),
        ),
        class_name="ch-q",
        data_testid="survey-question",
    )


def survey_body() -> rx.Component:
    return rx.cond(
        S.questions.length() > 0,
        rx.cond(
            S.survey_open,
            rx.el.form(
                rx.cond(S.survey_description != "", rx.el.p(S.survey_description, class_name="small muted")),
                rx.foreach(S.questions, question),
                send_button("fill_survey", t("Send my answers"), test_id="survey-submit"),
                rx.el.button(t("Not now"), type="button", class_name="btn btn-block btn-ghost ch-gap", on_click=S.toggle_survey),
                on_submit=S.submit_survey,
                key=S.form_key,
                class_name="ch-form",
                data_testid="survey-form",
            ),
            rx.cond(
                S.ways["fill_survey"]["status"] == "open",
                rx.el.button(
                    tn("Answer {n} question", "Answer {n} questions", S.questions.length()),
                    rx.icon("chevron-right", size=18, aria_hidden="true"),
                    type="button",
                    class_name="btn btn-block",
                    on_click=S.toggle_survey,
                    data_testid="survey-start",
                ),
            ),
        ),
    )


def event_body() -> rx.Component:
    return rx.cond(
        S.ways["attend_event"]["status"] == "open",
        rx.el.form(
            rx.el.label(t("Event code"), html_for="f-event-code", class_name="sr-only"),
            rx.el.div(
                rx.el.input(
                    id="f-event-code",
                    name="code",
                    type="text",
                    class_name="input ch-code-input",
                    placeholder=t("Event code"),
                    auto_complete="off",
                    auto_capitalize="characters",
                    spell_check=False,
                    max_length=40,
                    data_testid="event-code",
                ),
                rx.el.button(
                    rx.cond(S.busy == "attend_event", t("Checking…"), t("Redeem")),
                    type="submit",
                    class_name="btn",
                    disabled=S.busy != "",
                    data_testid="event-submit",
                ),
                class_name="ch-inline",
            ),
            on_submit=S.submit_event_code,
            key=S.form_key,
        ),
    )


def submissions_list(kind: str) -> rx.Component:
    return rx.el.ul(
        rx.foreach(
            S.submissions,
            lambda s: rx.cond(
                s["kind"] == kind,
                rx.el.li(
                    rx.el.div(
                        rx.el.span(s["label"], class_name="ch-sub-label"),
                        rx.el.span(s["date"], class_name="small muted"),
                        class_name="ch-sub-text",
                    ),
                    rx.el.span(
                        s["status_text"], class_name="ch-sub-status ch-sub-" + s["status"], data_testid="submission-status"
                    ),
                    class_name="ch-sub",
                    data_testid=f"submission-{kind}",
                ),
            ),
        ),
        class_name="ch-subs",
    )


def social_body() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.ways["tag_social"]["status"] == "open",
            rx.el.form(
                rx.el.label(t("Link to your post"), html_for="f-social-url", class_name="ch-label"),
                rx.el.input(
                    id="f-social-url",
                    name="url",
                    type="text",
                    input_mode="url",
                    class_name="input",
                    placeholder="https://instagram.com/p/…",
                    auto_complete="off",
                    spell_check=False,
                    max_length=engagement.MAX_URL_LENGTH,
                    data_testid="social-url",
                ),
                rx.el.p(t("Instagram, Facebook, TikTok, X or Threads."), class_name="ch-hint"),
                send_button("tag_social", t("Send link"), test_id="social-submit"),
                on_submit=S.submit_social,
                key=S.form_key,
                class_name="ch-form",
            ),
        ),
        submissions_list("social"),
    )


def photo_body() -> rx.Component:
    chosen = rx.selected_files(PHOTO_UPLOAD_ID)
    return rx.fragment(
        rx.cond(
            S.ways["photo_contest"]["status"] == "open",
            rx.el.div(
                rx.el.label(
                    rx.upload.root(
                        rx.el.div(
                            rx.icon("image-plus", size=26, aria_hidden="true"),
                            rx.cond(
                                chosen.length() > 0,
                                rx.el.span(chosen[0], class_name="ch-drop-file", data_testid="photo-chosen"),
                                rx.el.span(t("Choose a photo"), class_name="ch-drop-label"),
                            ),
                            rx.el.span(
                                t("JPEG, PNG or WebP, up to {limit} MB", limit=MAX_UPLOAD_BYTES // (1024 * 1024)),
                                class_name="ch-hint",
                            ),
                            class_name="ch-drop-inner",
                        ),
                        id=PHOTO_UPLOAD_ID,
                        accept=IMAGE_ACCEPT,
                        max_files=1,
                        multiple=False,
                        max_size=MAX_UPLOAD_BYTES,
                        on_drop_rejected=S.photo_rejected,
                        no_click=True,  # the wrapping label opens the picker (a second opener would race it)
                        class_name="ch-drop",
                        data_testid="photo-drop",
                    ),
                    class_name="ch-drop-wrap",
                ),
                send_button(
                    "photo_contest",
                    t("Send photo"),
                    test_id="photo-submit",
                    type_="button",
                    ready=chosen.length() > 0,
                    on_click=S.upload_photo(rx.upload_files(upload_id=PHOTO_UPLOAD_ID)),
                ),
                class_name="ch-form",
            ),
        ),
        submissions_list("photo"),
    )


def newsletter_body() -> rx.Component:
    return rx.cond(
        S.ways["subscribe_newsletter"]["status"] != "subscribed",
        send_button("subscribe_newsletter", t("Subscribe"), test_id="newsletter-submit", type_="button", on_click=S.subscribe),
    )


def _profile_link() -> rx.Component:
    return rx.el.a(
        t("Go to my profile"), href=f"/m/{SessionState.merchant_slug}/profile", class_name="btn btn-secondary btn-block"
    )


def claim_body(action: str, label: rx.Var, test_id: str) -> rx.Component:
    return rx.match(
        S.ways[action]["status"],
        ("open", send_button(action, label, test_id=test_id, type_="button", on_click=S.claim(action))),
        ("needs_profile", _profile_link()),
        ("no_birthday", _profile_link()),
        rx.fragment(),
    )


def earn_view() -> rx.Component:
    return rx.cond(
        S.way_count > 0,
        rx.el.div(
            rx.el.p(t("Earn points without buying anything."), class_name="ch-lead"),
            way_card("fill_survey", "clipboard-list", t("Answer a survey"), S.survey_title, survey_body()),
            way_card("attend_event", "ticket", t("Been to our event?"), t("Enter the code you got at the event."), event_body()),
            way_card(
                "tag_social",
                "at-sign",
                t("Tag us on social media"),
                t("Post about us with our tag, then paste the link here. Points once we've checked it."),
                social_body(),
            ),
            way_card(
                "photo_contest",
                "camera",
                t("Photo contest"),
                t("Send your best photo of us. Points once it's approved."),
                photo_body(),
            ),
            way_card(
                "subscribe_newsletter",
                "mail",
                t("Get our newsletter"),
                t("News and offers by e-mail. You can unsubscribe at any time."),
                newsletter_body(),
            ),
            way_card(
                "complete_profile",
                "user-round-check",
                t("Complete your profile"),
                t("Add your name and birthday."),
                claim_body("complete_profile", t("Claim my points"), "claim-profile"),
            ),
            way_card(
                "birthday",
                "cake",
                t("Birthday treat"),
                t("Claim your points in your birthday month."),
                claim_body("birthday", t("Claim my birthday points"), "claim-birthday"),
            ),
        ),
        rx.cond(S.loaded, rx.el.p(t("No extra ways to earn right now. Check back soon!"), class_name="empty")),
    )
