// Entry point: login gate, navigation, page routing.
import { onUnauthorized, session, resetCapabilities } from "./api.js";
import { Router } from "./router.js";
import { stream } from "./ws.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const sessionBox = document.getElementById("session");
const live = document.getElementById("live");

const TITLES = {
  login: "Log in",
  overview: "Overview",
  threats: "Threats",
  threat: "Threat",
  agents: "Agents",
  exposure: "Exposure",
  canaries: "Canaries",
  responses: "Responses",
};

const routes = [
  { name: "login", pattern: /^\/login$/, load: () => import("./pages/login.js"), public: true },
  { name: "overview", pattern: /^\/overview$/, load: () => import("./pages/overview.js") },
  { name: "threats", pattern: /^\/threats$/, load: () => import("./pages/threats.js") },
  { name: "threat", nav: "threats", pattern: /^\/threats\/([^/]+)$/, load: () => import("./pages/threat.js") },
  { name: "agents", pattern: /^\/agents$/, load: () => import("./pages/agents.js") },
  { name: "exposure", pattern: /^\/exposure$/, load: () => import("./pages/exposure.js") },
  { name: "canaries", pattern: /^\/canaries$/, load: () => import("./pages/canaries.js") },
  { name: "responses", pattern: /^\/responses$/, load: () => import("./pages/responses.js") },
];

let first = true;
let afterLogin = "/overview";

const router = new Router(routes, {
  root: main,
  fallback: "/overview",
  onChange(route, path) {
    const loggedIn = Boolean(session.key);
    if (!route.public && !loggedIn) {
      afterLogin = path;
      queueMicrotask(() => router.go("/login"));
      return false;
    }
    nav.hidden = !loggedIn;
    sessionBox.hidden = !loggedIn;
    const current = route.nav || route.name;
    for (const a of nav.querySelectorAll("a")) {
      if (a.dataset.page === current) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    document.title = `${TITLES[route.name] || "MWRASP"} \u2013 MWRASP`;
    // Move focus to the new page (screen readers announce it; Tab continues
    // from the page's top), except on the first load.
    if (!first) main.focus({ preventScroll: true });
    first = false;
    if (loggedIn) stream.start();
  },
});

export function loggedIn() {
  const to = afterLogin && afterLogin !== "/login" ? afterLogin : "/overview";
  afterLogin = "/overview";
  router.go(to);
}

function logout() {
  session.key = null;
  stream.stop();
  resetCapabilities();
  router.go("/login");
}

onUnauthorized(() => {
  // The key was revoked or never worked: back to the login page.
  const path = location.hash.replace(/^#/, "");
  if (path && path !== "/login") afterLogin = path;
  session.key = null;
  stream.stop();
  resetCapabilities();
  sessionStorage.setItem("mwrasp.loginReason", "Your API key was refused (401). Log in again.");
  router.go("/login");
});

stream.onState((state) => {
  live.dataset.state = state;
  live.textContent = state === "live" ? "Live" : state === "polling" ? "Polling" : "";
});

document.getElementById("logout").addEventListener("click", logout);

if (!location.hash) location.replace(`#${session.key ? "/overview" : "/login"}`);
router.resolve();
