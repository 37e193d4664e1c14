// Checks docs/api/openapi.yaml against itself and against a running daemon.
//
//   node openapi-check.mjs SPEC BASE_URL [THREAT_ID]
//
// 1. The spec is valid OpenAPI 3.0 (@apidevtools/swagger-parser validate).
// 2. Every path + method in the spec is called on the daemon: with its
//    examples (must answer 2xx, except a PATCH of a threat that does not
//    exist) and with bad input (must answer an error status). Every answer's
//    status must be one the spec lists for that operation (`default` is not
//    accepted: statuses are listed explicitly), its Content-Type one the
//    spec lists, and a JSON body must match the listed schema (a small
//    JSON-schema checker below: type, nullable, enum, required, properties,
//    additionalProperties, items, allOf, oneOf, bounds, pattern, date-time).
// 3. An unknown /api path answers 404 and a wrong method 405 with Allow,
//    both in the Error shape.
// Exit status 0 when everything holds, 1 otherwise (each failure printed).
import SwaggerParser from "@apidevtools/swagger-parser";

const [specPath, base, threatIdArg] = process.argv.slice(2);
// Every call carries the admin key the test harness got (lib.sh: API_KEY);
// the 401/403 answers are checked by api-roles-check.mjs.
const auth = process.env.API_KEY ? { Authorization: `Bearer ${process.env.API_KEY}` } : {};
if (!specPath || !base) {
  console.error("usage: node openapi-check.mjs SPEC BASE_URL [THREAT_ID]");
  process.exit(2);
}

let failures = 0;
const fail = (msg) => {
  failures++;
  console.error(`FAIL: ${msg}`);
};

// ---- 1. the spec itself -------------------------------------------------
try {
  await SwaggerParser.validate(specPath);
  console.log(`ok: ${specPath} is valid OpenAPI`);
} catch (e) {
  console.error(`FAIL: ${specPath} is not valid OpenAPI: ${e.message}`);
  process.exit(1);
}
const api = await SwaggerParser.dereference(specPath);
if (!String(api.openapi).startsWith("3.0")) fail(`openapi version ${api.openapi}, want 3.0.x`);

// ---- a small JSON-schema checker (the subset the spec uses) -------------
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function typeOf(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v; // string, boolean, object
}

function check(schema, v, path, errs) {
  if (!schema) return;
  if (v === null) {
    if (!schema.nullable && schema.type) errs.push(`${path}: null not allowed`);
    return;
  }
  if (schema.allOf) for (const s of schema.allOf) check(s, v, path, errs);
  if (schema.oneOf) {
    const ok = schema.oneOf.filter((s) => {
      const e = [];
      check(s, v, path, e);
      return e.length === 0;
    }).length;
    if (ok !== 1) errs.push(`${path}: matches ${ok} of the oneOf schemas, want exactly 1`);
  }
  const t = typeOf(v);
  if (schema.type) {
    const good = schema.type === t || (schema.type === "number" && t === "integer");
    if (!good) {
      errs.push(`${path}: is ${t}, want ${schema.type}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(v)) errs.push(`${path}: ${JSON.stringify(v)} not in enum`);
  if (t === "integer" || t === "number") {
    if (schema.minimum !== undefined && v < schema.minimum) errs.push(`${path}: ${v} < minimum`);
    if (schema.maximum !== undefined && v > schema.maximum) errs.push(`${path}: ${v} > maximum`);
  }
  if (t === "string") {
    if (schema.pattern && !new RegExp(schema.pattern).test(v)) errs.push(`${path}: does not match ${schema.pattern}`);
    if (schema.format === "date-time" && !RFC3339.test(v)) errs.push(`${path}: not RFC 3339: ${v}`);
    if (schema.minLength !== undefined && v.length < schema.minLength) errs.push(`${path}: too short`);
  }
  if (t === "array") {
    if (schema.maxItems !== undefined && v.length > schema.maxItems) errs.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items) v.forEach((x, i) => check(schema.items, x, `${path}[${i}]`, errs));
  }
  if (t === "object") {
    for (const r of schema.required || []) if (!(r in v)) errs.push(`${path}: missing '${r}'`);
    const props = schema.properties || {};
    for (const [k, x] of Object.entries(v)) {
      if (k in props) check(props[k], x, `${path}.${k}`, errs);
      else if (schema.additionalProperties === false) errs.push(`${path}: unexpected field '${k}'`);
      else if (typeof schema.additionalProperties === "object") check(schema.additionalProperties, x, `${path}.${k}`, errs);
    }
  }
}

// ---- 2. every operation against the daemon ------------------------------
const covered = new Set();

async function call(method, tmplPath, realPath, { body, ctype, want2xx, wantError } = {}) {
  const op = api.paths[tmplPath][method.toLowerCase()];
  const label = `${method} ${realPath}`;
  let res, text;
  try {
    const headers = { ...auth };
    if (ctype) headers["Content-Type"] = ctype;
    res = await fetch(base + realPath, { method, headers, body });
    text = await res.text();
  } catch (e) {
    fail(`${label}: no answer: ${e.message}`);
    return null;
  }
  const st = String(res.status);
  covered.add(`${method} ${tmplPath}`);
  const resp = op.responses[st];
  if (!resp) {
    fail(`${label}: status ${st} is not listed in the spec (${Object.keys(op.responses).join(", ")})`);
    return null;
  }
  if (want2xx && !st.startsWith("2")) fail(`${label}: want a 2xx answer, got ${st}: ${text.slice(0, 200)}`);
  if (wantError && st.startsWith("2")) fail(`${label}: want an error status, got ${st}`);
  const got = (res.headers.get("content-type") || "").split(";")[0].trim();
  const content = resp.content || {};
  if (!(got in content)) {
    fail(`${label}: Content-Type '${got}' not listed for ${st} (${Object.keys(content).join(", ")})`);
    return null;
  }
  let json = null;
  if (got === "application/json") {
    try {
      json = JSON.parse(text);
    } catch (e) {
      fail(`${label}: body is not JSON: ${e.message}`);
      return null;
    }
    const errs = [];
    check(content[got].schema, json, "$", errs);
    for (const e of errs) fail(`${label} (${st}): ${e}`);
  }
  console.log(`ok: ${label} -> ${st}`);
  return { status: res.status, json, text, res };
}

const firstExample = (media) => {
  if (media.example !== undefined) return media.example;
  const ex = media.examples && Object.values(media.examples)[0];
  return ex ? ex.value : undefined;
};

let threatId = threatIdArg;
const listed = await call("GET", "/api/v1/threats", "/api/v1/threats?limit=1", { want2xx: true });
if (!threatId && listed && listed.json && listed.json.threats.length) threatId = listed.json.threats[0].id;
const haveThreat = Boolean(threatId);
let createdKeyId = "0";
threatId = threatId || "1";

for (const [tmplPath, item] of Object.entries(api.paths)) {
  for (const method of ["get", "post", "put", "patch", "delete"]) {
    const op = item[method];
    if (!op) continue;
    const M = method.toUpperCase();
    // /api/v1/apikeys/{id}: the key POST /api/v1/apikeys made just before
    const real = tmplPath.replace("{id}", tmplPath.startsWith("/api/v1/apikeys/") ? createdKeyId : threatId);
    if (op.requestBody) {
      for (const [ctype, media] of Object.entries(op.requestBody.content)) {
        const ex = firstExample(media);
        if (ex === undefined) {
          fail(`${M} ${tmplPath}: no example for ${ctype}`);
          continue;
        }
        const body = typeof ex === "string" ? ex : JSON.stringify(ex);
        const isPatchOfMissing = M === "PATCH" && !haveThreat;
        const r = await call(M, tmplPath, real, { body, ctype, want2xx: !isPatchOfMissing });
        if (tmplPath === "/api/v1/apikeys" && r && r.json && r.json.id) createdKeyId = r.json.id;
      }
      // bad input must be refused with a listed error status
      await call(M, tmplPath, real, { body: "{not json", ctype: "application/json", wantError: true });
    } else if (op["x-websocket"]) {
      // a WebSocket upgrade route (101): fetch cannot upgrade, so a plain GET
      // must get its documented refusal (426); test_api_ws.sh tests the stream
      await call(M, tmplPath, real, { wantError: true });
    } else {
      await call(M, tmplPath, real, { want2xx: true });
    }
  }
}

// documented error answers, one probe each
await call("GET", "/api/v1/threats", "/api/v1/threats?bogus=1", { wantError: true });
await call("GET", "/api/v1/threats", "/api/v1/threats?limit=0", { wantError: true });
await call("GET", "/api/v1/threats/{id}", "/api/v1/threats/abc", { wantError: true });
await call("GET", "/api/v1/threats/{id}", "/api/v1/threats/999999999", { wantError: true });
await call("PATCH", "/api/v1/threats/{id}", `/api/v1/threats/${threatId}`, {
  body: '{"status":"closed"}', ctype: "application/json", wantError: true,
});
await call("POST", "/api/v1/events", "/api/v1/events", { body: "[1,2]", ctype: "application/json", wantError: true });

for (const [tmplPath, item] of Object.entries(api.paths))
  for (const m of ["get", "post", "patch", "delete"])
    if (item[m] && !covered.has(`${m.toUpperCase()} ${tmplPath}`)) fail(`${m.toUpperCase()} ${tmplPath} was not exercised`);

// ---- 3. 404 and 405 -----------------------------------------------------
const errorSchema = api.components.schemas.Error;
async function probe(method, path, want, allowWanted) {
  try {
    const res = await fetch(base + path, { method, headers: auth });
    const json = await res.json();
    const errs = [];
    check(errorSchema, json, "$", errs);
    if (res.status !== want) fail(`${method} ${path}: status ${res.status}, want ${want}`);
    for (const e of errs) fail(`${method} ${path}: ${e}`);
    if (allowWanted && res.headers.get("allow") !== allowWanted)
      fail(`${method} ${path}: Allow '${res.headers.get("allow")}', want '${allowWanted}'`);
    console.log(`ok: ${method} ${path} -> ${res.status}`);
  } catch (e) {
    fail(`${method} ${path}: ${e.message}`);
  }
}
await probe("GET", "/api/v1/no-such-route", 404);
await probe("DELETE", "/api/v1/threats", 405, "GET");
await probe("PUT", "/api/v1/events", 405, "POST");
await probe("DELETE", `/api/v1/threats/${threatId}`, 405, "GET, PATCH");

if (failures) {
  console.error(`${failures} failure(s)`);
  process.exit(1);
}
console.log("openapi-check: all operations answer as documented");
