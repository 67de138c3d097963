#!/usr/bin/env node
/**
 * `reins` launcher: runs the TypeScript CLI (src/cli/main.ts) through tsx. Hardhat 3 and this project need
 * Node ≥ 22.13; on an older Node the launcher re-runs itself with the Node 22 of the `node` devDependency.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
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
