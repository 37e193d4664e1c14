// Agents: the hierarchy as a tree with trust scores, from GET /api/v1/agents
// when the daemon has that route (looked up in its OpenAPI description).
// Until the agents module exists the page says so instead of guessing.
import { api, capabilities } from "../api.js";
import { emptyState, errorBox, fmtNum, h } from "../dom.js";

/** Builds a forest from a flat list [{id, parent|parent_id, ...}]. */
export function forest(agents) {
  const byId = new Map(agents.map((a) => [String(a.id), { ...a, children: [] }]));
  const roots = [];
  for (const a of byId.values()) {
    const p = a.parent ?? a.parent_id ?? null;
    const parent = p === null || p === undefined ? null : byId.get(String(p));
    if (parent && parent !== a) parent.children.push(a);
    else roots.push(a);
  }
  return roots;
}

// A width set through the CSSOM (the CSP refuses style="" attributes).
function bar(pct) {
  const el = h("span");
  el.style.width = `${(pct * 100).toFixed(0)}%`;
  return el;
}

function node(a) {
  const trust = typeof a.trust === "number" ? a.trust : typeof a.trust_score === "number" ? a.trust_score : null;
  const pct = trust === null ? null : Math.max(0, Math.min(1, trust > 1 ? trust / 100 : trust));
  return h(
    "li",
    {},
    h("span", { class: "mono" }, a.name || a.id),
    a.role ? h("span", { class: "muted" }, ` (${a.role})`) : null,
    pct === null
      ? null
      : [
          h("span", { class: "trust", role: "img", "aria-label": `trust ${fmtNum(pct * 100)} percent` }, bar(pct)),
          h("span", {}, `trust ${fmtNum(pct, 2)}`),
        ],
    a.status ? h("span", { class: "muted" }, ` \u00b7 ${a.status}`) : null,
    a.children.length ? h("ul", {}, a.children.map(node)) : null
  );
}

export function mount(root) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading\u2026"));
  root.append(h("h1", {}, "Agents"), body);
  let stopped = false;
  (async () => {
    try {
      const caps = await capabilities();
      if (stopped) return;
      if (!caps.has("/api/v1/agents")) {
        body.replaceChildren(
          emptyState(
            "No agents yet: this daemon has no agents API (GET /api/v1/agents is not in its OpenAPI description).",
            "The agent hierarchy and trust scores appear here once the agents module is built."
          )
        );
        return;
      }
      const r = await api("/api/v1/agents");
      if (stopped) return;
      const list = Array.isArray(r) ? r : r.agents || [];
      body.replaceChildren(
        list.length
          ? h("section", { class: "panel", "aria-labelledby": "h-tree" }, h("h2", { id: "h-tree" }, `Hierarchy (${list.length} agents)`), h("ul", { class: "tree" }, forest(list).map(node)))
          : emptyState("No agents have registered with this daemon.")
      );
    } catch (e) {
      if (!stopped) body.replaceChildren(errorBox(e));
    }
  })();
  return () => {
    stopped = true;
  };
}
