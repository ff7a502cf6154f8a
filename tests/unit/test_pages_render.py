"""Every page of the app renders to a component tree (what `reflex run` compiles first): a
mistake in a page function fails here in seconds instead of in a minutes-long build."""

from __future__ import annotations

import pytest


def _pages():
    from loyalty_app.loyalty_app import app

    return sorted(app._unevaluated_pages.items())


@pytest.mark.parametrize("route,page", _pages(), ids=lambda v: v if isinstance(v, str) else "")
def test_page_renders(route, page):
    import reflex as rx

    component = page.component() if callable(page.component) else page.component
    assert isinstance(component, rx.Component), route
    assert component.render(), route
