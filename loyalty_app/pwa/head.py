"""<head> tags that make every merchant's member app installable.

Why relative hrefs and a script: head components are compiled once for all pages and all
merchants. A manifest link with the relative href "manifest.webmanifest" on /m/<slug>/<page>
resolves to that merchant's manifest. The inline script then pins the links to absolute
/m/<slug>/ URLs (so deeper pages work too), sets the theme-color from the merchant's manifest,
and registers the merchant's service worker only under /m/<slug>/.
"""

from __future__ import annotations

from loyalty_app.domain.theme import Theme

# The script is emitted raw inside <script>: it must not contain "<", ">" or "&" (React's
# server renderer and HTML parsing rules make those fragile), so it uses no arrow functions,
# comparisons or "&&".
REGISTER_SCRIPT = r"""
(function () {
  if (typeof window === "undefined") return;
  var pattern = /^\/m\/([A-Za-z0-9][A-Za-z0-9_-]*)\//;
  var registeredFor = null;
  function setHref(rel, path) {
    var link = document.querySelector('link[rel="' + rel + '"]');
    if (link) link.setAttribute("href", path);
  }
  function setThemeColour(base) {
    if (!window.fetch) return;
    /* "no-cache": revalidate (ETag), so a theme published a minute ago shows at once. */
    fetch(base + "manifest.webmanifest", { credentials: "same-origin", cache: "no-cache" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (manifest) {
        var meta = document.querySelector('meta[name="theme-color"]');
        if (manifest) if (manifest.theme_color) if (meta) meta.setAttribute("content", manifest.theme_color);
        /* The icons' ?v= (theme version) also busts the apple-touch-icon's day-long cache. */
        var icon = manifest ? (manifest.icons || [])[0] : null;
        var version = icon ? String(icon.src || "").split("?")[1] : "";
        if (version) setHref("apple-touch-icon", base + "icons/apple-touch-icon.png?" + version);
      })
      .catch(function () {});
  }
  function check() {
    var match = pattern.exec(window.location.pathname);
    if (!match) return;
    var base = "/m/" + match[1] + "/";
    if (registeredFor === base) return;
    registeredFor = base;
    setHref("manifest", base + "manifest.webmanifest");
    setHref("apple-touch-icon", base + "icons/apple-touch-icon.png");
    setThemeColour(base);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(base + "sw.js", { scope: base }).catch(function (error) {
        console.warn("Service worker registration failed", error);
      });
    }
  }
  function wrap(name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      check();
      return result;
    };
  }
  wrap("pushState");
  wrap("replaceState");
  window.addEventListener("popstate", check);
  check();
})();
"""


def head_components(default_theme_colour: str | None = None) -> list:
    """Components for ``rx.App(head_components=...)``.

    ``default_theme_colour`` fills <meta name="theme-color"> before the merchant's own colour
    is known (the script replaces it on member pages).
    """
    import reflex as rx  # kept local: the routes and tests of this package do not need Reflex

    colour = default_theme_colour or Theme().primary
    return [
        rx.el.meta(name="viewport", content="width=device-width, initial-scale=1, viewport-fit=cover"),
        rx.el.meta(name="theme-color", content=colour),
        rx.el.meta(name="mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-status-bar-style", content="default"),
        rx.el.link(rel="manifest", href="manifest.webmanifest"),
        rx.el.link(rel="apple-touch-icon", href="icons/apple-touch-icon.png"),
        rx.el.script(REGISTER_SCRIPT),
    ]
