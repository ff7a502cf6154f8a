"""What points buy: rewards, vouchers and their ratings, the member's catalog view, donations to charities.

Uses earning (tiers, segments, badges), members, ledger, insight and platform.
"""
