"""The PWA shell of every merchant's member app: manifest, icons, service worker, offline page.

Wiring (in the app module)::

    from loyalty_app import pwa
    app = rx.App(head_components=pwa.head_components(), api_transformer=Starlette(routes=[*pwa.routes(), ...]))
"""

from loyalty_app.pwa.brand import PwaBrand, load_brand
from loyalty_app.pwa.documents import manifest, offline_html, service_worker_js
from loyalty_app.pwa.endpoints import routes
from loyalty_app.pwa.head import head_components
from loyalty_app.pwa.icons import ICON_SPECS, render_icon

__all__ = [
    "ICON_SPECS",
    "PwaBrand",
    "head_components",
    "load_brand",
    "manifest",
    "offline_html",
    "render_icon",
    "routes",
    "service_worker_js",
]
