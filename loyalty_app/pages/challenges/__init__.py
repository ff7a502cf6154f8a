"""Challenges tab: /m/<slug>/challenges — challenges with progress and time left, the ways to
earn beyond purchases (survey, event code, social tag, photo contest, newsletter, profile,
birthday) driven by the merchant's active earning rules, and every badge (earned with its
date, locked with progress and how to earn it).

``?tab=earn`` / ``?tab=badges`` opens the page on that section. Data comes from
``services.earning.engagement`` (one read per load); each way to earn calls its own service and shows
"+N points", "sent for review" or a clear refusal right in its card.

One module a part: ``state`` (loading and every handler), ``rows`` (the overview worded for
display), ``challenge_cards``, ``way_card`` and ``ways_to_earn``, ``badges``, and ``page`` (header,
section switch, frame). This package exports what the app and the tests use.
"""

from loyalty_app.pages.challenges.badges import BADGE_ICONS
from loyalty_app.pages.challenges.page import challenges_page
from loyalty_app.pages.challenges.rows import ACTION_HOW, action_how
from loyalty_app.pages.challenges.state import ChallengesState

__all__ = ["ACTION_HOW", "BADGE_ICONS", "ChallengesState", "action_how", "challenges_page"]
