/* Small client-side touches that need no server round trip:
   - [data-count-to="N"]: the number counts up (or down) to N when it changes, formatted for the
     page language. React only sets the attribute; this script owns the element's text.
   - [data-countdown-to="ISO date"]: a live "2d 04:12:09" countdown, ticking every second.
   Both respect prefers-reduced-motion (no animation, the final value at once). */
(function () {
  "use strict";
  var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  function fmt(n) {
    try { return new Intl.NumberFormat(document.documentElement.lang || undefined).format(n); }
    catch (e) { return String(n); }
  }
  function countTo(el) {
    var target = parseInt(el.getAttribute("data-count-to"), 10);
    if (isNaN(target)) return;
    var from = el.__shown;
    el.__shown = target;
    if (from === undefined || reduce || from === target) { el.textContent = fmt(target); return; }
    var start = performance.now(), ms = 900;
    cancelAnimationFrame(el.__raf);
    (function step(t) {
      var k = Math.min(1, (t - start) / ms), eased = 1 - Math.pow(1 - k, 3);
      el.textContent = fmt(Math.round(from + (target - from) * eased));
      if (k < 1) el.__raf = requestAnimationFrame(step);
    })(start);
  }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown-to]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("data-countdown-to"));
      if (isNaN(end)) return;
      var s = Math.max(0, Math.floor((end - now) / 1000));
      var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
      var text = (d > 0 ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s % 60);
      if (el.textContent !== text) el.textContent = text;
    });
  }
  function scan(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-count-to]").forEach(countTo);
  }
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      if (r.type === "attributes" && r.target.hasAttribute("data-count-to")) countTo(r.target);
      else r.addedNodes.forEach(function (n) {
        if (n.nodeType !== 1) return;
        if (n.hasAttribute("data-count-to")) countTo(n);
        scan(n);
      });
    });
  }).observe(document.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-count-to"] });
  document.addEventListener("DOMContentLoaded", function () { scan(document); tick(); });
  setInterval(tick, 1000);
})();
