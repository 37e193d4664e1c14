// Validates CycloneDX JSON documents against the CycloneDX 1.6 JSON schema
// shipped by the npm package @cyclonedx/cyclonedx-library
// (res/schema/bom-1.6.SNAPSHOT.schema.json and the spdx / jsf schemas it
// references), with ajv (draft-07) and ajv-formats. Nothing is downloaded.
//
// usage: node cbom-validate.mjs FILE...   exit 0 all valid, 1 otherwise
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);
const lib = dirname(require.resolve("@cyclonedx/cyclonedx-library/package.json"));
const dir = join(lib, "res", "schema");
const load = (f) => JSON.parse(readFileSync(join(dir, f), "utf8"));

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
// Formats of the CycloneDX schema that ajv-formats does not define (no
// CBOM field of ours uses them): a light check instead of none.
ajv.addFormat("iri-reference", /^[^\s]*$/u);
ajv.addFormat("idn-email", /^[^\s@]+@[^\s@]+$/u);
// The bom schema refers to "spdx.SNAPSHOT.schema.json" and
// "jsf-0.82.SNAPSHOT.schema.json" relative to its $id; those files carry
// other $ids, so they are registered under the URLs the refs resolve to.
const base = "http://cyclonedx.org/schema/";
for (const f of ["spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"]) {
  const s = load(f);
  delete s.$id;
  ajv.addSchema(s, base + f);
}
const validate = ajv.compile(load("bom-1.6.SNAPSHOT.schema.json"));

let bad = 0;
for (const file of process.argv.slice(2)) {
  let doc;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    console.log(`${file}: not JSON: ${e.message}`);
    bad++;
    continue;
  }
  if (validate(doc)) {
    console.log(`${file}: valid CycloneDX 1.6`);
  } else {
    bad++;
    console.log(`${file}: INVALID`);
    for (const e of validate.errors.slice(0, 20))
      console.log(`  ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  }
}
process.exit(bad ? 1 : 0);
