// postinstall: Hardhat 3 needs Node >= 22 and its native EDR binding. When npm itself runs on an
// older Node, npm skips the binding (its engines field says >= 22). This script runs under the
// Node 22 that the `node` devDependency puts first on PATH; if the binding cannot be loaded it
// reinstalls once, now under Node 22, so that the optional binding is fetched. See TOOLCHAIN notes
// in the README.
//
// It runs only in this repository's own checkout, never when Reins is installed as a dependency (npm runs
// a dependency's postinstall too): it is a no-op unless (1) the package folder is not inside a node_modules
// folder, (2) the folder holds hardhat.config.ts and contracts/ (the repository only: the package's `files`
// list ships neither), and (3) npm runs it for this folder itself (npm_config_local_prefix, the project npm was
// invoked in, is this folder; unset when run by hand).
"use strict";
const { execSync } = require("node:child_process");
const { existsSync, realpathSync } = require("node:fs");
const path = require("node:path");

function isOwnCheckout() {
  const root = realpathSync(path.resolve(__dirname, ".."));
  if (root.split(path.sep).includes("node_modules")) return false;
  if (!existsSync(path.join(root, "hardhat.config.ts")) || !existsSync(path.join(root, "contracts"))) return false;
  const prefix = process.env.npm_config_local_prefix;
  if (prefix && existsSync(prefix) && realpathSync(prefix) !== root) return false;
  return true;
}

if (!isOwnCheckout()) process.exit(0);
if (process.env.REINS_EDR_REINSTALL === "1") process.exit(0);

function edrLoads() {
  try {
    require("@nomicfoundation/edr");
    return true;
  } catch {
    return false;
  }
}

if (edrLoads()) process.exit(0);

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.warn(`[reins] postinstall running on Node ${process.versions.node}; Hardhat 3 needs Node 22.`);
}
console.log("[reins] EDR native binding missing; reinstalling under Node " + process.versions.node);
execSync("npm install --no-save --ignore-scripts --no-audit --no-fund", {
  stdio: "inherit",
  env: { ...process.env, REINS_EDR_REINSTALL: "1" },
});
if (!edrLoads()) {
  console.error("[reins] could not load @nomicfoundation/edr after reinstall");
  process.exit(1);
}
