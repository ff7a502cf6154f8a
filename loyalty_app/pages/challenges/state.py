"""The Challenges tab's state: one read of the engagement overview per load (``rows`` words it
for display), the open section and survey, and the handlers of every way to earn — each calls its
own service and leaves "+N points", "sent for review" or a clear refusal for its card. Display
values only: the member's ids stay on the server. Nothing here renders."""

from __future__ import annotations

from typing import Any

import reflex as rx

from loyalty_app.components.dropzone import rejected_image_message
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.i18n import translate, translate_plural
from loyalty_app.pages.challenges import rows
from loyalty_app.pages.challenges.rows import QuestionRow
from loyalty_app.services.earning import engagement
from loyalty_app.services.members.member_media import MAX_UPLOAD_BYTES
from loyalty_app.state.forms import current_language, error_message, run_service, translated
from loyalty_app.state.session import SessionState

VIEWS = ("challenges", "earn", "badges")
PHOTO_UPLOAD_ID = "contest_photo"


class ChallengesState(rx.State):
    """The Challenges tab (display values only; ids of the member stay on the server)."""

    loaded: bool = False
    error: str = ""
    view: str = "challenges"
    available: int = 0
    challenges: list[dict[str, str]] = []
    done_count: int = 0
    badges_earned: list[dict[str, str]] = []
    badges_locked: list[dict[str, str]] = []
    ways: dict[str, dict[str, str]] = {}
    way_count: int = 0
    survey_title: str = ""
    survey_description: str = ""
    questions: list[QuestionRow] = []
    survey_open: bool = False
    submissions: list[dict[str, str]] = []
    busy: str = ""  # the way to earn being sent
    form_key: str = "0"  # bumped after a success, so the forms start empty again
    notice_action: str = ""
    notice_title: str = ""
    notice_text: str = ""
    err_action: str = ""
    err_text: str = ""
    _survey_id: int = 0

    # --- loading ------------------------------------------------------------------------------

    async def _fetch(self) -> None:
        session = await self.get_state(SessionState)
        if session.role != "member":
            return  # staff and admins are sent to their own pages by the guard
        ran = await run_service(self, engagement.engagement_overview, error_var="error" if session.signed_in else None)
        if ran is None:
            return
        _actor, overview = ran
        lang = await current_language(self)
        now = utcnow()
        tz = overview.timezone
        self.available = overview.available
        self.challenges = [rows.challenge_row(lang, c, now, tz) for c in overview.challenges]
        self.done_count = sum(1 for c in overview.challenges if c.completed)
        self.badges_earned = [rows.earned_badge_row(lang, b, tz) for b in overview.badges if b.earned]
        self.badges_locked = [rows.locked_badge_row(lang, b) for b in overview.badges if not b.earned]
        ways = {w.action: rows.way_row(lang, w, overview, tz) for w in overview.ways}
        self.ways = ways
        self.way_count = len(ways)
        survey = overview.survey
        self._survey_id = survey.survey_id if survey else 0
        self.survey_title = survey.title if survey else ""
        self.survey_description = survey.description if survey else ""
        self.questions = rows.question_rows(survey)
        self.submissions = [rows.submission_row(lang, s, tz) for s in overview.submissions]
        self.error = ""
        self.loaded = True

    @rx.event
    async def load(self):
        tab = str(self.router.page.params.get("tab", "") or "")
        self.view = tab if tab in VIEWS else "challenges"
        self.survey_open = False
        self.busy = ""
        self._clear_feedback()
        await self._fetch()

    @rx.event
    def set_view(self, view: str):
        if view in VIEWS:
            self.view = view

    @rx.event
    def toggle_survey(self):
        self.survey_open = not self.survey_open
        self._clear_feedback()

    # --- feedback -----------------------------------------------------------------------------

    def _clear_feedback(self) -> None:
        self.notice_action = self.notice_title = self.notice_text = ""
        self.err_action = self.err_text = ""

    async def _failed(self, action: str, err: Exception) -> None:
        self.err_action = action
        self.err_text = await error_message(self, err)

    def _notice(self, action: str, title: str, text: str) -> None:
        """Success in ``action``'s card; its form starts empty again."""
        self.notice_action, self.notice_title, self.notice_text = action, title, text
        self.form_key = str(int(self.form_key) + 1)

    async def _earned(self, action: str, result: engagement.EarnResult, plain: str) -> None:
        """ "+N points" with what else came with it (bonus, badges, a tier), or ``plain``."""
        lang = await current_language(self)
        if result.total_points > 0:
            title = translate_plural(lang, "+{n} point", "+{n} points", result.total_points)
        else:
            title = translate(lang, "Done!")
        extra = [plain] if plain else []
        if result.bonus_points > 0:
            extra.append(translate(lang, "Including {points} bonus points from challenges.", points=result.bonus_points))
        if result.badges:
            extra.append(translate(lang, "New badge: {badges}", badges=", ".join(result.badges)))
        if result.tier_reached:
            extra.append(translate(lang, "You reached {tier}!", tier=result.tier_reached))
        self._notice(action, title, " ".join(extra))

    async def _sent_for_review(self, action: str) -> None:
        lang = await current_language(self)
        self._notice(
            action,
            translate(lang, "Sent for review"),
            translate(lang, "We'll check it soon. Your points arrive once it's approved."),
        )

    # --- ways to earn -------------------------------------------------------------------------

    def _begin(self, action: str) -> bool:
        """Start sending ``action`` (False while another way is being sent)."""
        if self.busy:
            return False
        self._clear_feedback()
        self.busy = action
        return True

    async def _send(self, action: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run ``action``'s service: ``(actor, result)``, or None with the refusal in its card."""
        ran = await run_service(self, fn, *args, error_var="err_text", **kwargs)
        if ran is None:
            self.err_action = action
        return ran

    @rx.event
    async def submit_survey(self, form: dict):
        if not self._begin("fill_survey"):
            return
        yield
        answers = {k[2:]: v for k, v in form.items() if isinstance(k, str) and k.startswith("q_")}
        ran = await self._send("fill_survey", engagement.submit_survey, self._survey_id, answers)
        if ran is not None:
            _actor, result = ran
            await self._earned("fill_survey", result, await translated(self, "Thanks for your answers!"))
            self.survey_open = False
            await self._fetch()
        self.busy = ""

    @rx.event
    async def subscribe(self):
        if not self._begin("subscribe_newsletter"):
            return
        yield
        ran = await self._send("subscribe_newsletter", engagement.subscribe_newsletter)
        if ran is not None:
            _actor, result = ran
            plain = await translated(self, "You're subscribed. Thank you!")
            if result.already:
                plain = await translated(self, "You're subscribed. You already earned points for this before.")
            await self._earned("subscribe_newsletter", result, plain)
            await self._fetch()
        self.busy = ""

    @rx.event
    async def submit_event_code(self, form: dict):
        if not self._begin("attend_event"):
            return
        yield
        ip = self.router.session.client_ip or ""
        ran = await self._send("attend_event", engagement.enter_event_code, str(form.get("code", "")), ip=ip)
        if ran is not None:
            _actor, result = ran
            await self._earned("attend_event", result, await translated(self, "Thanks for coming!"))
            await self._fetch()
        self.busy = ""

    @rx.event
    async def submit_social(self, form: dict):
        if not self._begin("tag_social"):
            return
        yield
        if await self._send("tag_social", engagement.submit_social_link, str(form.get("url", ""))) is not None:
            await self._sent_for_review("tag_social")
            await self._fetch()
        self.busy = ""

    @rx.event
    async def upload_photo(self, files: list[rx.UploadFile]):
        if self.busy:
            return
        self._clear_feedback()
        if not files:
            await self._failed("photo_contest", LoyaltyError(N_("Choose an image first."), code="image_empty"))
            return
        self.busy = "photo_contest"
        yield
        upload = files[0]
        data = await upload.read(MAX_UPLOAD_BYTES + 1)  # one byte over the limit is enough to refuse
        if await self._send("photo_contest", engagement.submit_photo, data, filename=upload.name or "") is not None:
            await self._sent_for_review("photo_contest")
            await self._fetch()
        self.busy = ""
        yield rx.clear_selected_files(PHOTO_UPLOAD_ID)

    @rx.event
    async def photo_rejected(self, rejected: list[dict]):
        """The picker refused the file before upload (too big, not an image)."""
        self._clear_feedback()
        self.err_action = "photo_contest"
        self.err_text = await rejected_image_message(self, rejected)

    @rx.event
    async def claim(self, action: str):
        if action not in engagement.CLAIMABLE or not self._begin(action):
            return
        yield
        ran = await self._send(action, engagement.claim_action, action)
        if ran is not None:
            _actor, result = ran
            await self._earned(action, result, "")
            await self._fetch()
        self.busy = ""
