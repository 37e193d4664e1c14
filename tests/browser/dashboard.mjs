// Browser tests of the dashboard, and its screenshots: playwright-core
// driving Debian's Chromium (/usr/bin/chromium) against a real mwraspd.
//
//   node tests/browser/dashboard.mjs test        URL KEY
//   node tests/browser/dashboard.mjs screenshots URL KEY OUTDIR
//
// test: every check below must hold; a console error, an uncaught page
// error, a failed request or an HTTP error answer anywhere fails the run
// (the one 401 of the wrong-key login is expected and checked).
//   1. a wrong key stays on the login page with an error (when the daemon
//      checks keys), the right key logs in;
//   2. a threat appears in the live list after events are posted with curl,
//      its detail shows the evidence, Acknowledge changes it and the API
//      (curl) shows it acknowledged;
//   3. keyboard only: the login and the threats page are reached, used and
//      left with Tab / Enter, in a sensible order, each focus visible;
//   4. axe-core (WCAG 2.1 A/AA: labels, contrast, landmarks, ...) on every page;
//   5. a 390x844 phone viewport: no element wider than the viewport on any page.
// Prints "ok: ..." per check and a closing "N passed, M failed" line.
import { execFileSync } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const [mode, base, key, outDir] = process.argv.slice(2);
if (!["test", "screenshots"].includes(mode) || !base || !key || (mode === "screenshots" && !outDir)) {
  console.error("usage: dashboard.mjs test URL KEY | screenshots URL KEY OUTDIR");
  process.exit(2);
}
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const PAGES = ["overview", "threats", "agents", "exposure", "canaries", "responses"];
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

let passed = 0;
let failed = 0;
const ok = (msg) => {
  passed++;
  console.log(`ok: ${msg}`);
};
const bad = (msg) => {
  failed++;
  console.error(`FAIL: ${msg}`);
};
async function check(name, fn) {
  try {
    await fn();
    ok(name);
  } catch (e) {
    bad(`${name}: ${e.message}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// curl, as an operator would (and not the page's own code path).
function curl(...args) {
  // -q first: never read a .curlrc (lib.sh writes one that sends the key).
  return execFileSync("curl", ["-q", "-sS", "--max-time", "20", ...args], { encoding: "utf8" });
}
function apiGet(path) {
  return JSON.parse(curl("-H", `Authorization: Bearer ${key}`, `${base}${path}`));
}

const browser = await chromium.launch({
  executablePath: process.env.MW_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox"],
});

// A page whose problems (console errors, page errors, failed requests,
// HTTP errors) are collected; allow(pred) lets expected ones through once.
async function newPage(viewport, opts = {}) {
  const context = await browser.newContext({ viewport, ...opts });
  context.setDefaultTimeout(10000);
  const page = await context.newPage();
  const problems = [];
  const allowed = [];
  let allowedAlways = null;
  page.allow = (pred) => allowed.push(pred);
  page.allowWhile = (pred) => (allowedAlways = pred); // null to stop
  const isAllowed = (what) => {
    if (allowedAlways && allowedAlways(what)) return true;
    const i = allowed.findIndex((p) => p(what));
    if (i < 0) return false;
    allowed.splice(i, 1);
    return true;
  };
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const what = { kind: "console", text: m.text() };
    if (!isAllowed(what)) problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => {
    // net::ERR_ABORTED is a request cancelled on purpose: by a navigation or
    // reload of the page (the overview refreshes its threat list on a timer,
    // so page.reload() can land on one in flight: a CI run failed on that) or
    // by the app's own AbortController. Every other failure is a problem.
    const why = r.failure()?.errorText || "";
    if (why === "net::ERR_ABORTED") return;
    problems.push(`request failed: ${r.method()} ${r.url()}: ${why}`);
  });
  page.on("response", (r) => {
    if (r.status() < 400) return;
    const what = { kind: "response", status: r.status(), url: r.url() };
    if (!isAllowed(what)) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  page.problems = problems;
  return { context, page };
}

async function login(page, k = key) {
  await page.goto(`${base}/`);
  await page.waitForSelector("#apikey");
  await page.fill("#apikey", k);
  await page.press("#apikey", "Enter");
}

async function gotoPage(page, name) {
  await page.goto(`${base}/#/${name}`);
  await page.waitForFunction((n) => document.querySelector("#nav a[aria-current=page]")?.dataset.page === n, name);
  await page.waitForSelector("main h1");
  // let the first data load (and the charts) settle
  await page.waitForLoadState("networkidle");
}

// Elements that stick out of the viewport horizontally, unless an ancestor
// clips or scrolls them (a wide table inside a scrolling region is fine).
async function overflowing(page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out = [];
    if (document.documentElement.scrollWidth > vw) out.push(`document scrollWidth ${document.documentElement.scrollWidth} > ${vw}`);
    for (const el of document.querySelectorAll("body *")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.right <= vw + 0.5 && r.left >= -0.5) continue;
      let clipped = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (s.overflowX !== "visible" || s.clip !== "auto" || s.clipPath !== "none") {
          const pr = p.getBoundingClientRect();
          if (pr.right <= vw + 0.5 && pr.left >= -0.5) {
            clipped = true;
            break;
          }
        }
      }
      if (getComputedStyle(el).position === "absolute" && el.classList.contains("sr-only")) clipped = true;
      if (!clipped) out.push(`<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} class="${el.className}"> spans ${r.left.toFixed(0)}..${r.right.toFixed(0)}`);
    }
    return out.slice(0, 10);
  });
}

async function axe(page) {
  await page.evaluate(AXE);
  const r = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } })
  );
  return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
}

// What has focus, and whether its focus indicator is visible (an outline
// of at least 2 px, or a box-shadow).
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { desc: "body", visible: false };
    const s = getComputedStyle(el);
    const visible = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== "none";
    const label = el.getAttribute("aria-label") || el.labels?.[0]?.textContent || el.textContent.trim().slice(0, 40);
    return { desc: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} "${label}"`, id: el.id, tag: el.tagName.toLowerCase(), text: el.textContent.trim(), visible };
  });
}

function noProblems(page, where) {
  const p = page.problems.splice(0);
  assert(p.length === 0, `${where}: ${p.join("; ")}`);
}

const authRequired = (() => {
  const code = curl("-o", "/dev/null", "-w", "%{http_code}", `${base}/api/v1/threats?limit=1`);
  return code === "401";
})();

// The stream is used when the daemon's OpenAPI description lists it.
const hasStream = /^ {2}\/api\/v1\/stream:/m.test(curl(`${base}/api/v1/openapi.yaml`));
console.log(`note: /api/v1/stream is ${hasStream ? "" : "not "}offered: the live list ${hasStream ? "must use the WebSocket" : "polls the REST API"}`);

if (mode === "test") {
  // 1. login --------------------------------------------------------------
  {
    const { context, page } = await newPage(DESKTOP);
    await check("the dashboard is served at / with a CSP", async () => {
      const r = await page.goto(`${base}/`);
      assert(r.status() === 200, `status ${r.status()}`);
      const csp = r.headers()["content-security-policy"] || "";
      assert(csp.includes("script-src 'self'"), `Content-Security-Policy: '${csp}'`);
      await page.waitForSelector("#apikey");
      assert(await page.isHidden("#nav"), "navigation shown before login");
      assert((await page.textContent("main h1")).includes("Log in"), "no login heading");
    });
    await check("the API refuses a request without credentials (401)", async () => {
      assert(authRequired, "GET /api/v1/threats without a key was not 401");
    });
    if (authRequired) {
      await check("a wrong API key is refused and stays on the login page", async () => {
        page.allow((w) => w.kind === "response" && w.status === 401);
        page.allow((w) => w.kind === "console" && /401/.test(w.text));
        await page.fill("#apikey", "mwk_this-key-does-not-exist");
        await page.press("#apikey", "Enter");
        await page.waitForFunction(() => /refused/.test(document.querySelector("#login-msg")?.textContent || ""));
        assert((await page.evaluate(() => location.hash)) !== "#/overview", "went on");
        assert(await page.isHidden("#nav"), "navigation shown after a refused key");
        assert(await page.evaluate(() => sessionStorage.getItem("mwrasp.apiKey") === null), "the wrong key was kept");
      });
    } else {
      console.log("note: the daemon does not check API keys (no 401 without one): wrong-key step skipped");
    }
    await check("the right API key logs in to the overview", async () => {
      await page.fill("#apikey", key);
      await page.press("#apikey", "Enter");
      await page.waitForFunction(() => location.hash === "#/overview");
      await page.waitForSelector("#nav:not([hidden])");
      await page.waitForSelector("#chart-eps .uplot");
      assert((await page.textContent("main h1")) === "Overview", "no Overview heading");
      noProblems(page, "login");
    });

    // 2. a live threat, acknowledged -------------------------------------
    const host = `browser-${process.pid}-${Date.now() % 100000}`;
    let threatId = null;
    await check("a threat appears live in the list after events are posted with curl", async () => {
      await page.click('#nav a[data-page="threats"]');
      await page.waitForSelector("#threat-list", { state: "attached" });
      await page.waitForLoadState("networkidle");
      assert((await page.locator(`#threat-list li .meta:has-text("${host}")`).count()) === 0, "threat before any event");
      const lines = [1, 2, 3].map((i) => `<34>Oct 11 22:14:1${i} ${host} sshd[41${i}]: Failed password for root from 203.0.113.${i} port 5211${i} ssh2`).join("\n");
      const t0 = Date.now();
      const out = JSON.parse(curl("-H", `Authorization: Bearer ${key}`, "-H", "Content-Type: text/plain", "--data-binary", lines, `${base}/api/v1/events`));
      assert(out.accepted === 3, `POST /api/v1/events: ${JSON.stringify(out)}`);
      const li = page.locator(`#threat-list li:has(.meta:has-text("${host}"))`);
      await li.waitFor({ timeout: 15000 });
      const via = await li.getAttribute("data-via");
      console.log(`  the threat was in the list ${Date.now() - t0} ms after the POST was answered (via ${via})`);
      if (hasStream) {
        assert(via === "stream", `the daemon has /api/v1/stream but the threat came via ${via}`);
        assert((await page.getAttribute("#live", "data-state")) === "live", "header does not say Live");
      } else {
        assert(via === "rest", `via ${via}`);
      }
      threatId = await li.getAttribute("data-id");
      assert(/^\d+$/.test(threatId), `threat id '${threatId}'`);
      assert((await li.getAttribute("data-status")) === "new", "status not new");
      const live = await page.getAttribute("#threat-list", "aria-live");
      assert(live === "polite", `aria-live=${live}`);
    });
    await check("the threat's detail shows its evidence; Acknowledge sets it, and the API says so", async () => {
      assert(threatId, "no threat from the previous step");
      await page.click(`#threat-list li[data-id="${threatId}"] a`);
      await page.waitForSelector("#evidence pre");
      const ev = await page.locator("#evidence pre").allTextContents();
      assert(ev.length === 3 && ev.every((t) => t.includes(host) && t.includes("Failed password")), `evidence: ${JSON.stringify(ev)}`);
      assert((await page.textContent("#threat-status")) === "new", "status shown is not new");
      await page.click("#btn-acknowledged");
      await page.waitForFunction(() => document.querySelector("#threat-status")?.textContent === "acknowledged");
      assert(await page.isDisabled("#btn-acknowledged"), "Acknowledge still enabled");
      const t = apiGet(`/api/v1/threats/${threatId}`);
      assert(t.status === "acknowledged", `API status ${t.status}`);
      assert(t.host === host, `API host ${t.host}`);
      await page.click('a[href="#/threats"]');
      await page.waitForSelector(`#threat-list li[data-id="${threatId}"][data-status="acknowledged"]`);
      noProblems(page, "threats");
    });

    // 4. axe on every page (logged in) ----------------------------------------
    for (const name of PAGES) {
      await check(`axe-core finds no WCAG 2.1 A/AA or best-practice violation on ${name}`, async () => {
        await gotoPage(page, name);
        const v = await axe(page);
        assert(v.length === 0, v.join(" | "));
        noProblems(page, name);
      });
    }
    await check("axe-core: threat detail page", async () => {
      await page.goto(`${base}/#/threats/${threatId}`);
      await page.waitForSelector("#evidence");
      const v = await axe(page);
      assert(v.length === 0, v.join(" | "));
      noProblems(page, "detail");
    });
    await check("log out goes back to the login page and forgets the key", async () => {
      await page.click("#logout");
      await page.waitForSelector("#apikey");
      assert(await page.evaluate(() => sessionStorage.getItem("mwrasp.apiKey") === null), "key kept");
      const v = await axe(page);
      assert(v.length === 0, `axe on login: ${v.join(" | ")}`);
      noProblems(page, "logout");
    });
    if (authRequired) {
      await check("a key the daemon refuses later (401) sends the page back to the login", async () => {
        // 401s are the point here (and the console lines Chromium prints for them)
        page.allowWhile((w) => (w.kind === "response" && w.status === 401) || (w.kind === "console" && /401/.test(w.text)));
        await page.evaluate(() => sessionStorage.setItem("mwrasp.apiKey", "mwk_revoked-or-made-up"));
        await page.goto(`${base}/#/threats`);
        await page.waitForSelector("#apikey");
        await page.waitForFunction(() => /refused \(401\)/.test(document.querySelector("#login-msg")?.textContent || ""));
        assert(await page.isHidden("#nav"), "navigation still shown");
        assert(await page.evaluate(() => sessionStorage.getItem("mwrasp.apiKey") === null), "the refused key was kept");
        // logging in again returns to the page that was asked for
        await page.fill("#apikey", key);
        await page.press("#apikey", "Enter");
        await page.waitForFunction(() => location.hash === "#/threats");
        page.allowWhile(null);
        await page.waitForSelector("#threat-list li");
        noProblems(page, "401");
      });
    }
    await context.close();
  }

  // 3. keyboard only ------------------------------------------------------------
  {
    const { context, page } = await newPage(DESKTOP);
    await check("keyboard only: login, threats page, filters, a threat, acknowledge", async () => {
      await page.goto(`${base}/`);
      await page.waitForSelector("#apikey");
      const order = [];
      const tab = async (shift = false) => {
        await page.keyboard.press(shift ? "Shift+Tab" : "Tab");
        const f = await focused(page);
        order.push(f.desc);
        assert(f.visible, `focus on ${f.desc} is not visible (focus so far: ${order.join(" > ")})`);
        return f;
      };
      // The login page puts focus in the key field; before it is the skip link.
      let f = await focused(page);
      assert(f.id === "apikey", `focus after load: ${f.desc}`);
      f = await tab(true);
      assert(f.text === "Skip to content", `Shift+Tab from the key field: ${f.desc}`);
      f = await tab();
      assert(f.id === "apikey", `Tab from the skip link: ${f.desc}`);
      await page.keyboard.type(key);
      f = await tab();
      assert(f.tag === "button" && f.text === "Log in", `third Tab: ${f.desc}`);
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => location.hash === "#/overview");
      // A fresh load of the overview (the key stays in this tab): Tab from
      // the top of the page through the header to the Threats link.
      await page.waitForSelector("#chart-eps .uplot");
      await page.waitForLoadState("networkidle");
      await page.reload();
      await page.waitForSelector("#chart-eps .uplot");
      const seen = [];
      for (let i = 0; i < 6; i++) {
        f = await tab();
        seen.push(f.text);
        if (f.text === "Threats") break;
      }
      assert(f.text === "Threats", `Threats link not reached by Tab: ${seen.join(" > ")}`);
      assert(seen[0] === "Skip to content" && seen[1] === "Overview", `header order: ${seen.join(" > ")}`);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#threat-list li");
      // Focus moved to main: next Tabs are the filters, in reading order.
      f = await tab();
      assert(f.id === "f-severity", `after Threats: ${f.desc}`);
      // Choose "high or worse" with the keyboard (the test threats are high).
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("ArrowDown");
      assert((await page.inputValue("#f-severity")) === "2", "severity filter not set by keyboard");
      f = await tab();
      assert(f.id === "f-status", `then: ${f.desc}`);
      f = await tab();
      assert(f.id === "f-host", `then: ${f.desc}`);
      await page.waitForSelector("#threat-list li");
      f = await tab();
      assert(f.tag === "a" && /#\d+/.test(f.text), `first threat link not next: ${f.desc}`);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#evidence");
      for (let i = 0; i < 4 && f.id !== "btn-acknowledged" && f.id !== "btn-resolved"; i++) f = await tab();
      assert(f.id === "btn-acknowledged" || f.id === "btn-resolved", `no status button by Tab: ${f.desc}`);
      const id = await page.evaluate(() => location.hash.split("/").pop());
      await page.keyboard.press("Enter");
      const want = f.id === "btn-acknowledged" ? "acknowledged" : "resolved";
      await page.waitForFunction((w) => document.querySelector("#threat-status")?.textContent === w, want);
      assert(apiGet(`/api/v1/threats/${id}`).status === want, "API disagrees");
      console.log(`  focus order: ${order.join(" > ")}`);
      noProblems(page, "keyboard");
    });
    await context.close();
  }

  // 5. phone ---------------------------------------------------------------------
  {
    const { context, page } = await newPage(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await check("phone 390x844: the login page does not overflow", async () => {
      await page.goto(`${base}/`);
      await page.waitForSelector("#apikey");
      const o = await overflowing(page);
      assert(o.length === 0, o.join("; "));
    });
    await login(page);
    await page.waitForFunction(() => location.hash === "#/overview");
    const ids = apiGet("/api/v1/threats?limit=1").threats.map((t) => t.id);
    for (const name of [...PAGES, ...ids.map((i) => `threats/${i}`)]) {
      await check(`phone 390x844: nothing overflows the viewport on ${name}`, async () => {
        await page.goto(`${base}/#/${name}`);
        await page.waitForSelector("main h1");
        await page.waitForLoadState("networkidle");
        await page.waitForTimeout(300);
        const o = await overflowing(page);
        assert(o.length === 0, o.join("; "));
        noProblems(page, name);
      });
    }
    await context.close();
  }
} else {
  // screenshots ------------------------------------------------------------------
  mkdirSync(outDir, { recursive: true });
  const { context, page } = await newPage(DESKTOP);
  await login(page);
  await page.waitForFunction(() => location.hash === "#/overview");
  // let the overview collect a few metric samples for its charts
  await page.waitForTimeout(12000);
  await page.screenshot({ path: `${outDir}/overview.png`, fullPage: true });
  for (const name of PAGES.slice(1)) {
    await gotoPage(page, name);
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${outDir}/${name}.png`, fullPage: true });
  }
  const top = apiGet("/api/v1/threats?max_severity=2&limit=1").threats[0] || apiGet("/api/v1/threats?limit=1").threats[0];
  if (top) {
    await page.goto(`${base}/#/threats/${top.id}`);
    await page.waitForSelector("#evidence");
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${outDir}/threat.png`, fullPage: false });
  }
  await page.goto(`${base}/#/login`);
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await page.waitForSelector("#apikey");
  await page.screenshot({ path: `${outDir}/login.png` });
  await context.close();
  const phone = await newPage(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
  await login(phone.page);
  await phone.page.waitForFunction(() => location.hash === "#/overview");
  await phone.page.goto(`${base}/#/threats`);
  await phone.page.waitForSelector("#threat-list li");
  await phone.page.waitForTimeout(300);
  await phone.page.screenshot({ path: `${outDir}/phone-threats.png` });
  await phone.context.close();
  const p = page.problems.concat(phone.page.problems);
  if (p.length) bad(`problems while taking screenshots: ${p.join("; ")}`);
  else ok(`screenshots in ${outDir}`);
}

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
