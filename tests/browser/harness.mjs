// A minimal test harness over playwright-core and Debian's Chromium: a static server for
// dist/ under a sub-path (so relative asset URLs are exercised), one browser, a fresh
// context per test, and a log of console errors and requests for every page.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
export const DIST = path.join(ROOT, "dist");
export const ARTIFACTS = path.join(ROOT, "test-artifacts");
export const SUBPATH = "/course/notes/playground/";

const MIME = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".css": "text/css", ".wasm": "application/wasm", ".json": "application/json",
  ".svg": "image/svg+xml", ".png": "image/png",
};

/** Serve dist/ at SUBPATH on 127.0.0.1 (random port). */
export function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (!url.pathname.startsWith(SUBPATH)) { res.writeHead(404).end(); return; }
    let rel = decodeURIComponent(url.pathname.slice(SUBPATH.length)) || "index.html";
    const file = path.normalize(path.join(DIST, rel));
    if (!file.startsWith(DIST)) { res.writeHead(403).end(); return; }
    fs.readFile(file, (err, data) => {
      if (err) { if (process.env.LOG404) console.log("404", req.url); res.writeHead(404).end(); return; }
      res.writeHead(200, { "content-type": MIME[path.extname(file)] || "application/octet-stream" });
      res.end(data);
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    resolve({ server, origin: `http://127.0.0.1:${port}`, base: `http://127.0.0.1:${port}${SUBPATH}` });
  }));
}

/** One Chromium; `extra` flags are appended (the WebGPU test adds --enable-unsafe-webgpu,
 * which gives headless Chromium its SwiftShader WebGPU adapter). */
export async function launch(extra = []) {
  // playwright gives every launch a fresh, empty profile directory (the equivalent of a
  // new --user-data-dir), so the flag itself must not be passed
  const args = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", ...extra,
  ];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args, headless: true,
  });
  return { browser };
}

/** A fresh page with logs: console errors, page errors (uncaught exceptions and
 * rejections), dialogs and every request URL. `log.allow` lists patterns of errors a
 * test expects; the runner fails a test on any other. */
export async function openPage(browser, opts = {}) {
  const context = await browser.newContext({
    viewport: opts.viewport || { width: 1200, height: 900 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const log = { errors: [], requests: [], dialogs: [], allow: [] };
  page.on("console", (m) => { if (m.type() === "error") log.errors.push(m.text()); });
  page.on("pageerror", (e) => log.errors.push(String(e)));
  page.on("dialog", (d) => { log.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  context.on("request", (r) => log.requests.push(r.url()));
  context.on("response", (r) => { if (r.status() >= 400) log.errors.push(`HTTP ${r.status()} ${r.url()}`); });
  return { context, page, log };
}

/** Wait until the page is idle after a run (status says Done/Cancelled/Failed). The
 * page never says Done while anything still computes. */
export async function waitDone(page, timeout = 120_000) {
  await page.waitForFunction(() => {
    const s = document.getElementById("status").textContent;
    return window.__app && window.__app.running === 0 && /^(Done|Cancelled|Failed)/.test(s);
  }, null, { timeout });
  return page.evaluate(() => document.getElementById("status").textContent);
}

export function assert(cond, msg) {
  if (!cond) throw new Error("assertion failed: " + msg);
}

/** Screenshot into test-artifacts/ (the whole page, or with `fullPage` false what the
 * viewport shows: the first screen). */
export function shot(page, name, fullPage = true) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}
