"""Who the members are: accounts and sign-up, sessions, passwords, profile and consent, pictures and media blobs, the inbox, the data export.

Uses platform, ledger and insight; never earning, catalog or anything above.
"""
