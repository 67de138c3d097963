// postinstall: Hardhat 3 needs Node >= 22 and its native EDR binding. When npm itself runs on an
// older Node, npm skips the binding (its engines field says >= 22). This script runs under the
// Node 22 that the `node` devDependency puts first on PATH; if the binding cannot be loaded it
// reinstalls once, now under Node 22, so that the optional binding is fetched. See TOOLCHAIN notes
// in the README.
"use strict";
const { execSync } = require("node:child_process");

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
