// Thin wrapper over uPlot (vendor/uPlot.iife.min.js, copied from npm by the
// build; a global `uPlot`). Charts follow their container's width.
import { h } from "./dom.js";

export function chartsAvailable() {
  return typeof window.uPlot === "function";
}

/**
 * lineChart(container, {title, series: [{label, stroke}], yLabel, height})
 * -> {set(data), destroy()}; data is uPlot's [xs, ys1, ys2, ...] (x in seconds).
 */
export function lineChart(container, { title, series, yLabel, height = 220, stacked = false, stepped = false }) {
  if (!chartsAvailable()) {
    const note = h("p", { class: "muted" }, "Charts are unavailable (uPlot was not copied into the build: run make).");
    container.appendChild(note);
    return { set() {}, destroy() {} };
  }
  const width = () => Math.max(200, Math.floor(container.clientWidth || 300));
  const opts = {
    title,
    width: width(),
    height,
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    // y from 0 (a flat rate must not look like a swing)
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.15 : 1] } },
    axes: [{ stroke: "#4a5261", grid: { stroke: "#e3e6ea" } }, { stroke: "#4a5261", label: yLabel, grid: { stroke: "#e3e6ea" }, size: 60 }],
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: s.stroke,
        width: 2,
        fill: stacked ? `${s.stroke}33` : undefined,
        points: { show: false },
        paths: stepped && window.uPlot.paths?.stepped ? window.uPlot.paths.stepped({ align: 1 }) : undefined,
      })),
    ],
  };
  const empty = [[], ...series.map(() => [])];
  const u = new window.uPlot(opts, empty, container);
  const ro = new ResizeObserver(() => u.setSize({ width: width(), height }));
  ro.observe(container);
  return {
    set(data) {
      u.setData(data);
    },
    destroy() {
      ro.disconnect();
      u.destroy();
    },
  };
}
