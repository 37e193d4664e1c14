// Threats: the live list. New threats come from the stream's "threats" topic
// when it is live, otherwise from GET /api/v1/threats every 2 s; either way
// rows are merged by id (new ones on top, changed ones updated in place) so
// that focus and the screen reader's place are kept. Filters map to the
// API's query parameters (max_severity, status, host).
import { SEVERITIES, STATUSES, listThreats } from "../api.js";
import { errorBox, fmtNum, fmtTime, h } from "../dom.js";
import { stream } from "../ws.js";

const POLL_MS = 2000;
const MAX_ROWS = 200;
const saved = { max_severity: "", status: "", host: "" }; // kept while the tab lives

export function sevName(n) {
  return SEVERITIES.find((s) => s.n === n)?.name ?? `severity ${n}`;
}

export function severityBadge(n) {
  return h("span", { class: `sev sev-${n}` }, sevName(n));
}

function row(t, via) {
  const li = h("li", { class: "threat", dataset: { id: t.id, via } });
  fill(li, t);
  return li;
}

function fill(li, t) {
  li.dataset.status = t.status;
  li.dataset.lastSeen = t.last_seen;
  li.replaceChildren(
    h(
      "a",
      { href: `#/threats/${encodeURIComponent(t.id)}` },
      severityBadge(t.severity),
      h("span", { class: "title" }, t.title || t.rule_id || `threat ${t.id}`),
      h("span", { class: "status" }, t.status),
      h(
        "span",
        { class: "meta" },
        `#${t.id} \u00b7 ${t.host || "no host"} \u00b7 ${fmtNum(t.count)} detection${t.count === 1 ? "" : "s"} \u00b7 last seen ${fmtTime(t.last_seen)}`
      )
    )
  );
}

function matches(t, f) {
  if (f.max_severity && t.severity > Number(f.max_severity)) return false;
  if (f.status && t.status !== f.status) return false;
  if (f.host && t.host !== f.host) return false;
  return true;
}

export function mount(root) {
  const f = saved;
  const sevSel = h(
    "select",
    { id: "f-severity", name: "max_severity" },
    h("option", { value: "" }, "Any severity"),
    SEVERITIES.map((s) => h("option", { value: String(s.n) }, s.n === 5 ? "informational" : `${s.name} or worse`))
  );
  const stSel = h("select", { id: "f-status", name: "status" }, h("option", { value: "" }, "Any status"), STATUSES.map((s) => h("option", { value: s }, s)));
  const hostIn = h("input", { id: "f-host", name: "host", type: "text", autocomplete: "off", placeholder: "exact host name" });
  sevSel.value = f.max_severity;
  stSel.value = f.status;
  hostIn.value = f.host;

  const list = h("ul", { class: "threats", id: "threat-list", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Threats, newest first" });
  const count = h("p", { class: "muted", id: "threat-count", role: "status" });
  const errors = h("div");
  const empty = h("p", { class: "empty", hidden: true }, "No threats match these filters yet. New ones appear here as they are detected.");

  root.append(
    h("h1", {}, "Threats"),
    h(
      "form",
      { class: "panel filters", role: "search", "aria-label": "Filter threats", onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field" }, h("label", { for: "f-severity" }, "Severity"), sevSel),
      h("div", { class: "field" }, h("label", { for: "f-status" }, "Status"), stSel),
      h("div", { class: "field" }, h("label", { for: "f-host" }, "Host"), hostIn)
    ),
    errors,
    h("section", { class: "panel", "aria-labelledby": "h-list" }, h("h2", { id: "h-list" }, "Live list"), count, empty, list)
  );

  const rows = new Map(); // id -> li
  let stopped = false;
  let timer = null;
  let gen = 0; // bumps when filters change, so late answers of old filters are dropped

  // via: "stream" or "rest", kept on each row (the browser test checks
  // that a new threat came through the stream when there is one).
  function render(threats, { replace = false, fresh = true, via = "rest" } = {}) {
    if (replace) {
      rows.clear();
      list.replaceChildren();
    }
    // threats come newest first; insert the new ones on top in that order.
    let anchor = list.firstChild;
    for (const t of threats) {
      if (!matches(t, f)) {
        const old = rows.get(t.id);
        if (old) {
          old.remove();
          rows.delete(t.id);
        }
        continue;
      }
      const old = rows.get(t.id);
      if (old) {
        if (old.dataset.status !== t.status || old.dataset.lastSeen !== t.last_seen) fill(old, t);
        continue;
      }
      const li = row(t, via);
      if (fresh && !replace) li.classList.add("fresh");
      rows.set(t.id, li);
      list.insertBefore(li, anchor);
    }
    while (list.children.length > MAX_ROWS) {
      const last = list.lastElementChild;
      rows.delete(last.dataset.id);
      last.remove();
    }
    empty.hidden = rows.size > 0;
    count.textContent = `${rows.size} threat${rows.size === 1 ? "" : "s"} shown${stream.live ? ", live" : ", refreshed every 2 s"}.`;
  }

  async function load(replace) {
    const my = gen;
    try {
      const r = await listThreats({ ...f, limit: 100 });
      if (stopped || my !== gen) return;
      render(r.threats || [], { replace });
      errors.replaceChildren();
    } catch (e) {
      if (!stopped) errors.replaceChildren(errorBox(e));
    }
  }

  async function poll() {
    if (stopped) return;
    if (!stream.live) await load(false);
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }

  function applyFilters() {
    f.max_severity = sevSel.value;
    f.status = stSel.value;
    f.host = hostIn.value.trim();
    gen++;
    load(true);
  }
  sevSel.addEventListener("change", applyFilters);
  stSel.addEventListener("change", applyFilters);
  hostIn.addEventListener("change", applyFilters);

  const unsub = stream.subscribe("threats", (msg) => {
    const t = msg.threat || msg.data;
    if (t && t.id) render([t], { via: "stream" });
  });
  load(true).then(() => {
    timer = setTimeout(poll, POLL_MS);
  });

  return () => {
    stopped = true;
    clearTimeout(timer);
    unsub();
  };
}
