"""How points are earned: the rules and actions, quests, tiers, badges, challenges, referrals, engagement (surveys, claims, submissions) and segments.

Uses members, ledger, insight and platform; the catalog and everything above use it.
"""
