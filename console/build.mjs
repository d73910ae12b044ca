// Builds dist/ from src/: one bundle for the script and one for the styles, each named by
// a hash of its content, and index.html naming them. esbuild's output depends only on its
// inputs and version, so a rebuild of unchanged sources gives the same bytes:
// `node build.mjs --check` builds in memory and fails when dist/ differs (CI runs it
// through tests/web/test_console.py).
import { build } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST = join(HERE, "dist");
const MODULES = join(HERE, "node_modules");
const version = (name) => JSON.parse(readFileSync(join(MODULES, name, "package.json"), "utf8")).version;

async function bundle() {
  const result = await build({
    absWorkingDir: HERE,
    entryPoints: { console: "src/main.ts", style: "src/styles.css" },
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2022", "chrome111", "firefox113", "safari16.4"],
    entryNames: "[name]-[hash]",
    outdir: "dist/assets",
    legalComments: "none",
    charset: "utf8",
    write: false,
    logLevel: "warning",
  });
  const files = new Map();
  for (const file of result.outputFiles) files.set(relative(DIST, file.path), Buffer.from(file.contents));
  const names = [...files.keys()].map((path) => basename(path));
  const script = names.find((name) => name.endsWith(".js"));
  const style = names.find((name) => name.endsWith(".css"));
  const page = readFileSync(join(HERE, "src", "index.html"), "utf8")
    .replace("{{script}}", script)
    .replace("{{style}}", style);
  files.set("index.html", Buffer.from(page));
  files.set("licenses/graphql-ws.LICENSE.md", readFileSync(join(MODULES, "graphql-ws", "LICENSE.md")));
  files.set(
    "VERSIONS",
    Buffer.from(
      [
        "Built by console/build.mjs (`make console`) from console/src; do not edit.",
        `esbuild ${version("esbuild")}`,
        `graphql-ws ${version("graphql-ws")} (bundled; MIT, licenses/graphql-ws.LICENSE.md)`,
        `typescript ${version("typescript")} (type check only)`,
        `@graphql-codegen/client-preset ${version("@graphql-codegen/client-preset")} (src/gql/)`,
        "",
      ].join("\n"),
    ),
  );
  return files;
}

function existing(folder = DIST, prefix = "") {
  const files = new Map();
  let entries = [];
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return files;
  }
  for (const entry of entries) {
    const path = join(prefix, entry.name);
    if (entry.isDirectory()) for (const [name, data] of existing(join(folder, entry.name), path)) files.set(name, data);
    else files.set(path, readFileSync(join(folder, entry.name)));
  }
  return files;
}

const files = await bundle();
if (process.argv.includes("--check")) {
  const built = existing();
  const differ = [...new Set([...files.keys(), ...built.keys()])]
    .filter((name) => !(files.get(name) && built.get(name) && files.get(name).equals(built.get(name))))
    .sort();
  if (differ.length) {
    console.error(`console/dist is not what console/src builds (run \`make console\`): ${differ.join(", ")}`);
    process.exit(1);
  }
} else {
  rmSync(DIST, { recursive: true, force: true });
  for (const [name, data] of files) {
    mkdirSync(dirname(join(DIST, name)), { recursive: true });
    writeFileSync(join(DIST, name), data);
  }
  const sizes = [...files].filter(([name]) => name.startsWith("assets/")).map(([name, data]) => `${name} ${data.length} B`);
  console.log(`console/dist: ${sizes.join(", ")}`);
}
