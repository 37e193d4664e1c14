// Makes a JWS compact token (RFC 7515) for the auth tests, with node's own
// crypto (independent of the daemon's code).
// usage: node jwt-make.mjs ALG KEYFILE CLAIMS_JSON [HEADER_JSON]
//   ALG HS256: KEYFILE holds the secret (trailing newline dropped)
//   ALG EdDSA: KEYFILE is a PEM Ed25519 private key (RFC 8037)
//   ALG none:  no signature (RFC 7519 section 6), KEYFILE ignored
//   HEADER_JSON replaces the header {"alg": ALG, "typ": "JWT"} (the signing
//   algorithm is still ALG: algorithm-confusion tokens).
import { createHmac, createPrivateKey, sign } from "node:crypto";
import { readFileSync } from "node:fs";

const [alg, keyFile, claims, header] = process.argv.slice(2);
const b64u = (b) => Buffer.from(b).toString("base64url");
const hdr = header ?? JSON.stringify({ alg, typ: "JWT" });
const input = `${b64u(hdr)}.${b64u(claims)}`;
let sig = "";
if (alg === "HS256") {
  const key = readFileSync(keyFile, "utf8").replace(/\r?\n$/, "");
  sig = createHmac("sha256", key).update(input).digest("base64url");
} else if (alg === "EdDSA") {
  sig = sign(null, Buffer.from(input), createPrivateKey(readFileSync(keyFile))).toString("base64url");
} else if (alg !== "none") {
  throw new Error(`unknown alg ${alg}`);
}
process.stdout.write(`${input}.${sig}\n`);
