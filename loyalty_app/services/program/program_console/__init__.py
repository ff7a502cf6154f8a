"""The merchant console's program editor: rewards, earning rules, tiers, badges, challenges,
quests, charities and surveys; the published changelog; moderation of reviews and submissions.

For every kind of row there is ``list_X(engine, admin)`` and ``save_X(engine, admin, form, *,
publish_note="")`` (plus ``retire_X`` where the row can be switched off; ``set_active`` brings one back):

- ``form`` is the raw form as the browser sent it (strings). Every field is parsed and checked
  here (numbers, decimals, dates and times in the MERCHANT's timezone -> UTC, hex colours, tier
  keys, stores, limits...). All refused fields are collected and raised together as one
  ``FormInvalid`` (a LoyaltyError whose message/code/``field`` are the first refusal's and whose
  ``errors`` maps each field to its own LoyaltyError), before anything is written;
- the row is then created or updated through ``services.program.program_admin`` (or
  ``engagement.upsert_survey``) and, when something actually changed, a changelog entry
  (``changelog.record_change``: what, when, effective date = the rule's start) is written IN THE
  SAME TRANSACTION: both land or neither does;
- a new row's key is a slug of its name (made unique); an ``id`` sent by the browser is checked
  to be a row of the admin's own merchant (else NotFound, nothing written);
- everything is authorized with ``Action.ADMIN_MANAGE_PROGRAM`` (moderation:
  ``Action.ADMIN_MODERATE``) through ``services.platform.permissions.authorize``.

Lists return ``RowView``s: a status (active / scheduled / ended / retired), facts to show as
``(msgid, params)`` pairs (datetime params are UTC instants for the page to format) and the
row's edit form as strings (times in the merchant's timezone).

Segments (``save_segment``...) follow the same path with two differences: they are the
merchant's own targeting, never shown to members, so a save writes the admin audit entry but no
"What's new" entry; and a segment that active offers still target cannot be retired (change the
offers first). Rewards, challenges, quests and earning rules pick their segment in a ``segment``
field: a built-in key or ``seg:<id>`` of one of the program's active segments.

Retiring a tier moves its members, in the same transaction, to the highest active tier below
it (``services.earning.tiers.move_members_off_tier``; their history keeps the old tier); nobody reaches
a retired tier. A retired badge is no longer awarded; members who earned it keep it.

Modules: ``forms`` (the form reader, ``FormInvalid``, the field messages), ``labels`` (option
labels), ``rows`` (``RowView``, the list context, ownership checks, shared facts), ``editor``
(``_Spec``: the one save / retire / list path and the changelog entries it publishes, the
per-kind functions built from a spec, the changelog's list and notes), one module per group of
kinds: ``catalog`` (rewards, charities), ``earning`` (earning rules, tiers, badges, challenges,
quests), ``surveys``, ``segments``; ``moderation`` (reviews, submissions) and ``dispatch`` (the
page's kind tables, ``set_active``, ``new_form``, ``program_options``). Import the package
(``from loyalty_app.services import program_console``): its names are the API.
"""

from __future__ import annotations

# Reached through the package: the changelog service (tests patch its record_change) and the
# merchant-timezone conversion the editor's forms use.
from loyalty_app.domain.quests import utc_to_local as utc_to_local
from loyalty_app.services.program import changelog as changelog
from loyalty_app.services.program.program_console.catalog import (
    CHARITY,
    REWARD,
    REWARD_IMAGE_PREVIEW,
    list_charities,
    list_rewards,
    prepare_reward_image,
    retire_charity,
    retire_reward,
    save_charity,
    save_reward,
)
from loyalty_app.services.program.program_console.dispatch import (
    LISTS,
    SAVES,
    SPECS,
    ProgramOptions,
    new_form,
    program_options,
    set_active,
)
from loyalty_app.services.program.program_console.earning import (
    BAD_EVENT_CODES,
    BADGE,
    CHALLENGE,
    EARNING,
    EVENT_CODE_RE,
    LIMIT_COUNT_REQUIRED,
    LIMIT_PERIOD_REQUIRED,
    QUEST,
    RANK_TAKEN,
    START_FORMAT,
    THRESHOLD_ORDER,
    TIER,
    UNKNOWN_ACTION,
    UNKNOWN_BADGE,
    UNKNOWN_CHALLENGE,
    list_badges,
    list_challenges,
    list_earning_rules,
    list_quests,
    list_tiers,
    retire_badge,
    retire_challenge,
    retire_earning_rule,
    retire_quest,
    retire_tier,
    save_badge,
    save_challenge,
    save_earning_rule,
    save_quest,
    save_tier,
)
from loyalty_app.services.program.program_console.editor import (
    MAX_NOTE,
    TITLES,
    ListRows,
    RetireRow,
    SaveRow,
    annotate_change,
    list_changes,
    list_function,
    retire_function,
    save_function,
)
from loyalty_app.services.program.program_console.forms import (
    BAD_COLOUR,
    BAD_DATETIME,
    DATETIME_FORMATS,
    ENDS_BEFORE_START,
    FORM_DATETIME,
    MAX_POINTS,
    MULTIPLIER_RANGE,
    NOT_A_DECIMAL,
    NOT_A_WHOLE_NUMBER,
    OUT_OF_RANGE,
    REQUIRED,
    TOO_LONG,
    UNKNOWN_OPTION,
    FormInvalid,
)
from loyalty_app.services.program.program_console.labels import (
    ACTION_LABELS,
    BADGE_ICONS,
    BADGE_KIND_LABELS,
    CHALLENGE_ACTION_LABELS,
    CONSENT_LABELS,
    EDITOR_KINDS,
    LIMIT_FACTS,
    LIMIT_PERIOD_LABELS,
    RECURRENCE_LABELS,
    RETIRABLE,
    REWARD_KIND_LABELS,
    RFM_LABELS,
    SEGMENT_LABELS,
    SPEND_MEASURE_LABELS,
    STATUS_LABELS,
    action_labels,
    challenge_action_labels,
)
from loyalty_app.services.program.program_console.moderation import (
    REASON_REQUIRED,
    SUBMISSION_NOT_FOUND,
    ReviewRow,
    SubmissionRow,
    hide_review,
    list_reviews,
    list_submissions,
    review_submission,
    show_review,
    submission_photo,
)
from loyalty_app.services.program.program_console.rows import (
    ROW_NOT_FOUND,
    UNKNOWN_STORE,
    UNKNOWN_TIER,
    RowView,
    slug_key,
)
from loyalty_app.services.program.program_console.segments import (
    NOT_A_SPEND,
    SEGMENT,
    SEGMENT_IN_USE,
    criteria_facts,
    list_segments,
    parse_criteria,
    preview_segment,
    retire_segment,
    save_segment,
)
from loyalty_app.services.program.program_console.surveys import (
    OPTIONAL_MARK_RE,
    QUESTION_KIND,
    QUESTION_LINE_RE,
    QUESTION_OPTIONS,
    QUESTION_TEXT,
    QUESTIONS_COUNT,
    SURVEY,
    list_surveys,
    parse_questions,
    questions_text,
    retire_survey,
    save_survey,
)

__all__ = [
    "ACTION_LABELS",
    "BADGE",
    "BADGE_ICONS",
    "BADGE_KIND_LABELS",
    "BAD_COLOUR",
    "BAD_DATETIME",
    "BAD_EVENT_CODES",
    "CHALLENGE",
    "CHALLENGE_ACTION_LABELS",
    "CHARITY",
    "CONSENT_LABELS",
    "DATETIME_FORMATS",
    "EARNING",
    "EDITOR_KINDS",
    "ENDS_BEFORE_START",
    "EVENT_CODE_RE",
    "FORM_DATETIME",
    "FormInvalid",
    "LIMIT_COUNT_REQUIRED",
    "LIMIT_FACTS",
    "LIMIT_PERIOD_LABELS",
    "LIMIT_PERIOD_REQUIRED",
    "LISTS",
    "ListRows",
    "MAX_NOTE",
    "MAX_POINTS",
    "MULTIPLIER_RANGE",
    "NOT_A_DECIMAL",
    "NOT_A_SPEND",
    "NOT_A_WHOLE_NUMBER",
    "OPTIONAL_MARK_RE",
    "OUT_OF_RANGE",
    "ProgramOptions",
    "QUEST",
    "QUESTIONS_COUNT",
    "QUESTION_KIND",
    "QUESTION_LINE_RE",
    "QUESTION_OPTIONS",
    "QUESTION_TEXT",
    "RANK_TAKEN",
    "REASON_REQUIRED",
    "RECURRENCE_LABELS",
    "REQUIRED",
    "RETIRABLE",
    "REWARD",
    "REWARD_IMAGE_PREVIEW",
    "REWARD_KIND_LABELS",
    "RFM_LABELS",
    "ROW_NOT_FOUND",
    "RetireRow",
    "ReviewRow",
    "RowView",
    "SAVES",
    "SEGMENT",
    "SEGMENT_IN_USE",
    "SEGMENT_LABELS",
    "SPECS",
    "SPEND_MEASURE_LABELS",
    "START_FORMAT",
    "STATUS_LABELS",
    "SUBMISSION_NOT_FOUND",
    "SURVEY",
    "SaveRow",
    "SubmissionRow",
    "THRESHOLD_ORDER",
    "TIER",
    "TITLES",
    "TOO_LONG",
    "UNKNOWN_ACTION",
    "UNKNOWN_BADGE",
    "UNKNOWN_CHALLENGE",
    "UNKNOWN_OPTION",
    "UNKNOWN_STORE",
    "UNKNOWN_TIER",
    "action_labels",
    "annotate_change",
    "challenge_action_labels",
    "criteria_facts",
    "hide_review",
    "list_badges",
    "list_challenges",
    "list_changes",
    "list_charities",
    "list_earning_rules",
    "list_function",
    "list_quests",
    "list_reviews",
    "list_rewards",
    "list_segments",
    "list_submissions",
    "list_surveys",
    "list_tiers",
    "new_form",
    "parse_criteria",
    "parse_questions",
    "prepare_reward_image",
    "preview_segment",
    "program_options",
    "questions_text",
    "retire_badge",
    "retire_challenge",
    "retire_charity",
    "retire_earning_rule",
    "retire_function",
    "retire_quest",
    "retire_reward",
    "retire_segment",
    "retire_survey",
    "retire_tier",
    "review_submission",
    "save_badge",
    "save_challenge",
    "save_charity",
    "save_earning_rule",
    "save_function",
    "save_quest",
    "save_reward",
    "save_segment",
    "save_survey",
    "save_tier",
    "set_active",
    "show_review",
    "slug_key",
    "submission_photo",
]
