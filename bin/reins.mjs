#!/usr/bin/env node
/**
 * `reins` launcher. Runs the compiled CLI (dist/src/cli/main.js, built by `npm run build`) when it is there and
 * not stale; in a repository checkout without a fresh build it falls back to the TypeScript sources through tsx
 * (about 2 s slower per call). Stale means: some file under src/ or types/ is newer than dist/.build-stamp
 * (written at the end of every build); an installed package has no src/, so its dist/ is always used.
 * `REINS_CLI_SOURCE=1` forces the sources (tsx), `REINS_CLI_SOURCE=0` forces dist/.
 *
 * Hardhat 3 and this project need Node ≥ 22.13; on an older Node the launcher re-runs itself with the Node 22
 * of the `node` devDependency.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  const node22 = path.join(root, "node_modules", "node", "bin", "node");
  if (!existsSync(node22) || process.env.REINS_NODE_REEXEC) {
    process.stderr.write(`reins: Node >= 22.13 is needed (this is ${process.versions.node}); run npm ci first\n`);
    process.exit(1);
  }
  const r = spawnSync(node22, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, REINS_NODE_REEXEC: "1" },
  });
  process.exit(r.status ?? 1);
}

/** Newest modification time (ms) of the .ts files under `dir` (0 when there is none). */
function newest(dir) {
  let max = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) max = Math.max(max, newest(p));
    else if (e.name.endsWith(".ts")) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

function distIsUsable() {
  const choice = process.env.REINS_CLI_SOURCE;
  if (choice === "1") return false;
  const entry = path.join(root, "dist", "src", "cli", "main.js");
  if (!existsSync(entry)) return false;
  if (choice === "0" || !existsSync(path.join(root, "src"))) return true;
  const stamp = path.join(root, "dist", ".build-stamp");
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return newest(path.join(root, "src")) <= built && newest(path.join(root, "types")) <= built;
}

if (distIsUsable()) {
  const { main } = await import(pathToFileURL(path.join(root, "dist", "src", "cli", "main.js")).href);
  process.exit(await main(process.argv.slice(2)));
}

let register;
try {
  ({ register } = await import("tsx/esm/api"));
} catch {
  process.stderr.write("reins: tsx is not installed: run npm ci first\n");
  process.exit(1);
}
register();
const { main } = await import(pathToFileURL(path.join(root, "src", "cli", "main.ts")).href);
process.exit(await main(process.argv.slice(2)));
