// The service worker: once the page has loaded, it keeps working offline. Every request
// for the page's own files goes to the network first (so a redeployed page is picked up
// at once) and falls back to the cached copy when the network fails. The page shell is
// cached at install; Trunk builds without file hashes, so the list is fixed. Of the two
// wasm builds it caches the one the page runs, which the page names in this script's URL
// (`sw.js?wasm=relaxed/scaling-playground_bg.wasm`, from www/wasm-build.js).
// Paths are relative to this file, which sits at the root of dist/ (any sub-path).
const CACHE = "scaling-playground-shell-v4";
const WASM_BUILDS = ["scaling-playground_bg.wasm", "relaxed/scaling-playground_bg.wasm"];
const asked = new URL(self.location.href).searchParams.get("wasm");
const SHELL = [
  "./", "index.html", "scaling-playground.js", WASM_BUILDS.includes(asked) ? asked : WASM_BUILDS[0],
  "style.css", "uPlot.min.css", "vendor/uPlot.iife.min.js",
  "www/app.js", "www/wasm-build.js", "www/core.js", "www/state.js", "www/words.js", "www/pool.js", "www/runner.js",
  "www/plot.js", "www/ui.js", "www/setup.js", "www/kinds.js", "www/kinds-richness.js", "www/panels.js",
  "www/panel-common.js", "www/panel-train.js", "www/panel-sweeps.js", "www/panel-theory.js",
  "www/panel-engines.js", "www/panel-scaling.js", "www/panel-transformer.js", "www/worker.js",
];

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (ev) => {
  const req = ev.request;
  if (req.method !== "GET" || new URL(req.url).origin !== self.location.origin) return;
  ev.respondWith(fetch(req).then((res) => {
    if (res.ok && res.type === "basic") {
      const copy = res.clone();
      ev.waitUntil(caches.open(CACHE).then((c) => c.put(req, copy)));
    }
    return res;
  }).catch(() => caches.match(req, { ignoreSearch: true })
    .then((hit) => hit || caches.match(new URL("./", self.location).href))
    .then((hit) => hit || Response.error())));
});
