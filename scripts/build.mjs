// Builds dist/ from src/ with esbuild: `npm run build`, `prepare` (npm install), and bin/mend when src/ is newer.
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

// Bundled: small pure-JS packages (fewer files to resolve at start). Left in node_modules: native
// modules, packages that load files or workers at run time, and the big lazily loaded chat SDKs.
const EXTERNAL = [
  "better-sqlite3",
  "pino",
  "pino-pretty",
  "@slack/*",
  "discord.js",
  "@discordjs/*",
  "undici",
  "prom-client",
];

export async function buildDist() {
  const { build } = await import("esbuild");
  // Chunk names carry content hashes: start from an empty folder so old chunks do not pile up.
  rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: ["src/entry/mend.ts"],
    outdir: "dist",
    entryNames: "[name]",
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: [...EXTERNAL, ...Object.keys(pkg.devDependencies ?? {})],
    // Bundled CommonJS packages call require(); give the ESM bundle one.
    banner: {
      js: 'import { createRequire as __mendRequire } from "node:module"; const require = __mendRequire(import.meta.url);',
    },
    logLevel: "warning",
    legalComments: "none",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await buildDist();
  } catch (err) {
    // `prepare` in a production install (no dev dependencies): a shipped dist/ is used as it is.
    if (!process.argv.includes("--if-possible") || err?.code !== "ERR_MODULE_NOT_FOUND") throw err;
    console.error("mend: esbuild is not installed; dist/ was not rebuilt");
  }
}
