// Overview: events/s, threats by severity over time, detection latency.
// Sources: GET /api/v1/metrics every 2 s (counters; rates and latency
// quantiles come from the difference of two samples), or the stream's
// "metrics" topic when it is live; GET /api/v1/threats?since=1h for the
// severity chart (threats bucketed by first_seen, one bucket per minute).
import { SEVERITIES, listThreats, metrics } from "../api.js";
import { lineChart } from "../charts.js";
import { errorBox, fmtNum, fmtSeconds, h } from "../dom.js";
import { stream } from "../ws.js";

const WINDOW = 300; // seconds of history kept for the rate and latency charts
const SEV_COLORS = ["#9b1c1c", "#9a3412", "#b7791f", "#1e4fa8", "#4b5563"];

function sum(obj) {
  return Object.values(obj || {}).reduce((a, b) => a + (typeof b === "number" ? b : 0), 0);
}

/**
 * Quantile q of the observations made between two snapshots of the latency
 * histogram of GET /api/v1/metrics ({buckets: [{le, count}]}, count per
 * bucket, not cumulative), interpolated linearly inside the bucket that holds
 * the rank; in the +Inf bucket, its lower bound (the largest finite le).
 * null when nothing was observed.
 */
export function histQuantile(prev, cur, q) {
  if (!cur?.buckets) return null;
  const counts = cur.buckets.map((b, i) => b.count - (prev?.buckets?.[i]?.count ?? 0));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  let lo = 0;
  for (let i = 0; i < counts.length; i++) {
    const le = cur.buckets[i].le;
    if (typeof le !== "number") return lo; // +Inf
    const hi = le;
    if (seen + counts[i] >= rank) {
      const frac = counts[i] ? (rank - seen) / counts[i] : 1;
      return lo + (hi - lo) * frac;
    }
    seen += counts[i];
    lo = hi;
  }
  return lo;
}

function stat(label, id) {
  const v = h("span", { class: "value", id }, "\u2013");
  return [h("div", { class: "stat" }, h("span", { class: "label" }, label), v), v];
}

export function mount(root) {
  const [sEps, vEps] = stat("Events per second", "stat-eps");
  const [sOpen, vOpen] = stat("Threats in the last hour", "stat-threats");
  const [sP50, vP50] = stat("Detection latency p50", "stat-p50");
  const [sP99, vP99] = stat("Detection latency p99", "stat-p99");
  const status = h("div", { role: "status", "aria-live": "polite", class: "sr-only" });
  const errors = h("div");
  const cRate = h("div", { class: "chart", id: "chart-eps", role: "img", "aria-label": "Events per second, last 5 minutes" });
  const cSev = h("div", { class: "chart", id: "chart-severity", role: "img", "aria-label": "Threats by severity per minute, last hour" });
  const cLat = h("div", { class: "chart", id: "chart-latency", role: "img", "aria-label": "Detection latency p50 and p99, last 5 minutes" });
  root.append(
    h("h1", {}, "Overview"),
    errors,
    h("section", { "aria-label": "Current figures", class: "stats" }, sEps, sOpen, sP50, sP99),
    h(
      "div",
      { class: "grid" },
      h("section", { class: "panel", "aria-labelledby": "h-eps" }, h("h2", { id: "h-eps" }, "Events per second"), cRate),
      h("section", { class: "panel", "aria-labelledby": "h-lat" }, h("h2", { id: "h-lat" }, "Detection latency"), cLat)
    ),
    h("section", { class: "panel", "aria-labelledby": "h-sev" }, h("h2", { id: "h-sev" }, "Threats by severity"), cSev),
    status
  );

  const rate = lineChart(cRate, { series: [{ label: "events/s", stroke: "#0a4fbf" }], yLabel: "events/s" });
  const lat = lineChart(cLat, {
    series: [
      { label: "p50", stroke: "#166534" },
      { label: "p99", stroke: "#9a3412" },
    ],
    yLabel: "ms",
  });
  const sev = lineChart(cSev, {
    // drawn informational first, critical last: the most severe line is on
    // top where several share a minute
    series: SEVERITIES.map((s, i) => ({ label: s.name, stroke: SEV_COLORS[i] })).reverse(),
    yLabel: "threats/min",
    height: 240,
    stepped: true,
  });

  const hist = { t: [], eps: [], p50: [], p99: [] };
  let prev = null;
  let prevT = 0;
  let stopped = false;

  // One point: events/s and latency quantiles (seconds, or null).
  function point(t, eps, p50, p99) {
    hist.t.push(t);
    hist.eps.push(eps);
    hist.p50.push(p50 === null ? null : p50 * 1e3);
    hist.p99.push(p99 === null ? null : p99 * 1e3);
    while (hist.t.length && hist.t[0] < t - WINDOW) for (const k of Object.keys(hist)) hist[k].shift();
    rate.set([hist.t, hist.eps]);
    lat.set([hist.t, hist.p50, hist.p99]);
    vEps.textContent = fmtNum(eps, eps < 10 ? 1 : 0);
    vP50.textContent = p50 === null ? "\u2013" : fmtSeconds(p50);
    vP99.textContent = p99 === null ? "\u2013" : fmtSeconds(p99);
  }

  // A sample of GET /api/v1/metrics: counters, so rates come from two samples.
  function onMetrics(m, t = Date.now() / 1000) {
    if (prev && t > prevT) {
      const dt = t - prevT;
      point(
        t,
        Math.max(0, (sum(m.events_in) - sum(prev.events_in)) / dt),
        histQuantile(prev.latency, m.latency, 0.5),
        histQuantile(prev.latency, m.latency, 0.99)
      );
    }
    prev = m;
    prevT = t;
  }

  async function pollMetrics() {
    if (stopped) return;
    if (!stream.live) {
      try {
        const m = await metrics();
        if (stopped) return;
        onMetrics(m);
        errors.replaceChildren();
      } catch (e) {
        if (e.name !== "AbortError") errors.replaceChildren(errorBox(e));
      }
    }
    if (!stopped) timers.metrics = setTimeout(pollMetrics, 2000);
  }

  async function pollSeverity() {
    if (stopped) return;
    const now = Date.now();
    const since = new Date(now - 3600e3).toISOString();
    try {
      const r = await listThreats({ since, limit: 1000 });
      if (stopped) return;
      const start = Math.floor((now - 3600e3) / 60e3) * 60;
      const xs = [];
      for (let i = 0; i <= 60; i++) xs.push(start + i * 60);
      const ys = SEVERITIES.map(() => xs.map(() => 0));
      for (const t of r.threats || []) {
        const ts = Date.parse(t.first_seen) / 1000;
        const i = Math.floor((ts - start) / 60);
        if (i >= 0 && i < xs.length && t.severity >= 1 && t.severity <= 5) ys[t.severity - 1][i]++;
      }
      sev.set([xs, ...ys.reverse()]);
      vOpen.textContent = fmtNum((r.threats || []).length) + (r.next_cursor ? "+" : "");
      status.textContent = `Updated ${new Date().toLocaleTimeString("en-GB")}`;
    } catch (e) {
      if (e.name !== "AbortError") errors.replaceChildren(errorBox(e));
    }
    if (!stopped) timers.sev = setTimeout(pollSeverity, 10000);
  }

  const timers = {};
  // The stream's metrics message (once per second) has the rates already.
  const unsub = stream.subscribe("metrics", (msg) => {
    if (typeof msg.events_in_per_s !== "number") return;
    const lat = msg.detection_latency || {};
    const ms = (v) => (typeof v === "number" ? v / 1e3 : null);
    point((msg.published_ns ? msg.published_ns / 1e9 : Date.now() / 1000), msg.events_in_per_s, ms(lat.p50_ms), ms(lat.p99_ms));
    prev = null; // the next REST sample (if the stream goes down) starts afresh
  });
  pollMetrics();
  pollSeverity();

  return () => {
    stopped = true;
    unsub();
    for (const t of Object.values(timers)) clearTimeout(t);
    rate.destroy();
    lat.destroy();
    sev.destroy();
  };
}
