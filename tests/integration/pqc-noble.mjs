// Cross-check of our ML-KEM and ML-DSA with @noble/post-quantum (issue 4, item 5).
// Usage: node pqc-noble.mjs TOOL_PQC [N]
// For N random seeds (default 200) per parameter set, asks tool_pqc (our C code)
// for keygen / encapsulation / decapsulation (valid and tampered ciphertext) /
// deterministic and hedged signing / verification, and compares every byte
// with noble computed here from the same seeds. Prints one summary line per
// parameter set and exits 1 on any difference.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';

const tool = process.argv[2];
const N = Number(process.argv[3] || 200);
if (!tool) {
  console.error('usage: node pqc-noble.mjs TOOL_PQC [N]');
  process.exit(2);
}

const hex = (b) => Buffer.from(b).toString('hex');
const hexOrDash = (b) => (b.length ? hex(b) : '-');

const kems = [['ML-KEM-512', ml_kem512], ['ML-KEM-768', ml_kem768], ['ML-KEM-1024', ml_kem1024]];
const dsas = [['ML-DSA-44', ml_dsa44], ['ML-DSA-65', ml_dsa65], ['ML-DSA-87', ml_dsa87]];

// Requests, with the inputs kept for the noble side.
const reqs = [];
for (const [name, kem] of kems) {
  for (let i = 0; i < N; i++) {
    const d = randomBytes(32), z = randomBytes(32), m = randomBytes(32);
    const flip = randomBytes(2).readUInt16LE(0);
    reqs.push({ kind: 'kem', name, kem, d, z, m, flip,
      line: `kem ${name} ${hex(d)} ${hex(z)} ${hex(m)} ${flip}` });
  }
}
for (const [name, dsa] of dsas) {
  for (let i = 0; i < N; i++) {
    const xi = randomBytes(32), rnd = randomBytes(32);
    const msg = randomBytes(randomBytes(2).readUInt16LE(0) % 1025); // 0..1024 bytes
    const ctx = randomBytes(randomBytes(1)[0] % 256); // 0..255 bytes
    reqs.push({ kind: 'dsa', name, dsa, xi, rnd, msg, ctx,
      line: `dsa ${name} ${hex(xi)} ${hex(rnd)} ${hexOrDash(msg)} ${hexOrDash(ctx)}` });
  }
}

const run = spawnSync(tool, [], {
  input: reqs.map((r) => r.line).join('\n') + '\n',
  maxBuffer: 1 << 30,
  encoding: 'utf8',
});
if (run.status !== 0) {
  console.error(`tool_pqc exited ${run.status}: ${run.stderr}`);
  process.exit(1);
}
const answers = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
if (answers.length !== reqs.length) {
  console.error(`tool_pqc answered ${answers.length} of ${reqs.length} requests`);
  process.exit(1);
}

const stats = new Map();
let failures = 0;
function check(r, what, ours, theirs) {
  const s = stats.get(r.name) || { cases: 0, checks: 0, bad: 0 };
  s.checks++;
  if (ours !== theirs) {
    s.bad++;
    failures++;
    if (failures <= 20) console.error(`DIFF ${r.name} ${what}: request "${r.line.slice(0, 120)}..."`);
  }
  stats.set(r.name, s);
}

reqs.forEach((r, i) => {
  const a = answers[i];
  const s = stats.get(r.name) || { cases: 0, checks: 0, bad: 0 };
  s.cases++;
  stats.set(r.name, s);
  if (a.error) {
    check(r, 'tool error ' + a.error, 'error', 'ok');
    return;
  }
  if (r.kind === 'kem') {
    const { publicKey, secretKey } = r.kem.keygen(Buffer.concat([r.d, r.z]));
    check(r, 'ek', a.ek, hex(publicKey));
    check(r, 'dk', a.dk, hex(secretKey));
    const { cipherText, sharedSecret } = r.kem.encapsulate(publicKey, r.m);
    check(r, 'ct', a.ct, hex(cipherText));
    check(r, 'ss', a.ss, hex(sharedSecret));
    check(r, 'ss_dec', a.ss_dec, hex(r.kem.decapsulate(cipherText, secretKey)));
    const bad = Buffer.from(cipherText);
    bad[r.flip % bad.length] ^= 0x01;
    check(r, 'ct_bad', a.ct_bad, hex(bad));
    check(r, 'ss_rej (implicit rejection)', a.ss_rej, hex(r.kem.decapsulate(bad, secretKey)));
  } else {
    const { publicKey, secretKey } = r.dsa.keygen(r.xi);
    check(r, 'pk', a.pk, hex(publicKey));
    check(r, 'sk', a.sk, hex(secretKey));
    const det = r.dsa.sign(r.msg, secretKey, { context: r.ctx, extraEntropy: false });
    check(r, 'sig (deterministic)', a.sig_det, hex(det));
    const hedged = r.dsa.sign(r.msg, secretKey, { context: r.ctx, extraEntropy: r.rnd });
    check(r, 'sig (hedged, given rnd)', a.sig_rnd, hex(hedged));
    check(r, 'our verify of our sig', a.ok_det && a.ok_rnd, true);
    check(r, 'our verify refuses a changed message', a.ok_bad, false);
    const ours = Buffer.from(a.sig_det, 'hex');
    check(r, 'noble verifies our sig', r.dsa.verify(ours, r.msg, publicKey, { context: r.ctx }), true);
  }
});

for (const [name, s] of stats) {
  console.log(`${name}: ${s.cases} seeds, ${s.checks} comparisons, ${s.bad} differences`);
}
if (failures) {
  console.error(`FAIL: ${failures} differences with @noble/post-quantum`);
  process.exit(1);
}
console.log('all equal to @noble/post-quantum');
