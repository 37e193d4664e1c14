// One threat: its fields, tags, the evidence (newest 20 stored events, raw
// text as received: shown as text, never as HTML), and the status buttons
// (PATCH /api/v1/threats/{id} {"status": ...}).
import { getThreat, setThreatStatus } from "../api.js";
import { errorBox, fmtNum, fmtTime, h } from "../dom.js";
import { severityBadge } from "./threats.js";

// JSON events are shown indented; anything else exactly as received.
function pretty(raw) {
  if (typeof raw !== "string") return "";
  if (raw.trimStart().startsWith("{") && raw.length < 65536) {
    try {
      return JSON.stringify(JSON.parse(raw), null, 2);
    } catch {
      /* not JSON after all */
    }
  }
  return raw;
}

export function mount(root, [id]) {
  const status = h("p", { role: "status", "aria-live": "polite", id: "threat-status-msg", class: "muted" });
  const body = h("div");
  const back = h("p", {}, h("a", { href: "#/threats" }, "\u2190 All threats"));
  root.append(back, h("h1", { id: "threat-title" }, `Threat ${id}`), status, body);
  let stopped = false;

  async function load() {
    try {
      const t = await getThreat(id);
      if (!stopped) show(t);
    } catch (e) {
      if (!stopped) body.replaceChildren(e.status === 404 ? h("p", { class: "empty" }, `There is no threat ${id}.`) : errorBox(e));
    }
  }

  function button(label, to, t) {
    return h(
      "button",
      {
        type: "button",
        class: to === "resolved" ? "btn btn-secondary" : "btn",
        id: `btn-${to}`,
        disabled: t.status === to || (to === "acknowledged" && t.status === "resolved"),
        onclick: async (ev) => {
          const b = ev.currentTarget;
          b.disabled = true;
          try {
            const nt = await setThreatStatus(t.id, to);
            status.textContent = `Threat ${t.id} is now ${nt.status}.`;
            show(nt, true);
            document.getElementById(to === "acknowledged" ? "btn-resolved" : "btn-acknowledged")?.focus();
          } catch (e) {
            b.disabled = false;
            status.replaceChildren(errorBox(e));
          }
        },
      },
      label
    );
  }

  function show(t, keepEvidence = false) {
    document.getElementById("threat-title").textContent = t.title || `Threat ${t.id}`;
    const evidence = keepEvidence ? body.querySelector("#evidence") : null;
    body.replaceChildren(
      h("div", { class: "actions" }, button("Acknowledge", "acknowledged", t), button("Resolve", "resolved", t)),
      h(
        "section",
        { class: "panel", "aria-labelledby": "h-details" },
        h("h2", { id: "h-details" }, "Details"),
        h(
          "dl",
          { class: "kv" },
          h("dt", {}, "Id"),
          h("dd", { class: "mono" }, t.id),
          h("dt", {}, "Status"),
          h("dd", { id: "threat-status" }, t.status),
          h("dt", {}, "Severity"),
          h("dd", {}, severityBadge(t.severity)),
          h("dt", {}, "Confidence"),
          h("dd", {}, fmtNum(t.confidence, 2)),
          h("dt", {}, "Host"),
          h("dd", {}, t.host || "\u2013"),
          h("dt", {}, "Type"),
          h("dd", {}, `${t.type || "\u2013"} (${t.class || "\u2013"})`),
          h("dt", {}, "Detector"),
          h("dd", {}, `${t.detector || "\u2013"}${t.rule_id ? ` \u00b7 rule ${t.rule_id}` : ""}`),
          h("dt", {}, "Detections"),
          h("dd", {}, fmtNum(t.count)),
          h("dt", {}, "First seen"),
          h("dd", {}, fmtTime(t.first_seen)),
          h("dt", {}, "Last seen"),
          h("dd", {}, fmtTime(t.last_seen)),
          h("dt", {}, "Tags"),
          h("dd", {}, (t.tags || []).length ? t.tags.map((x) => h("span", { class: "tag" }, x)) : "\u2013")
        )
      ),
      evidence ||
        h(
          "section",
          { class: "panel", id: "evidence", "aria-labelledby": "h-evidence" },
          h("h2", { id: "h-evidence" }, `Evidence (${(t.evidence || []).length} newest event${(t.evidence || []).length === 1 ? "" : "s"})`),
          (t.evidence || []).length
            ? h(
                "ol",
                { class: "evidence" },
                t.evidence.map((e) =>
                  h(
                    "li",
                    {},
                    h("p", { class: "muted" }, [fmtTime(e.ts), e.source, e.host || "no host", e.category].filter(Boolean).join(" \u00b7 ")),
                    h("pre", {}, pretty(e.raw))
                  )
                )
              )
            : h("p", { class: "muted" }, "No stored events: they may be past events.retention.")
        )
    );
  }

  load();
  return () => {
    stopped = true;
  };
}
