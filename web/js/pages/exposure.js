// Exposure: per-service quantum exposure from GET /api/v1/exposure (services
// most exposed first; docs/exposure.md). A class filter maps to ?class=.
import { api } from "../api.js";
import { emptyState, errorBox, fmtBytes, fmtNum, h } from "../dom.js";

const CLASSES = ["classical", "pq-hybrid", "pq-only", "unknown"];

export function mount(root) {
  const sel = h("select", { id: "f-class", name: "class" }, h("option", { value: "" }, "Any class"), CLASSES.map((c) => h("option", { value: c }, c)));
  const body = h("div", {}, h("p", { class: "muted" }, "Loading\u2026"));
  root.append(
    h("h1", {}, "Quantum exposure"),
    h("p", { class: "muted" }, "Services seen in captures and live traffic, by the key exchange of their sessions. A classical key exchange can be recorded now and decrypted later (harvest now, decrypt later)."),
    h("form", { class: "panel filters", role: "search", "aria-label": "Filter services", onsubmit: (e) => e.preventDefault() }, h("div", { class: "field" }, h("label", { for: "f-class" }, "Class"), sel)),
    body
  );
  let stopped = false;
  async function load() {
    try {
      const r = await api(`/api/v1/exposure${sel.value ? `?class=${encodeURIComponent(sel.value)}` : ""}`);
      if (stopped) return;
      const services = Array.isArray(r) ? r : r.services || [];
      if (!services.length) {
        body.replaceChildren(emptyState("No services seen yet. Upload a capture (POST /api/v1/exposure/pcap) or set exposure.interfaces for live capture."));
        return;
      }
      body.replaceChildren(
        h(
          "section",
          { class: "panel", "aria-labelledby": "h-services" },
          h("h2", { id: "h-services" }, `${services.length} service${services.length === 1 ? "" : "s"}`),
          h(
            "div",
            { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Services table (scrolls sideways)" },
            h(
              "table",
              {},
              h("thead", {}, h("tr", {}, ["Service", "Protocol", "Class", "Key exchange", "Sessions", "Exposed", "Severity"].map((c, i) => h("th", { scope: "col", class: i >= 4 && i < 6 ? "num" : null }, c)))),
              h(
                "tbody",
                {},
                services.map((s) => {
                  const sessions = s.sessions ? Object.values(s.sessions).reduce((a, b) => a + b, 0) : null;
                  return h(
                    "tr",
                    {},
                    h("td", {}, h("span", { class: "mono" }, s.service), s.sni && !String(s.service).includes(s.sni) ? h("div", { class: "muted" }, s.sni) : null, (s.tags || []).map((t) => h("span", { class: "tag" }, t))),
                    h("td", {}, s.protocol || "\u2013"),
                    h("td", {}, s.class || "\u2013"),
                    h("td", {}, [...(s.kex || []), ...(s.groups || []).map((g) => g.name || g.code)].join(", ") || "\u2013"),
                    h("td", { class: "num" }, fmtNum(sessions)),
                    h("td", { class: "num" }, fmtBytes(s.exposed_bytes)),
                    h("td", {}, s.exposed ? s.severity || "exposed" : "not exposed")
                  );
                })
              )
            )
          )
        )
      );
    } catch (e) {
      if (stopped) return;
      body.replaceChildren(e.status === 503 ? emptyState("The exposure scanner is not running on this daemon.") : errorBox(e));
    }
  }
  sel.addEventListener("change", load);
  load();
  return () => {
    stopped = true;
  };
}
