/* Service worker of one merchant's member app (scope /m/<slug>/), served by
 * loyalty_app.pwa at /m/<slug>/sw.js with this merchant's CONFIG filled in.
 *
 * - install: cache the offline page and the icons (must succeed), then warm the member card
 *   and home pages with the build files of every member route (best effort);
 * - /assets/* (hashed build files): cache first;
 * - navigations inside the scope: network first, cached copy when offline, else the branded
 *   offline page; the merchant's public brand files (theme.css, logo/reward images): network
 *   first, cached copy when offline;
 * - everything else (the API, the /_event websocket, uploads, other origins): not touched.
 * CacheStorage is shared by every merchant on this origin, so a worker only ever deletes caches
 * under its own prefix.
 */
"use strict";

const CONFIG = /*__CONFIG__*/{};
/* The server answers "Vary: Origin", and module scripts are fetched with an Origin header
 * while the worker's own fetches are not: without ignoreVary those would never match. */
const MATCH = { ignoreVary: true };

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CONFIG.cache);
      await cache.addAll(CONFIG.shell.map((url) => new Request(url, { cache: "reload" })));
      await Promise.all(CONFIG.warm.map((url) => warmPage(cache, url)));
      await self.skipWaiting();
    })()
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith(CONFIG.cachePrefix) && name !== CONFIG.cache)
          .map((name) => caches.delete(name))
      );
      await self.clients.claim();
    })()
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (CONFIG.neverCache.some((prefix) => url.pathname.startsWith(prefix))) return;
  if (url.pathname.startsWith("/assets/")) {
    event.respondWith(cacheFirst(event, request));
    return;
  }
  if (!url.pathname.startsWith(CONFIG.scope)) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(event, request));
    return;
  }
  if (CONFIG.shell.includes(url.pathname + url.search)) {
    event.respondWith(cacheFirst(event, request));
    return;
  }
  if (CONFIG.brandFiles.some((prefix) => url.pathname.startsWith(prefix))) {
    event.respondWith(networkFirst(event, request));
  }
});

/* Only complete, same-origin, non-redirected answers that allow storing are cached. */
function cacheable(response) {
  if (!response || !response.ok || response.type !== "basic" || response.redirected) return false;
  return !/no-store/i.test(response.headers.get("Cache-Control") || "");
}

/* Cached under the path only, so ?query variants share one offline copy. */
function pageKey(url) {
  const parsed = new URL(url);
  return parsed.origin + parsed.pathname;
}

async function warmPage(cache, url) {
  try {
    const response = await fetch(new Request(url, { cache: "reload", credentials: "same-origin" }));
    if (!cacheable(response)) return;
    await cache.put(pageKey(response.url || url), response.clone());
    await precacheBuild(cache, await response.text());
  } catch (error) {
    /* best effort: the page is cached on the first online visit instead */
  }
}

/* Cache the build files every member page needs, so a cached page also starts offline.
 * A page's HTML only preloads the root modules; each route's module is imported later, and
 * React Router reloads the page in a loop when that import fails. So the route manifest
 * (/assets/manifest-<hash>.js) is read and the modules of the member routes (m/:slug/...)
 * cached too. The manifest is stored last: its presence means "this build is complete".
 * When a new build shows up, files of older builds are dropped. */
async function precacheBuild(cache, html) {
  const pageAssets = html.match(/\/assets\/[^"'\s)<>]+/g) || [];
  const manifestPath = pageAssets.find((path) => /^\/assets\/manifest-[^/]*\.js$/.test(path));
  const wanted = new Set(pageAssets);
  let manifestResponse = null;
  if (manifestPath) {
    if (await cache.match(manifestPath, MATCH)) return;
    manifestResponse = await fetch(manifestPath);
    if (!cacheable(manifestResponse)) return;
    for (const path of routeAssets(await manifestResponse.clone().text())) wanted.add(path);
    wanted.delete(manifestPath);
  }
  await Promise.all(
    Array.from(wanted).map(async (path) => {
      if (await cache.match(path, MATCH)) return;
      try {
        const response = await fetch(path);
        if (cacheable(response)) await cache.put(path, response);
      } catch (error) {
        /* best effort: cached on first use instead */
      }
    })
  );
  if (!manifestResponse) return;
  await cache.put(manifestPath, manifestResponse);
  wanted.add(manifestPath);
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/assets/") && !wanted.has(path)) await cache.delete(request);
  }
}

/* Module, imports and CSS of the entry, the root route and every member route. */
function routeAssets(manifestText) {
  const paths = [];
  try {
    const manifest = JSON.parse(manifestText.slice(manifestText.indexOf("=") + 1).trim().replace(/;$/, ""));
    const parts = [manifest.entry];
    for (const route of Object.values(manifest.routes || {})) {
      if (route.id === "root" || (route.path || "").startsWith("m/:slug")) parts.push(route);
    }
    for (const part of parts) {
      if (!part) continue;
      if (part.module) paths.push(part.module);
      paths.push(...(part.imports || []), ...(part.css || []));
    }
  } catch (error) {
    /* an unknown manifest format: fall back to every build file it names */
    paths.push(...(manifestText.match(/\/assets\/[^"'\s)<>]+/g) || []));
  }
  return paths.filter((path) => path.startsWith("/assets/"));
}

async function cacheFirst(event, request) {
  const cache = await caches.open(CONFIG.cache);
  const hit = await cache.match(request, MATCH);
  if (hit) return hit;
  const response = await fetch(request);
  if (cacheable(response)) event.waitUntil(cache.put(request, response.clone()));
  return response;
}

/* Network first; offline (or a 5xx), the cached copy; for a page without one, the offline page. */
async function networkFirst(event, request) {
  const cache = await caches.open(CONFIG.cache);
  const key = pageKey(request.url);
  try {
    const response = await fetch(request);
    if (response.status >= 500) {
      const stale = await cache.match(key, MATCH);
      if (stale) return stale;
    }
    if (cacheable(response)) {
      const copy = response.clone();
      const isPage = /text\/html/i.test(response.headers.get("Content-Type") || "");
      event.waitUntil(
        (async () => {
          await cache.put(key, copy.clone());
          if (isPage) await precacheBuild(cache, await copy.text());
        })().catch(() => {})
      );
    }
    return response;
  } catch (error) {
    const cached = await cache.match(key, MATCH);
    if (cached) return cached;
    if (request.mode === "navigate") return (await cache.match(CONFIG.offline, MATCH)) || Response.error();
    return Response.error();
  }
}
