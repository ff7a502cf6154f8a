"""Merchant console, program editor: /m/<slug>/admin-program?tab=...

Sub-tabs: rewards, earning rules, tiers, badges, challenges, quests, charities, surveys,
segments (each a list with status and key facts, plus a create/edit form beside it on a desktop
and below it on a phone), the published changelog (with the merchant's notes) and moderation
(reviews, social posts and contest photos). Every save goes through
``services.program.program_console``, which checks each field and writes the rule change and its
changelog entry in one transaction; refused fields come back translated, each under its own field.

Three flat states keep events light: ``ProgramState`` (the editors: only the open tab's rows),
``ChangelogState`` and ``ModerationState``. The package is split by responsibility:

- ``state``: ProgramState, its tabs and messages;
- ``fields``: the form fields, bound to ProgramState's values and errors;
- ``kind_fields``: which fields each kind's form shows;
- ``editor``: an editor tab (the list of rows and the create/edit form);
- ``changelog`` and ``moderation``: those tabs, each with its state;
- ``widgets``: small pieces the tabs share;
- ``page``: the sub-tabs and the page function.

This module re-exports what the app and the tests import.
"""

from loyalty_app.pages.admin_program.changelog import NOTE_SAVED, ChangelogState
from loyalty_app.pages.admin_program.moderation import REJECTED, REVIEW_HIDDEN, ModerationState
from loyalty_app.pages.admin_program.page import program_page
from loyalty_app.pages.admin_program.state import (
    FIX_FIELDS,
    KIND_OF_TAB,
    NOTHING_CHANGED,
    SAVED,
    SEGMENT_SAVED,
    ProgramState,
)

__all__ = [
    "FIX_FIELDS",
    "KIND_OF_TAB",
    "NOTE_SAVED",
    "NOTHING_CHANGED",
    "REJECTED",
    "REVIEW_HIDDEN",
    "SAVED",
    "SEGMENT_SAVED",
    "ChangelogState",
    "ModerationState",
    "ProgramState",
    "program_page",
]
