// The API client: every call to the daemon goes through api() here, with the
// API key the user typed at login (kept in sessionStorage, so it is gone when
// the tab closes, and never in the URL). A 401 anywhere sends the user back
// to the login page (see main.js).

const KEY_NAME = "mwrasp.apiKey";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_NAME);
  },
  set key(v) {
    if (v) sessionStorage.setItem(KEY_NAME, v);
    else sessionStorage.removeItem(KEY_NAME);
  },
};

const listeners = new Set();
/** onUnauthorized(fn): fn() is called when the daemon answers 401. */
export function onUnauthorized(fn) {
  listeners.add(fn);
}

function authHeaders(key = session.key) {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/**
 * api(path, {method, body, key, signal}) -> parsed JSON (or text for non-JSON
 * answers). Throws ApiError(status, code, message) on any non-2xx answer,
 * with the daemon's {"error": {"code", "message"}} when it sent one.
 */
export async function api(path, { method = "GET", body, key, signal, text = false } = {}) {
  const headers = { Accept: text ? "*/*" : "application/json", ...authHeaders(key ?? session.key) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let r;
  try {
    r = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "network", "the daemon cannot be reached");
  }
  const ctype = r.headers.get("content-type") || "";
  let data = null;
  if (ctype.includes("json")) data = await r.json().catch(() => null);
  else data = await r.text();
  if (!r.ok) {
    const err = data && typeof data === "object" && data.error ? data.error : {};
    const e = new ApiError(r.status, err.code || `http_${r.status}`, err.message || r.statusText);
    if (r.status === 401 && key === undefined) for (const fn of listeners) fn(e);
    throw e;
  }
  return data;
}

// ---- what this daemon offers -------------------------------------------------
// Routes that other work adds over time (agents, stream, canaries, responses)
// are looked up in the daemon's own OpenAPI description, so the dashboard
// never calls a route that is not there (a 404 would be a console error).
let capsPromise = null;

export function capabilities() {
  if (!capsPromise) {
    capsPromise = api("/api/v1/openapi.yaml", { text: true })
      .then((yaml) => {
        const paths = new Set();
        for (const m of String(yaml).matchAll(/^ {2}(\/[^\s:]*):\s*$/gm)) paths.add(m[1]);
        return { paths, has: (p) => paths.has(p) };
      })
      .catch((e) => {
        capsPromise = null;
        throw e;
      });
  }
  return capsPromise;
}

export function resetCapabilities() {
  capsPromise = null;
}

// ---- threats -------------------------------------------------------------------
export const SEVERITIES = [
  { n: 1, name: "critical" },
  { n: 2, name: "high" },
  { n: 3, name: "medium" },
  { n: 4, name: "low" },
  { n: 5, name: "informational" },
];
export const STATUSES = ["new", "acknowledged", "responding", "resolved"];

export function listThreats(filters = {}, signal) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v !== "" && v !== undefined && v !== null) q.set(k, v);
  const qs = q.toString();
  return api(`/api/v1/threats${qs ? `?${qs}` : ""}`, { signal });
}

export function getThreat(id, signal) {
  return api(`/api/v1/threats/${encodeURIComponent(id)}`, { signal });
}

export function setThreatStatus(id, status) {
  return api(`/api/v1/threats/${encodeURIComponent(id)}`, { method: "PATCH", body: { status } });
}

export function metrics(signal) {
  return api("/api/v1/metrics", { signal });
}
