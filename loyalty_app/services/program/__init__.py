"""The merchant's console: program definitions and their editor, the changelog, the theme.

Uses member_app and everything below; independent of store and crm.
"""
