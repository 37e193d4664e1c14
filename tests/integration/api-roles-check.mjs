// Walks every operation of docs/api/openapi.yaml against a running daemon
// with no credentials and with every role (API keys and JWTs), and checks the
// answer against the operation's x-required-role:
//   none            -> never 401/403
//   caller allowed  -> neither 401 nor 403
//   caller too low  -> exactly 403 (Error, code "forbidden")
//   no credentials  -> exactly 401 (Error, code "unauthorized", WWW-Authenticate: Bearer)
// It also fails when the route table of src/api/server.c and the spec differ
// (a route missing on either side, or another role).
//
// usage: node api-roles-check.mjs SPEC BASE_URL SERVER_C CREDS_JSON
//   CREDS_JSON: {"apikey": {"viewer": "mwk_...", ...}, "jwt": {"viewer": "ey...", ...}}
import { readFileSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";

const [specPath, base, serverC, credsPath] = process.argv.slice(2);
const creds = JSON.parse(readFileSync(credsPath, "utf8"));
const api = await SwaggerParser.dereference(specPath);
let failures = 0;
const fail = (m) => {
  failures++;
  console.error(`FAIL: ${m}`);
};

// role order and the ingest exception (src/api/auth.c mw_api_role_allows)
const rank = { viewer: 2, analyst: 3, admin: 4 };
function allows(have, need) {
  if (need === "none") return true;
  if (need === "ingest") return have === "ingest" || have === "analyst" || have === "admin";
  if (have === "ingest") return false;
  return rank[have] >= rank[need];
}

// ---- 1. the route table of server.c against the spec ---------------------
const src = readFileSync(serverC, "utf8");
const table = src.slice(src.indexOf("static const struct route routes[] = {"));
const tableEnd = table.indexOf("};");
const re = /\{"(GET|POST|PUT|PATCH|DELETE)",\s*"([^"]+)",\s*MW_ROLE_([A-Z]+),\s*([A-Z_0-9|]+),/g;
const fromTable = new Map();
for (const m of table.slice(0, tableEnd).matchAll(re)) fromTable.set(`${m[1]} ${m[2]}`, m[3].toLowerCase());
if (fromTable.size < 10) fail(`only ${fromTable.size} routes parsed from ${serverC}`);
const fromSpec = new Map();
for (const [p, item] of Object.entries(api.paths))
  for (const m of ["get", "post", "put", "patch", "delete"]) {
    const op = item[m];
    if (!op) continue;
    const role = op["x-required-role"];
    if (!role) fail(`${m.toUpperCase()} ${p}: no x-required-role in the spec`);
    fromSpec.set(`${m.toUpperCase()} ${p}`, role);
    const pub = Array.isArray(op.security) && op.security.length === 0;
    if ((role === "none") !== pub) fail(`${m.toUpperCase()} ${p}: x-required-role ${role} but security ${JSON.stringify(op.security)}`);
  }
for (const [k, r] of fromTable) {
  if (!fromSpec.has(k)) fail(`route ${k} (${r}) is in server.c but not in the spec`);
  else if (fromSpec.get(k) !== r) fail(`route ${k}: server.c says ${r}, the spec ${fromSpec.get(k)}`);
}
for (const k of fromSpec.keys()) if (!fromTable.has(k)) fail(`operation ${k} is in the spec but not in server.c's table`);
console.log(`ok: ${fromTable.size} routes in server.c, ${fromSpec.size} operations in the spec`);

// ---- 2. every operation, every caller -------------------------------------
const callers = [{ name: "anonymous", role: null, headers: {} }];
for (const kind of ["apikey", "jwt"])
  for (const [role, tok] of Object.entries(creds[kind] || {}))
    callers.push({ name: `${kind}:${role}`, role, headers: { Authorization: `Bearer ${tok}` } });

const example = (media) => {
  if (media.example !== undefined) return media.example;
  const ex = media.examples && Object.values(media.examples)[0];
  return ex ? ex.value : undefined;
};

let n = 0;
for (const [tmpl, item] of Object.entries(api.paths)) {
  for (const m of ["get", "post", "put", "patch", "delete"]) {
    const op = item[m];
    if (!op) continue;
    const M = m.toUpperCase();
    const need = op["x-required-role"];
    // ids that exist for threats (1 may not, 404 is fine: only 401/403 matter), none for keys
    const path = tmpl.replace("{id}", tmpl.startsWith("/api/v1/apikeys/") ? "ffffffffffff" : "1");
    let body, ctype;
    if (op.requestBody) {
      const [ct, media] = Object.entries(op.requestBody.content)[0];
      const ex = example(media);
      ctype = ct;
      body = ex === undefined ? "" : typeof ex === "string" ? ex : JSON.stringify(ex);
    }
    for (const c of callers) {
      const headers = { ...c.headers };
      if (ctype) headers["Content-Type"] = ctype;
      let res, text;
      try {
        res = await fetch(base + path, { method: M, headers, body });
        text = await res.text();
      } catch (e) {
        fail(`${M} ${path} as ${c.name}: no answer: ${e.message}`);
        continue;
      }
      n++;
      const st = res.status;
      const label = `${M} ${path} (needs ${need}) as ${c.name}: ${st}`;
      let want;
      if (need === "none") want = "any";
      else if (c.role === null) want = 401;
      else want = allows(c.role, need) ? "any" : 403;
      if (want === "any") {
        if (st === 401 || st === 403) fail(`${label}, want neither 401 nor 403: ${text.slice(0, 200)}`);
        continue;
      }
      if (st !== want) {
        fail(`${label}, want ${want}: ${text.slice(0, 200)}`);
        continue;
      }
      let code = null;
      try {
        code = JSON.parse(text).error.code;
      } catch {
        /* checked below */
      }
      if (code !== (want === 401 ? "unauthorized" : "forbidden")) fail(`${label}: error code ${code}`);
      if (want === 401 && !/^Bearer /.test(res.headers.get("www-authenticate") || ""))
        fail(`${label}: WWW-Authenticate '${res.headers.get("www-authenticate")}'`);
    }
  }
}
console.log(`ok: ${n} requests, ${callers.length} callers`);
if (failures) {
  console.error(`${failures} failure(s)`);
  process.exit(1);
}
console.log("api-roles-check: every operation answers as its x-required-role says");
