// The dashboard's pure functions, in node (no browser): values worked out by hand.
//   node tests/browser/units.mjs
import assert from "node:assert/strict";
import { histQuantile } from "../../web/js/pages/overview.js";
import { forest } from "../../web/js/pages/agents.js";
import { fmtBytes, fmtSeconds } from "../../web/js/dom.js";

let n = 0;
const t = (name, fn) => {
  fn();
  n++;
  console.log(`ok: ${name}`);
};
const near = (a, b) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

// Buckets 1 ms, 10 ms, +Inf; counts per bucket (not cumulative).
const H = (c) => ({ buckets: [{ le: 0.001, count: c[0] }, { le: 0.01, count: c[1] }, { le: "+Inf", count: c[2] }] });
t("histQuantile: interpolates inside the bucket holding the rank", () => {
  const prev = H([10, 10, 0]);
  const cur = H([60, 50, 10]); // 50, 40, 10 new observations
  near(histQuantile(prev, cur, 0.5), 0.001); // rank 50 = all of bucket 1
  near(histQuantile(prev, cur, 0.75), 0.001 + 0.009 * (25 / 40)); // 0.006625
  near(histQuantile(prev, cur, 0.9), 0.01); // rank 90 = end of bucket 2
  near(histQuantile(prev, cur, 0.25), 0.001 * (25 / 50)); // 0.0005
});
t("histQuantile: the +Inf bucket gives the largest finite bound", () => {
  near(histQuantile(H([0, 0, 0]), H([50, 40, 10]), 0.99), 0.01);
});
t("histQuantile: nothing observed between the snapshots is null", () => {
  assert.equal(histQuantile(H([5, 5, 5]), H([5, 5, 5]), 0.5), null);
  assert.equal(histQuantile(null, undefined, 0.5), null);
});
t("histQuantile: no previous snapshot counts from zero", () => {
  near(histQuantile(null, H([0, 4, 0]), 0.5), 0.001 + 0.009 * 0.5);
});
t("forest: parents, children, orphans and self-parents", () => {
  const f = forest([
    { id: 1, parent: null },
    { id: 2, parent: 1 },
    { id: 3, parent_id: "1" },
    { id: 4, parent: 2 },
    { id: 5, parent: 99 }, // unknown parent: a root
    { id: 6, parent: 6 }, // its own parent: a root
  ]);
  assert.deepEqual(
    f.map((a) => a.id),
    [1, 5, 6]
  );
  assert.deepEqual(
    f[0].children.map((a) => a.id),
    [2, 3]
  );
  assert.deepEqual(
    f[0].children[0].children.map((a) => a.id),
    [4]
  );
});
t("fmtBytes and fmtSeconds", () => {
  assert.equal(fmtBytes(707), "707 B");
  assert.equal(fmtBytes(1536), "1.5 KiB");
  assert.equal(fmtBytes(3 * 1024 * 1024), "3.0 MiB");
  assert.equal(fmtSeconds(0.000175), "175 \u00b5s");
  assert.equal(fmtSeconds(0.0125), "12.5 ms");
  assert.equal(fmtSeconds(2), "2.00 s");
  assert.equal(fmtSeconds(null), "\u2013");
});
console.log(`${n} passed, 0 failed`);
