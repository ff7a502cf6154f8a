"""The text files of one merchant's PWA shell: web app manifest, service worker, offline page.

Pure functions of a ``PwaBrand``: no DB, no HTTP, so they are easy to test and to cache.
"""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

from loyalty_app.domain.errors import N_
from loyalty_app.i18n import translate
from loyalty_app.pwa.brand import PwaBrand
from loyalty_app.pwa.icons import ICON_SPECS, RENDERER_VERSION
from loyalty_app.settings import SUPPORTED_LANGUAGES

SERVICE_WORKER_TEMPLATE = Path(__file__).with_name("service_worker.js")
# Pages precached on install so the card opens offline once the worker is installed. Best
# effort: a page that fails to load (e.g. not built yet) does not block the install.
WARM_PAGES = ("card", "home")


def asset_version(brand: PwaBrand) -> str:
    """Query token for icon URLs and the cache name: changes on every publish or redraw."""
    return f"{brand.theme_version}.{brand.fingerprint[:8]}.{RENDERER_VERSION}"


def icon_url(brand: PwaBrand, name: str) -> str:
    return f"{brand.scope}icons/{name}.png?v={asset_version(brand)}"


def offline_url(brand: PwaBrand) -> str:
    return f"{brand.scope}offline.html?v={asset_version(brand)}"


def manifest(brand: PwaBrand) -> dict:
    """The W3C web app manifest for one merchant's member app."""
    icons = []
    for spec in ICON_SPECS.values():
        if spec.purpose == "apple":
            continue  # iOS reads the <link rel="apple-touch-icon">, not the manifest
        icons.append(
            {
                "src": icon_url(brand, spec.name),
                "sizes": f"{spec.size}x{spec.size}",
                "type": "image/png",
                "purpose": spec.purpose,
            }
        )
    return {
        # The id pins the app's identity to the merchant, so a changed start_url stays one app.
        "id": brand.scope,
        "name": brand.name,
        "short_name": brand.short_name,
        "description": brand.description,
        "lang": brand.language,
        "dir": "ltr",
        "start_url": f"{brand.scope}home",
        "scope": brand.scope,
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": brand.primary,
        "background_color": brand.background,
        "categories": ["shopping", "lifestyle"],
        "prefer_related_applications": False,
        "icons": icons,
    }


def manifest_json(brand: PwaBrand) -> bytes:
    return json.dumps(manifest(brand), ensure_ascii=False, separators=(",", ":")).encode()


def _script_json(value: object) -> str:
    """JSON that is safe inside an inline <script> (no "</script>" or "<!--" can appear)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def service_worker_js(brand: PwaBrand) -> bytes:
    """The merchant's service worker: the template plus this merchant's settings."""
    version = asset_version(brand)
    template = SERVICE_WORKER_TEMPLATE.read_text()
    template_hash = hashlib.sha256(template.encode()).hexdigest()[:8]
    prefix = f"loyalty-pwa:{brand.slug}:"
    config = {
        "scope": brand.scope,
        "cachePrefix": prefix,
        # The template's hash is in the cache name too: a deploy that changes the worker's
        # logic starts from an empty cache instead of trusting entries from the old logic.
        "cache": f"{prefix}{version}.{template_hash}",
        "offline": offline_url(brand),
        "shell": [offline_url(brand), *(icon_url(brand, name) for name in ICON_SPECS)],
        "warm": [f"{brand.scope}{page}" for page in WARM_PAGES],
        # Public, non-personal files of the merchant (loyalty_app/api/merchant_routes.py).
        "brandFiles": [f"{brand.scope}theme.css", f"{brand.scope}media/"],
        "neverCache": ["/api/", "/_event", "/_upload", "/ping", "/_health"],
    }
    return template.replace("/*__CONFIG__*/{}", _script_json(config)).encode()


# Offline page texts: English gettext msgids, translated from the project's catalogs. All
# languages go into the page and it picks one in the browser (navigator.languages), because the
# worker serves the same cached page to whoever is offline.
OFFLINE_TITLE = N_("You are offline")
OFFLINE_BODY = N_("We can't reach {name} right now. Check your internet connection and try again.")
OFFLINE_REASSURANCE = N_("Your points and rewards are safe.")
OFFLINE_RETRY = N_("Try again")
OFFLINE_MESSAGES = {"title": OFFLINE_TITLE, "body": OFFLINE_BODY, "reassurance": OFFLINE_REASSURANCE, "retry": OFFLINE_RETRY}


def offline_texts(language: str, name: str) -> dict[str, str]:
    """The offline-page texts in ``language`` (English when missing), the merchant name filled in."""
    return {key: translate(language, msgid, name=name) for key, msgid in OFFLINE_MESSAGES.items()}


def offline_html(brand: PwaBrand) -> bytes:
    """A self-contained branded page the worker shows when a navigation fails offline."""
    texts = {lang: offline_texts(lang, brand.name) for lang in SUPPORTED_LANGUAGES}
    initial = texts.get(brand.language, texts["en"])
    esc = html.escape
    page = f"""<!doctype html>
<html lang="{esc(brand.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="{brand.primary}">
<meta name="robots" content="noindex">
<title id="offline-doc-title">{esc(initial["title"])} · {esc(brand.short_name)}</title>
<style>
:root {{ --primary: {brand.primary}; --on-primary: {brand.on_primary}; --background: {brand.background}; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; min-height: 100%; }}
body {{
  min-height: 100vh; display: flex; align-items: center; justify-content: center;
  padding: max(24px, env(safe-area-inset-top)) 24px max(24px, env(safe-area-inset-bottom));
  background: var(--background); color: #1f2328;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
}}
main {{
  width: 100%; max-width: 380px; text-align: center; background: #ffffff;
  border-radius: 20px; padding: 32px 24px; box-shadow: 0 10px 30px rgba(0, 0, 0, 0.08);
  border-top: 6px solid var(--primary);
}}
img {{ width: 88px; height: 88px; border-radius: 20px; }}
.brand {{ margin: 12px 0 0; font-weight: 700; color: var(--primary); }}
h1 {{ font-size: 1.5rem; margin: 16px 0 8px; }}
p {{ line-height: 1.5; margin: 8px 0; color: #3d444d; }}
button {{
  margin-top: 20px; width: 100%; min-height: 48px; border: 0; border-radius: 999px;
  background: var(--primary); color: var(--on-primary); font: inherit; font-weight: 700;
  font-size: 1.05rem; cursor: pointer;
}}
button:focus-visible {{ outline: 3px solid #1f2328; outline-offset: 3px; }}
</style>
</head>
<body data-offline-page="{esc(brand.slug)}">
<main role="main">
  <img src="{esc(icon_url(brand, "icon-192"))}" alt="">
  <p class="brand">{esc(brand.name)}</p>
  <h1 id="offline-title">{esc(initial["title"])}</h1>
  <p id="offline-body">{esc(initial["body"])}</p>
  <p id="offline-reassurance">{esc(initial["reassurance"])}</p>
  <button id="offline-retry" type="button">{esc(initial["retry"])}</button>
</main>
<script>
(function () {{
  var texts = {_script_json(texts)};
  var shortName = {_script_json(brand.short_name)};
  var wanted = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language || ""];
  var chosen = null;
  for (var i = 0; i < wanted.length && !chosen; i++) {{
    var code = String(wanted[i]).slice(0, 2).toLowerCase();
    if (texts[code]) chosen = code;
  }}
  if (chosen) {{
    var t = texts[chosen];
    document.documentElement.lang = chosen;
    document.getElementById("offline-title").textContent = t.title;
    document.getElementById("offline-body").textContent = t.body;
    document.getElementById("offline-reassurance").textContent = t.reassurance;
    document.getElementById("offline-retry").textContent = t.retry;
    document.title = t.title + " \\u00b7 " + shortName;
  }}
  document.getElementById("offline-retry").addEventListener("click", function () {{ location.reload(); }});
  window.addEventListener("online", function () {{ location.reload(); }});
}})();
</script>
</body>
</html>
"""
    return page.encode()
