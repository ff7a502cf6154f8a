"""The member's Challenges tab: challenges, badges and the ways to earn beyond purchases.

Reads: ``engagement_overview`` gathers, in one read transaction, the challenges the member sees
(hidden ones only once completed) with completion dates and when they end or reset, every badge
(earned with its date, locked with progress and how to earn it), the "ways to earn" the
merchant's active earning rules offer this member now (points, limit, what is used up), the
current survey, and the member's own submissions.

Writes, each a member acting on their own account (``authorize`` first, ids from the actor):
- ``submit_survey``: answers validated against the survey's questions, then the response and
  the ``fill_survey`` earn commit together (key ``survey:<survey>:<member>``), or nothing does;
- ``subscribe_newsletter``: e-mail consent through ``services.members.profile.set_consent``, plus points once
  ever (key ``newsletter:<member>``);
- ``enter_event_code``: ``attend_event`` with the code (the engine checks it against the rule's
  ``event_codes``), once per member and code (key ``event:<member>:<CODE>``); wrong codes are
  logged and throttled per member;
- ``claim_action``: ``complete_profile`` (once) and ``birthday`` (once a year);
- ``submit_social_link`` / ``submit_photo``: a pending ``Submission`` for the merchant to review.
  ``review_submission`` (ADMIN_MODERATE) approves (``tag_social`` / ``photo_contest`` points,
  key ``submission:<id>``, so once) or rejects with a reason the member sees.

Modules: ``overview`` (the read model and its cards), ``surveys`` (questions, answers, the survey
earn), ``submissions`` (posts and photos sent for review, and the review), ``claims`` (newsletter,
event codes, claim buttons) and ``common`` (the member's permission, ``EarnResult``, the rule
that pays an action now). Import the package (``from loyalty_app.services import engagement``):
its names are the API.
"""

from __future__ import annotations

from loyalty_app.services.earning.engagement.claims import (
    ALREADY_CLAIMED,
    CLAIMABLE,
    EVENT_CODE_ATTEMPTS,
    EVENT_CODE_REQUIRED,
    EVENT_CODE_THROTTLED,
    EVENT_CODE_USED,
    EVENT_CODE_WINDOW,
    MAX_EVENT_CODE_LENGTH,
    NOT_CLAIMABLE,
    claim_action,
    clean_event_code,
    enter_event_code,
    event_key,
    subscribe_newsletter,
)
from loyalty_app.services.earning.engagement.common import (
    MEMBER_ENGAGE,
    EarnResult,
)
from loyalty_app.services.earning.engagement.overview import (
    WAYS,
    BadgeCard,
    ChallengeCard,
    Overview,
    WayToEarn,
    email_consent_granted,
    engagement_overview,
    period_end,
)
from loyalty_app.services.earning.engagement.submissions import (
    LINK_DUPLICATE,
    LINK_HOST,
    LINK_NOT_HTTPS,
    LINK_NOT_POST,
    LINK_REQUIRED,
    LINK_TOO_LONG,
    MAX_PENDING,
    MAX_REASON_LENGTH,
    MAX_URL_LENGTH,
    NOT_AVAILABLE,
    REASON_REQUIRED,
    REASON_TOO_LONG,
    SOCIAL_HOSTS,
    SUBMISSION_ACTIONS,
    SUBMISSION_NOT_FOUND,
    SUBMISSION_REVIEWED,
    SUBMISSIONS_SHOWN,
    TOO_MANY_PENDING,
    SubmissionView,
    clean_social_url,
    pending_submissions,
    review_submission,
    submit_photo,
    submit_social_link,
)
from loyalty_app.services.earning.engagement.surveys import (
    ANSWER_REQUIRED,
    ANSWER_TOO_LONG,
    DEFAULT_TEXT_MAX,
    INVALID_ANSWER,
    INVALID_CHOICE,
    INVALID_STARS,
    MAX_TEXT_MAX,
    QUESTION_KINDS,
    SURVEY_ANSWERED,
    SURVEY_NOT_FOUND,
    SurveyCard,
    clean_questions,
    submit_survey,
    survey_key,
    upsert_survey,
    validate_answers,
)

__all__ = [
    "ALREADY_CLAIMED",
    "ANSWER_REQUIRED",
    "ANSWER_TOO_LONG",
    "BadgeCard",
    "CLAIMABLE",
    "ChallengeCard",
    "DEFAULT_TEXT_MAX",
    "EVENT_CODE_ATTEMPTS",
    "EVENT_CODE_REQUIRED",
    "EVENT_CODE_THROTTLED",
    "EVENT_CODE_USED",
    "EVENT_CODE_WINDOW",
    "EarnResult",
    "INVALID_ANSWER",
    "INVALID_CHOICE",
    "INVALID_STARS",
    "LINK_DUPLICATE",
    "LINK_HOST",
    "LINK_NOT_HTTPS",
    "LINK_NOT_POST",
    "LINK_REQUIRED",
    "LINK_TOO_LONG",
    "MAX_EVENT_CODE_LENGTH",
    "MAX_PENDING",
    "MAX_REASON_LENGTH",
    "MAX_TEXT_MAX",
    "MAX_URL_LENGTH",
    "MEMBER_ENGAGE",
    "NOT_AVAILABLE",
    "NOT_CLAIMABLE",
    "Overview",
    "QUESTION_KINDS",
    "REASON_REQUIRED",
    "REASON_TOO_LONG",
    "SOCIAL_HOSTS",
    "SUBMISSIONS_SHOWN",
    "SUBMISSION_ACTIONS",
    "SUBMISSION_NOT_FOUND",
    "SUBMISSION_REVIEWED",
    "SURVEY_ANSWERED",
    "SURVEY_NOT_FOUND",
    "SubmissionView",
    "SurveyCard",
    "TOO_MANY_PENDING",
    "WAYS",
    "WayToEarn",
    "claim_action",
    "clean_event_code",
    "clean_questions",
    "clean_social_url",
    "email_consent_granted",
    "engagement_overview",
    "enter_event_code",
    "event_key",
    "pending_submissions",
    "period_end",
    "review_submission",
    "submit_photo",
    "submit_social_link",
    "submit_survey",
    "subscribe_newsletter",
    "survey_key",
    "upsert_survey",
    "validate_answers",
]
