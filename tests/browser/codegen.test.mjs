// GraphQL Code Generator's client preset over the operations a TypeScript front end of
// askbase would write (operations/*.graphql, owner and visitor alike), on the committed
// schema.graphql: typed documents that `tsc --strict` accepts in use (operations/chat-events.ts),
// and a persisted-documents manifest that tests/web/test_clients.py then serves as the
// trusted documents of a server. Needs no server: SCHEMA and ARTIFACTS come from the test.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { generate } from "@graphql-codegen/cli";
import { Kind, buildSchema, parse, validate } from "graphql";

const OPERATIONS = join(process.cwd(), "operations");
const OUT = join(process.env.ARTIFACTS, "client-preset");
const GENERATED = join(OUT, "gql");
const MANIFEST = join(GENERATED, "persisted-documents.json");

function operationNames() {
  return readdirSync(OPERATIONS)
    .filter((name) => name.endsWith(".graphql"))
    .flatMap((name) => parse(readFileSync(join(OPERATIONS, name), "utf8")).definitions)
    .filter((definition) => definition.kind === Kind.OPERATION_DEFINITION)
    .map((definition) => definition.name.value)
    .sort();
}

const generated = (async () => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  await generate(
    {
      schema: process.env.SCHEMA,
      documents: join(OPERATIONS, "*.graphql"),
      generates: {
        [GENERATED + "/"]: {
          preset: "client",
          presetConfig: { persistedDocuments: true },
          config: { scalars: { DateTime: "string", JSON: "unknown" }, enumsAsTypes: true, useTypeImports: true },
        },
      },
      silent: true,
    },
    true,
  );
  return JSON.parse(readFileSync(MANIFEST, "utf8"));
})();

test("the persisted-documents manifest holds every operation, keyed by its SHA-256", async () => {
  const manifest = await generated;
  const schema = buildSchema(readFileSync(process.env.SCHEMA, "utf8"));
  const names = [];
  for (const [hash, document] of Object.entries(manifest)) {
    assert.equal(hash, "sha256:" + createHash("sha256").update(document).digest("hex"));
    const parsed = parse(document);
    assert.deepEqual(validate(schema, parsed), [], document);
    names.push(...parsed.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).map((d) => d.name.value));
  }
  const expected = operationNames();
  assert.ok(expected.length >= 15, expected.join());
  assert.deepEqual(names.sort(), expected);
});

test("the typed documents compile in use under tsc --strict", async () => {
  await generated;
  // Generated code and its use sit together, with this folder's packages beside them.
  copyFileSync(join(OPERATIONS, "chat-events.ts"), join(OUT, "chat-events.ts"));
  symlinkSync(join(process.cwd(), "node_modules"), join(OUT, "node_modules"), "dir");
  const tsc = join(process.cwd(), "node_modules", ".bin", "tsc");
  const options = ["--noEmit", "--strict", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler"];
  try {
    execFileSync(tsc, [...options, join(OUT, "chat-events.ts")], { cwd: OUT, stdio: "pipe" });
  } catch (error) {
    assert.fail(`tsc --strict failed:\n${error.stdout}${error.stderr}`);
  }
});
