// Baseline for bench/bench_pqc: the same ML-KEM / ML-DSA operations with
// @noble/post-quantum (tests/integration/node_modules, pinned by its lock file),
// on the same machine in the same run. Prints JSON lines {"alg","op","ops_per_s"}.
// Usage: node bench/pqc_noble_bench.mjs [SECONDS_PER_OP]
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const nm = path.join(here, '..', 'tests', 'integration', 'node_modules', '@noble', 'post-quantum');
const { ml_kem512, ml_kem768, ml_kem1024 } = await import(pathToFileURL(path.join(nm, 'ml-kem.js')));
const { ml_dsa44, ml_dsa65, ml_dsa87 } = await import(pathToFileURL(path.join(nm, 'ml-dsa.js')));
void createRequire;

const secs = Number(process.argv[2] || 0.5);
function bench(alg, op, prepare, fn) {
  let n = 0, state = prepare();
  for (let i = 0; i < 20; i++) fn(state); // JIT warm-up, not timed
  const t0 = process.hrtime.bigint();
  let el = 0;
  for (;;) {
    if (n % 16 === 0) state = prepare();
    const a = process.hrtime.bigint();
    fn(state);
    el += Number(process.hrtime.bigint() - a);
    n++;
    if (Number(process.hrtime.bigint() - t0) / 1e9 >= secs) break;
  }
  console.log(JSON.stringify({ alg, op, n, ops_per_s: Math.round(n / (el / 1e9)) }));
}
for (const [alg, k] of [['ML-KEM-512', ml_kem512], ['ML-KEM-768', ml_kem768], ['ML-KEM-1024', ml_kem1024]]) {
  bench(alg, 'keygen', () => randomBytes(64), (s) => k.keygen(s));
  bench(alg, 'encaps', () => ({ keys: k.keygen(randomBytes(64)), m: randomBytes(32) }),
    (s) => k.encapsulate(s.keys.publicKey, s.m));
  bench(alg, 'decaps', () => { const keys = k.keygen(randomBytes(64)); return { keys, c: k.encapsulate(keys.publicKey).cipherText }; },
    (s) => k.decapsulate(s.c, s.keys.secretKey));
}
for (const [alg, d] of [['ML-DSA-44', ml_dsa44], ['ML-DSA-65', ml_dsa65], ['ML-DSA-87', ml_dsa87]]) {
  bench(alg, 'keygen', () => randomBytes(32), (s) => d.keygen(s));
  bench(alg, 'sign', () => ({ keys: d.keygen(randomBytes(32)), m: randomBytes(64), r: randomBytes(32) }),
    (s) => d.sign(s.m, s.keys.secretKey, { extraEntropy: s.r }));
  bench(alg, 'verify', () => { const keys = d.keygen(randomBytes(32)); const m = randomBytes(64);
    return { keys, m, sig: d.sign(m, keys.secretKey) }; },
    (s) => d.verify(s.sig, s.m, s.keys.publicKey));
}
