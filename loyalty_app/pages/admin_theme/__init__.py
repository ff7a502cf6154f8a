"""Merchant console, theme editor: /m/<slug>/admin-theme.

The form on the left edits a draft; on the right two phone frames (light and dark) render the
member app's own components (top bar, points card, quest card, reward tiles, tab bar, member
card) with demo data, styled by CSS variables computed from the draft and set on the preview
container, so nothing reaches members until Publish. Every text/background pair of the draft
is checked against WCAG (domain/theme_contrast.py); failures are listed with the nearest
passing colour and an Apply button. Save draft, Publish (confirmed), Discard, and a version
history with Revert (services/program/theme_admin.py).

One module a part: ``state`` (the draft and every handler), ``form`` (brand, colours, look,
presets), ``readability`` (the contrast panel), ``preview`` (the phones), ``page`` (status bar,
history, publish sheet and the layout), ``widgets`` (pieces they share). This package exports
what the app and the tests use.
"""

from loyalty_app.pages.admin_theme.page import theme_editor_page
from loyalty_app.pages.admin_theme.state import DISCARDED, LOGO_SAVED, PUBLISHED, REVERTED, SAVED, ThemeEditorState

__all__ = ["DISCARDED", "LOGO_SAVED", "PUBLISHED", "REVERTED", "SAVED", "ThemeEditorState", "theme_editor_page"]
